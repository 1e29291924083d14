// The export history: 10 rows a page, newest first; Download, Cancel and Retry; live updates.
import {
  api, config, el, followTasks, formatDateTime, progressBar, statusBadge, t, zoneLabel,
} from "./common.js";

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 10;
const isAdmin = Boolean(config.user && config.user.isAdmin);
const state = { tokens: [null], index: 0, total: 0, next: null, rows: new Map(), loading: null };

function allUsers() {
  const box = $("all-users");
  return Boolean(box && box.checked);
}

async function load(index = state.index) {
  const token = state.tokens[index];
  const params = new URLSearchParams({ page_size: String(PAGE_SIZE) });
  if (token) params.set("page_token", token);
  if (allUsers()) params.set("all", "true");
  try {
    const page = await api(`/exports?${params}`);
    state.index = index;
    state.total = page.total;
    state.next = page.next_page_token;
    state.tokens[index + 1] = page.next_page_token;
    state.tokens.length = index + 2;
    render(page.tasks);
    $("history-error").textContent = "";
  } catch (error) {
    $("history-error").textContent = error.message;
  }
}

let reloadTimer = null;
function reloadSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => load(), 250);
}

function actions(task) {
  const cell = el("td", { class: "actions" });
  if (task.status === "done") {
    task.files.forEach((file, i) => cell.append(
      el("a", { class: "btn btn-small", href: file.url, download: file.name, "data-action": "download" },
        task.files.length > 1 ? `${t("download")} ${i + 1}` : t("download"))));
  }
  if (task.status === "queued" || task.status === "running") {
    cell.append(el("button", { type: "button", class: "btn btn-small", "data-action": "cancel",
      onclick: () => act(task, "cancel") }, t("cancel")));
  }
  if (["failed", "cancelled", "expired"].includes(task.status)) {
    cell.append(el("button", { type: "button", class: "btn btn-small", "data-action": "retry",
      onclick: () => act(task, "retry") }, t("retry")));
  }
  return cell;
}

function row(task) {
  const status = el("td", { class: "status-cell" }, statusBadge(task));
  if (task.status === "failed" && task.failure) {
    status.append(el("span", { class: "reason" }, task.failure.message));
  }
  const pct = task.status === "done" ? 100 : Math.round(task.progress);
  return el("tr", { "data-task-id": task.id, "data-status": task.status },
    el("td", {}, el("time", { datetime: task.created }, formatDateTime(task.created))),
    isAdmin ? el("td", { class: "col-owner" }, task.owner) : null,
    el("td", {}, task.camera_name),
    el("td", { class: "file" }, task.file_name),
    status,
    el("td", { class: "progress" }, progressBar(task), el("span", { class: "pct" }, `${pct}%`)),
    actions(task));
}

function render(tasks) {
  const body = $("history-rows");
  state.rows = new Map(tasks.map((task) => [task.id, task]));
  body.replaceChildren(...tasks.map(row));
  if (!tasks.length) {
    body.append(el("tr", {}, el("td", { colspan: "7", class: "muted" }, t("no_tasks"))));
  }
  const pages = Math.max(1, Math.ceil(state.total / PAGE_SIZE));
  $("page-label").textContent = t("page_of", { page: state.index + 1, pages });
  $("prev-page").disabled = state.index === 0;
  $("next-page").disabled = !state.next;
}

function update(task) {
  if (!state.rows.has(task.id)) {
    // a task this page does not show: a new one belongs on the first page
    if (state.index === 0) reloadSoon();
    return;
  }
  state.rows.set(task.id, task);
  const old = document.querySelector(`tr[data-task-id="${task.id}"]`);
  if (old) old.replaceWith(row(task));
}

function progress(event) {
  const task = state.rows.get(event.id);
  if (!task || task.status !== event.status) return;
  update({ ...task, progress: event.progress });
}

async function act(task, action) {
  try {
    const changed = await api(`/exports/${task.id}/${action}`, { method: "POST" });
    if (action === "retry") {
      state.tokens = [null];
      await load(0);
      const fresh = document.querySelector(`tr[data-task-id="${changed.id}"]`);
      if (fresh) fresh.classList.add("is-new");
    } else {
      update(changed);
    }
  } catch (error) {
    $("history-error").textContent = error.message;
  }
}

$("zone-label").textContent = zoneLabel();
$("prev-page").addEventListener("click", () => load(Math.max(0, state.index - 1)));
$("next-page").addEventListener("click", () => state.next && load(state.index + 1));
if ($("all-users")) {
  $("all-users").addEventListener("change", () => { state.tokens = [null]; load(0); });
}
followTasks({ status: update, progress, open: () => load() }, $("live-state"));
load(0);
