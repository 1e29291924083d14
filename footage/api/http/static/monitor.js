// The download monitor: start a batch run from uploaded files, then follow its devices, rows
// and file counts (pushed by the run's event stream; polling only if the stream keeps
// failing), retry the missing, MP4 → JPG, delete, download.
import { ApiError, api, config, el, formatDateTime, t, zone, zoneLabel } from "./common.js";

const $ = (id) => document.getElementById(id);
const PAGE = 50;
const STAGES = ["connect", "login", "search", "download", "logout"];
const STREAM_FAILURES = 3; // failed stream connections in a row before polling instead
const RESTREAM_MS = 30000; // while polling, how often the stream is tried again
const state = {
  run: null, view: null, offset: 0, filter: "all", timer: null, serverTable: null,
  source: null, failures: 0, polling: false, restream: null,
};

// -- the API: JSON calls from common.js, plus the one multipart upload ---------------------
async function upload(form) {
  const headers = { Accept: "application/json" };
  if (config.csrf) headers["X-CSRF-Token"] = config.csrf;
  const response = await fetch("/api/v1/batch/runs", {
    method: "POST", headers, body: form, credentials: "same-origin",
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || "error", error.message || response.statusText);
  }
  return data;
}

const runPath = (name) => `/batch/runs/${encodeURIComponent(name)}`;

// -- starting -------------------------------------------------------------------------------
function showStartError(text) {
  $("start-error").textContent = text || "";
}

async function start(event) {
  event.preventDefault();
  const manifest = $("manifest-file").files[0];
  const devices = $("devices-file").files[0];
  const useServer = $("use-server-devices").checked;
  if (!manifest) return showStartError(t("monitor_need_manifest"));
  if (!devices && !useServer) return showStartError(t("monitor_need_devices"));
  if (!$("want-picture").checked && !$("want-clip").checked) return showStartError(t("monitor_need_output"));
  const form = new FormData();
  form.append("manifest", manifest, manifest.name);
  if (devices && !useServer) form.append("devices", devices, devices.name);
  form.append("clip_seconds", $("clip-seconds").value || "1");
  form.append("per_device", $("per-device").value || "1");
  form.append("tz", $("tz").value.trim() || "UTC");
  form.append("picture", $("want-picture").checked ? "true" : "false");
  form.append("clip", $("want-clip").checked ? "true" : "false");
  const button = $("start-run");
  button.disabled = true;
  button.textContent = t("monitor_starting");
  try {
    const view = await upload(form);
    showStartError("");
    await loadRuns();
    attach(view.name, view);
  } catch (error) {
    showStartError(error.message);
  } finally {
    button.disabled = false;
    button.textContent = t("monitor_start");
  }
}

// -- the list of runs -----------------------------------------------------------------------
async function loadRuns() {
  const data = await api("/batch/runs");
  const select = $("run-select");
  const options = data.runs.map((run) => el("option", { value: run.name },
    `${t("monitor_run_option", { name: run.name, success: run.totals.success, total: run.totals.total })}` +
    (run.running ? ` · ${t("monitor_running")}` : "") +
    (config.user && config.user.isAdmin && run.owner ? ` · ${run.owner}` : "")));
  if (!options.length) options.push(el("option", { value: "" }, t("monitor_no_runs")));
  select.replaceChildren(...options);
  if (state.run) select.value = state.run;
  return data.runs;
}

// -- following one run ----------------------------------------------------------------------
function attach(name, view = null) {
  state.run = name;
  state.offset = 0;
  const url = new URL(location.href);
  url.searchParams.set("run", name);
  history.replaceState(null, "", url);
  $("run-select").value = name;
  $("run-panel").hidden = false;
  if (view) render(view);
  follow();
}

function detach() {
  state.run = null;
  state.view = null;
  unfollow();
  const url = new URL(location.href);
  url.searchParams.delete("run");
  history.replaceState(null, "", url);
  $("run-panel").hidden = true;
}

const rowQuery = () => new URLSearchParams({ offset: String(state.offset), limit: String(PAGE), rows: state.filter });

function showLive(live) {
  const node = $("run-live");
  node.classList.toggle("is-live", live);
  node.textContent = live ? t("live") : t("reconnecting");
}

function unfollow() {
  clearTimeout(state.timer);
  clearTimeout(state.restream);
  if (state.source) state.source.close();
  state.source = null;
}

// Follow the run (again, for another page or filter of its rows): its event stream sends the
// run at once and then on every change; after STREAM_FAILURES failed connections in a row the
// page polls the run instead, and tries the stream again every RESTREAM_MS.
function follow() {
  unfollow();
  const name = state.run;
  if (!name) return;
  if (state.polling || typeof EventSource === "undefined") {
    showLive(false);
    refresh();
    return;
  }
  const source = new EventSource(`/api/v1${runPath(name)}/events?${rowQuery()}`);
  state.source = source;
  const mine = () => state.source === source && state.run === name;
  source.addEventListener("open", () => mine() && showLive(true));
  source.addEventListener("snapshot", (event) => {
    if (!mine()) return;
    state.failures = 0;
    showLive(true);
    render(JSON.parse(event.data));
  });
  source.addEventListener("gone", () => {
    if (!mine()) return;
    unfollow();
    detach();
    loadRuns();
  });
  source.addEventListener("error", () => {
    if (!mine()) return;
    showLive(false);
    state.failures += 1;
    const closed = source.readyState === EventSource.CLOSED; // refused: the browser gave up
    if (!closed && state.failures < STREAM_FAILURES) return; // it reconnects by itself
    unfollow();
    if (state.failures >= STREAM_FAILURES) {
      state.polling = true;
      state.restream = setTimeout(() => {
        state.polling = false;
        state.failures = STREAM_FAILURES - 1; // one more failure: back to polling
        follow();
      }, RESTREAM_MS);
    } else {
      state.restream = setTimeout(follow, 2000);
    }
    refresh(); // says why (a deleted run is detached; a lost session goes to the login)
  });
}

// One read of the run over REST; it goes on reading every few seconds only when polling.
async function refresh() {
  clearTimeout(state.timer);
  const name = state.run;
  if (!name) return;
  let view = null;
  try {
    view = await api(`${runPath(name)}?${rowQuery()}`);
    if (state.run !== name) return;
    render(view);
  } catch (error) {
    if (error.status === 404) {
      detach();
      loadRuns();
      return;
    }
    $("action-result").textContent = t("error_prefix", { message: error.message });
  }
  if (state.run === name && state.polling) {
    state.timer = setTimeout(refresh, view && view.running ? 700 : 3000);
  }
}

function render(view) {
  const wasRunning = state.view && state.view.running;
  state.view = view;
  $("run-name").textContent = view.name;
  const badge = $("run-state");
  const phase = view.running ? "running" : view.finished_at ? "finished" : "idle";
  badge.textContent = t(`monitor_${phase}`);
  badge.className = `status status-run-${phase}`;
  badge.dataset.state = phase;
  $("run-owner").textContent = view.owner ? t("monitor_owner", { name: view.owner }) : "";
  $("run-error").hidden = !view.error;
  $("run-error").textContent = view.error || "";
  $("count-jpg").textContent = String(view.counters.jpg);
  $("count-mp4").textContent = String(view.counters.mp4);
  $("total-success").textContent = String(view.totals.success);
  $("total-timeout").textContent = String(view.totals.timeout);
  $("total-failed").textContent = String(view.totals.failed);
  $("total-pending").textContent = String(view.totals.pending + view.totals.running);
  $("total-rows").textContent = String(view.totals.total);
  const missing = view.totals.total - view.totals.success;
  $("retry-missing").disabled = view.running || missing === 0;
  $("convert").disabled = view.running || view.counters.mp4 === 0;
  $("delete-all").disabled = view.running;
  $("stop-run").disabled = !view.running;
  $("download-zip").href = view.zip_url;
  renderDevices(view.devices);
  renderRows(view);
  if (wasRunning && !view.running) loadRuns();
}

function stageCell(device, stage) {
  const status = device.stages[stage];
  if (!status) return el("td", { class: "stage", "data-stage": stage }, el("span", { class: "muted" }, "–"));
  const failed = status === "failed";
  const text = t(`stage_status_${status}`);
  const cell = el("td", { class: "stage", "data-stage": stage, "data-status": status },
    el("span", { class: `stage-badge stage-${status}` }, text));
  if (failed && device.stage === stage && device.reason) {
    cell.append(el("span", { class: "reason" }, reasonText(device.reason)));
  }
  return cell;
}

function vendorText(item) {
  return [item.vendor_code, item.vendor_text].filter(Boolean).join(" ");
}

function reasonText(reason) {
  const key = `reason_${reason}`;
  const text = t(key);
  return text === key ? reason : text;
}

function renderDevices(devices) {
  const body = $("device-rows");
  if (!devices.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "8", class: "muted" }, t("monitor_no_devices"))));
    return;
  }
  body.replaceChildren(...devices.map((device) => {
    const latest = [t(`stage_${device.stage}`), device.status ? t(`stage_status_${device.status}`) : ""]
      .filter(Boolean).join(" ");
    const detail = [device.reason ? reasonText(device.reason) : "", vendorText(device)]
      .filter(Boolean).join(" · ");
    return el("tr", { "data-device": device.name, "data-stage": device.stage, "data-status": device.status },
      el("td", {}, el("strong", {}, device.name), el("span", { class: "cam-id" }, ` ${device.vendor} ${device.address}`)),
      ...STAGES.map((stage) => stageCell(device, stage)),
      el("td", { class: "num" }, `${device.rows_done}/${device.rows_total}`,
        device.rows_failed ? el("span", { class: "reason" }, `${t("monitor_failure")}: ${device.rows_failed}`) : null),
      el("td", { class: "latest" }, latest, detail ? el("span", { class: "reason" }, detail) : null));
  }));
}

function renderRows(view) {
  const body = $("row-rows");
  if (!view.rows.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "7", class: "muted" }, t("monitor_no_rows"))));
  } else {
    body.replaceChildren(...view.rows.map((row) => {
      const status = el("span", { class: `status status-row-${row.status}` }, t(`row_status_${row.status}`));
      const reason = row.status === "success"
        ? (row.skipped ? t("row_skipped") : "")
        : [row.reason ? reasonText(row.reason) : "", row.message].filter(Boolean).join(" — ");
      return el("tr", { "data-row-id": row.id, "data-status": row.status },
        el("td", { class: "num" }, String(row.line)),
        el("td", { class: "rowid" }, row.id),
        el("td", {}, el("time", { datetime: row.time }, formatDateTime(row.time))),
        el("td", {}, row.camera),
        el("td", { class: "status-cell" }, status),
        el("td", { class: "why" }, reason),
        el("td", { class: "vendor" }, vendorText(row)));
    }));
  }
  const pages = Math.max(1, Math.ceil(view.rows_matching / PAGE));
  $("rows-page").textContent = t("page_of", { page: Math.floor(state.offset / PAGE) + 1, pages });
  $("rows-prev").disabled = state.offset === 0;
  $("rows-next").disabled = state.offset + PAGE >= view.rows_matching;
}

// -- actions ---------------------------------------------------------------------------------
async function act(run) {
  const result = $("action-result");
  try {
    result.textContent = await run();
  } catch (error) {
    result.textContent = t("error_prefix", { message: error.message });
  }
  if (!state.source) refresh(); // a stream sends the change by itself
}

function retry() {
  act(async () => {
    await api(`${runPath(state.run)}/retry`, { method: "POST" });
    loadRuns();
    return t("monitor_retrying");
  });
}

function convert() {
  act(async () => {
    const data = await api(`${runPath(state.run)}/convert`, { method: "POST" });
    return t("monitor_converted", { n: data.converted.length, failed: data.failed.length });
  });
}

function stop() {
  act(async () => {
    await api(`${runPath(state.run)}/stop`, { method: "POST" });
    return t("monitor_stopping");
  });
}

function askDelete() {
  const view = state.view;
  if (!view) return;
  $("confirm-text").textContent = t("monitor_delete_text", {
    name: view.name, jpg: view.counters.jpg, mp4: view.counters.mp4,
  });
  $("confirm-delete").showModal();
}

async function confirmed() {
  if ($("confirm-delete").returnValue !== "delete" || !state.run) return;
  const name = state.run;
  try {
    const report = await api(runPath(name), { method: "DELETE" });
    detach();
    await loadRuns();
    $("action-result").textContent = t("monitor_deleted", { n: report.removed });
  } catch (error) {
    $("action-result").textContent = t("error_prefix", { message: error.message });
  }
}

// -- setting up ------------------------------------------------------------------------------
async function loadServerTable() {
  try {
    const table = await api("/batch/devices");
    if (!table.configured) return;
    state.serverTable = table;
    $("server-devices-box").hidden = false;
    $("server-devices-label").textContent = t("monitor_server_devices_named", { name: table.name, n: table.docks.length });
  } catch (error) {
    showStartError(error.message);
  }
}

async function init() {
  $("zone-label").textContent = zoneLabel();
  $("tz").value = zone;
  $("start-form").addEventListener("submit", start);
  $("run-select").addEventListener("change", (e) => (e.target.value ? attach(e.target.value) : detach()));
  $("retry-missing").addEventListener("click", retry);
  $("convert").addEventListener("click", convert);
  $("stop-run").addEventListener("click", stop);
  $("delete-all").addEventListener("click", askDelete);
  $("confirm-delete").addEventListener("close", confirmed);
  $("row-filter").addEventListener("change", (e) => { state.filter = e.target.value; state.offset = 0; follow(); });
  $("rows-prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); follow(); });
  $("rows-next").addEventListener("click", () => { state.offset += PAGE; follow(); });
  await loadServerTable();
  let runs = [];
  try {
    runs = await loadRuns();
  } catch (error) {
    showStartError(error.message);
  }
  // reattach: the run in the address, else one still running, else the newest
  const wanted = new URLSearchParams(location.search).get("run");
  const pick = runs.find((r) => r.name === wanted) || runs.find((r) => r.running) || runs[0];
  if (pick) attach(pick.name);
}

init();
