// Shared by the pages: configuration, texts, the API with its CSRF header, times, events.

const configNode = document.getElementById("page-config");
export const config = JSON.parse(configNode ? configNode.textContent : "{}");
const texts = config.texts || {};

/** The interface text of `key` with its {placeholders} filled in from `values`. */
export function t(key, values = {}) {
  let text = texts[key] || key;
  for (const [name, value] of Object.entries(values)) {
    text = text.split(`{${name}}`).join(String(value));
  }
  return text;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Call the REST API; JSON in and out; an error answer throws an ApiError with its message. */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && config.csrf) headers["X-CSRF-Token"] = config.csrf;
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, "unauthenticated", "not logged in");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || "error", error.message || response.statusText);
  }
  return data;
}

// -- times: shown in the browser's time zone, which is named next to them -----------------
export const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const locale = config.lang === "zh-CN" ? "zh-CN" : "en-GB";
const dateTime = new Intl.DateTimeFormat(locale, {
  year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});

function offsetText(date) {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes >= 0 ? "+" : "−";
  const abs = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

export function zoneLabel() {
  return t("times_in_zone", { zone: `${zone} (${offsetText(new Date())})` });
}

export function formatDateTime(value) {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? "" : dateTime.format(date);
}

const pad = (n) => String(n).padStart(2, "0");

/** A time as the value of an <input type="datetime-local" step="1"> (local time). */
export function toLocalInput(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The time of a datetime-local value (local time), or NaN. */
export function fromLocalInput(text) {
  return text ? new Date(text).getTime() : NaN;
}

export function formatDuration(ms) {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts = [];
  if (h) parts.push(t("dur_h", { n: h }));
  if (m) parts.push(t("dur_min", { n: m }));
  if (s || !parts.length) parts.push(t("dur_s", { n: s }));
  return parts.join(" ");
}

export function statusLabel(status) {
  return t(`status_${status}`);
}

// -- live task events (server-sent events) ---------------------------------------------------
/** Follow task changes; `handlers.status(task)`, `handlers.progress(event)`,
 *  `handlers.open()` (also after each reconnect); `liveNode` shows the connection state. */
export function followTasks(handlers, liveNode) {
  const source = new EventSource("/api/v1/events");
  const show = (live) => {
    if (!liveNode) return;
    liveNode.classList.toggle("is-live", live);
    liveNode.textContent = live ? t("live") : t("reconnecting");
  };
  source.addEventListener("open", () => {
    show(true);
    if (handlers.open) handlers.open();
  });
  source.addEventListener("error", () => show(false));
  source.addEventListener("status", (e) => handlers.status && handlers.status(JSON.parse(e.data)));
  source.addEventListener("progress", (e) => handlers.progress && handlers.progress(JSON.parse(e.data)));
  return source;
}

/** Start a download of `url` without leaving the page (a hidden <a download> click). */
export function download(url, name) {
  const link = document.createElement("a");
  link.href = url;
  link.download = name || "";
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
}

/** Build an element: el("span", {class: "x"}, "text", child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

export function progressBar(task) {
  const pct = task.status === "done" ? 100 : Math.max(0, Math.min(100, task.progress || 0));
  const bar = el("div", {
    class: `bar${task.status === "done" ? " is-done" : ""}${task.status === "failed" ? " is-failed" : ""}`,
    role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(pct)),
    "aria-label": t("progress"),
  });
  bar.append(el("span", { style: `width:${pct}%` }));
  return bar;
}

export function statusBadge(task) {
  return el("span", { class: `status status-${task.status}`, "data-status": task.status }, statusLabel(task.status));
}
