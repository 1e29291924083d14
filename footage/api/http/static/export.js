// The archive export page: camera tree, preview, timeline, interval, format, Start export,
// live progress of the tasks started here and automatic downloads of their files.
import {
  api, config, download, el, followTasks, formatDateTime, formatDuration, fromLocalInput,
  progressBar, statusBadge, t, toLocalInput, zoneLabel,
} from "./common.js";
import { Timeline } from "./timeline.js";

const $ = (id) => document.getElementById(id);
const MAX_RANGE = config.maxRange * 1000;
const MAX_TIMELINE = 62 * 24 * 3600 * 1000;
const canExport = Boolean(config.user && config.user.canExport);

const state = {
  cameras: [],
  selected: new Set(),
  current: null,
  start: null,
  end: null,
  cursor: null,
  loaded: null, // {camera, start, end} of the spans on the timeline
  tasks: new Map(), // tasks started on this page, by id
  downloaded: new Set(),
};

const timeline = new Timeline($("timeline"), {
  maxRange: MAX_RANGE,
  onSelect: (start, end) => setInterval_(start, end, { fromTimeline: true }),
  onCursor: (t0) => setCursor(t0),
  onView: () => { updateViewLabel(); scheduleSpans(); },
  onKeyEdge: (edge) => edgeAtCursor(edge),
});

// -- camera tree ---------------------------------------------------------------------------
function cameraRow(camera) {
  const box = el("input", {
    type: "checkbox", id: `cam-${camera.id}`, value: camera.id, "data-camera": camera.id,
    checked: state.selected.has(camera.id),
  });
  box.addEventListener("change", () => toggleCamera(camera.id, box.checked));
  const row = el("li", { class: `cam-row${state.current === camera.id ? " is-current" : ""}`, "data-camera-row": camera.id },
    el("label", { for: `cam-${camera.id}` }, box,
      el("span", { class: "cam-name" }, camera.name),
      camera.name !== camera.id ? el("span", { class: "cam-id" }, camera.id) : null));
  return row;
}

function renderTree() {
  const tree = $("camera-tree");
  const query = $("camera-search").value.trim().toLowerCase();
  const match = (c) => !query || c.name.toLowerCase().includes(query) || c.id.toLowerCase().includes(query)
    || (c.group || c.source).toLowerCase().includes(query);
  tree.replaceChildren();
  tree.removeAttribute("aria-busy");
  let shown = 0;
  for (const group of state.groups || []) {
    const members = group.cameras.filter(match);
    if (!members.length) continue;
    shown += members.length;
    const all = el("input", {
      type: "checkbox", "aria-label": t("select_group", { group: group.name }),
      checked: members.every((c) => state.selected.has(c.id)),
    });
    all.addEventListener("change", () => {
      for (const c of members) toggleCamera(c.id, all.checked, false);
      renderTree();
      refresh();
    });
    const details = el("details", { class: "tree-group", open: true },
      el("summary", {}, el("span", {}, `${group.name} (${members.length})`)),
      el("div", { class: "cam-row" }, el("label", {}, all, el("span", { class: "muted small" }, t("select_group", { group: group.name })))),
      el("ul", { role: "group" }, ...members.map(cameraRow)));
    tree.append(details);
  }
  if (!shown) tree.append(el("p", { class: "muted small" }, t("no_cameras")));
  $("selected-count").textContent = state.selected.size ? t("selected_count", { n: state.selected.size }) : "";
}

function toggleCamera(id, on, redraw = true) {
  if (on) {
    state.selected.add(id);
    state.current = id;
  } else {
    state.selected.delete(id);
    if (state.current === id) state.current = [...state.selected].pop() || null;
  }
  if (redraw) {
    renderTree();
    refresh();
  }
}

// -- interval ------------------------------------------------------------------------------
function setInterval_(start, end, { fromTimeline = false } = {}) {
  state.start = start;
  state.end = end;
  if (!fromTimeline) {
    timeline.setSelection(start, end);
  }
  $("start-input").value = Number.isFinite(start) ? toLocalInput(start) : "";
  $("end-input").value = Number.isFinite(end) ? toLocalInput(end) : "";
  validate();
}

function intervalProblem() {
  const { start, end } = state;
  if (!Number.isFinite(start) || !Number.isFinite(end)) return t("interval_missing");
  if (end <= start) return t("interval_reversed");
  if (end - start > MAX_RANGE) return t("interval_too_long", { limit: formatDuration(MAX_RANGE) });
  return "";
}

function validate() {
  const problem = intervalProblem();
  $("interval-error").textContent = problem;
  $("duration-label").textContent = `${t("duration")}: ${problem ? "—" : formatDuration(state.end - state.start)}`;
  const button = $("start-export");
  if (!button) return;
  const noCamera = state.selected.size === 0;
  button.disabled = noCamera || Boolean(problem);
  $("start-hint").textContent = noCamera ? t("no_camera_selected") : problem;
}

function readInputs() {
  const start = fromLocalInput($("start-input").value);
  const end = fromLocalInput($("end-input").value);
  state.start = start;
  state.end = end;
  if (Number.isFinite(start) && Number.isFinite(end) && end > start) {
    timeline.setSelection(start, end);
    if (start < timeline.view.start || end > timeline.view.end) {
      const margin = Math.max((end - start) / 2, 5 * 60 * 1000);
      timeline.setView(start - margin, end + margin);
    }
  }
  validate();
}

function edgeAtCursor(edge) {
  if (state.cursor === null) return;
  if (edge === "start") setInterval_(state.cursor, Math.max(state.end ?? 0, state.cursor + 60000));
  else setInterval_(Math.min(state.start ?? state.cursor - 60000, state.cursor - 1000), state.cursor);
}

// -- preview -------------------------------------------------------------------------------
let pictureTimer = null;
function setCursor(ms) {
  state.cursor = ms;
  timeline.setCursor(ms);
  $("cursor-label").textContent = ms === null ? "" : `${t("cursor")}: ${formatDateTime(ms)}`;
  clearTimeout(pictureTimer);
  pictureTimer = setTimeout(showPicture, 120);
}

function showPicture() {
  const camera = state.current;
  const img = $("picture");
  const video = $("video");
  const message = $("preview-message");
  video.pause();
  video.removeAttribute("src");
  video.hidden = true;
  $("play-preview").textContent = t("play_preview");
  $("play-preview").disabled = !camera || state.cursor === null;
  if (!camera || state.cursor === null) {
    img.hidden = true;
    message.hidden = false;
    message.textContent = t("no_camera_selected");
    return;
  }
  const at = new Date(state.cursor).toISOString();
  img.onload = () => { img.hidden = false; message.hidden = true; };
  img.onerror = () => { img.hidden = true; message.hidden = false; message.textContent = t("no_recording_here"); };
  img.alt = `${camera} ${formatDateTime(state.cursor)}`;
  img.src = `/api/v1/cameras/${encodeURIComponent(camera)}/picture?at=${encodeURIComponent(at)}&width=640`;
}

function togglePreview() {
  const video = $("video");
  if (!video.hidden) {
    showPicture();
    return;
  }
  const at = new Date(state.cursor).toISOString();
  video.src = `/api/v1/cameras/${encodeURIComponent(state.current)}/preview?start=${encodeURIComponent(at)}&duration=30`;
  video.hidden = false;
  $("picture").hidden = true;
  $("preview-message").hidden = true;
  $("play-preview").textContent = t("show_picture");
  video.play().catch(() => {});
}

// -- timeline spans ------------------------------------------------------------------------
let spansTimer = null;
function scheduleSpans() {
  clearTimeout(spansTimer);
  spansTimer = setTimeout(loadSpans, 150);
}

async function loadSpans() {
  const camera = state.current;
  if (!camera) {
    timeline.setSpans([]);
    return;
  }
  const { start, end } = timeline.view;
  const have = state.loaded;
  if (have && have.camera === camera && have.start <= start && have.end >= end) return;
  const span = end - start;
  const from = start - span;
  const to = Math.min(end + span, from + MAX_TIMELINE);
  try {
    const data = await api(`/cameras/${encodeURIComponent(camera)}/timeline?start=${new Date(from).toISOString()}&end=${new Date(to).toISOString()}`);
    if (state.current !== camera) return;
    state.loaded = { camera, start: from, end: to };
    timeline.setSpans(data.spans.map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) })));
  } catch (error) {
    $("interval-error").textContent = error.message;
  }
}

function updateViewLabel() {
  const { start, end } = timeline.view;
  $("view-label").textContent = `${formatDateTime(start)} – ${formatDateTime(end)} (${formatDuration(end - start)})`;
}

function goLatest() {
  const camera = state.cameras.find((c) => c.id === state.current);
  const last = camera && camera.last ? Date.parse(camera.last) : Date.now();
  timeline.setView(last - 55 * 60 * 1000, last + 5 * 60 * 1000);
}

function refresh() {
  $("play-preview").disabled = !state.current;
  document.querySelectorAll("[data-camera-row]").forEach((row) => {
    row.classList.toggle("is-current", row.dataset.cameraRow === state.current);
  });
  state.loaded = null;
  const camera = state.cameras.find((c) => c.id === state.current);
  $("preview-title").textContent = camera ? `${t("preview")} — ${camera.name}` : t("preview");
  if (camera && state.start === null && camera.last) {
    const last = Date.parse(camera.last);
    goLatest();
    setInterval_(last - 6 * 60 * 1000, last - 60 * 1000);
    setCursor(last - 6 * 60 * 1000);
  } else {
    setCursor(state.cursor);
  }
  scheduleSpans();
  validate();
}

// -- exports -------------------------------------------------------------------------------
function taskItem(task) {
  const li = el("li", { class: "task-item", "data-task-id": task.id },
    el("div", {}, el("strong", {}, task.camera_name), " ", el("span", { class: "task-file" }, task.file_name)),
    el("div", {}, statusBadge(task), " ", el("span", { class: "small muted" }, `${Math.round(task.status === "done" ? 100 : task.progress)}%`)),
    progressBar(task));
  if (task.failure && task.status === "failed") li.append(el("span", { class: "reason" }, task.failure.message));
  if (task.status === "done") {
    for (const file of task.files) {
      li.append(el("a", { href: file.url, download: file.name, class: "small" }, `${t("download")} ${file.name}`));
    }
  }
  return li;
}

function showTask(task) {
  if (!state.tasks.has(task.id)) return;
  state.tasks.set(task.id, task);
  const old = document.querySelector(`[data-task-id="${task.id}"]`);
  const item = taskItem(task);
  if (old) old.replaceWith(item); else $("task-list").prepend(item);
  if (task.status === "done" && !state.downloaded.has(task.id)) {
    state.downloaded.add(task.id);
    task.files.forEach((file, i) => setTimeout(() => download(file.url, file.name), 300 * i));
  }
}

function showProgress(event) {
  const task = state.tasks.get(event.id);
  if (!task || task.status !== event.status) return;
  showTask({ ...task, progress: event.progress });
}

async function startExport() {
  const button = $("start-export");
  button.disabled = true;
  $("export-error").textContent = "";
  const cameras = state.cameras.map((c) => c.id).filter((id) => state.selected.has(id));
  try {
    const format = $("format").value;
    const created = await api("/exports", {
      method: "POST",
      body: {
        cameras,
        start: new Date(state.start).toISOString(),
        end: new Date(state.end).toISOString(),
        format,
        audio: $("audio").checked,
      },
    });
    for (const task of created.tasks.slice().reverse()) {
      state.tasks.set(task.id, task);
      showTask(task);
    }
    $("start-hint").textContent = t("export_started", { n: created.tasks.length });
  } catch (error) {
    $("export-error").textContent = error.message;
  } finally {
    validate();
  }
}

async function recheckTasks() {
  for (const id of state.tasks.keys()) {
    try {
      showTask(await api(`/exports/${id}`));
    } catch {
      /* gone: leave the row as it was */
    }
  }
}

// -- start ---------------------------------------------------------------------------------
async function main() {
  $("zone-label").textContent = zoneLabel();
  $("limit-label").textContent = t("max_interval", { limit: formatDuration(MAX_RANGE) });
  $("camera-search").addEventListener("input", renderTree);
  $("start-input").addEventListener("change", readInputs);
  $("end-input").addEventListener("change", readInputs);
  $("zoom-in").addEventListener("click", () => timeline.zoom(0.5));
  $("zoom-out").addEventListener("click", () => timeline.zoom(2));
  $("pan-left").addEventListener("click", () => timeline.pan(-0.25));
  $("pan-right").addEventListener("click", () => timeline.pan(0.25));
  $("go-latest").addEventListener("click", goLatest);
  $("start-here").addEventListener("click", () => edgeAtCursor("start"));
  $("end-here").addEventListener("click", () => edgeAtCursor("end"));
  $("play-preview").addEventListener("click", togglePreview);
  if (canExport) {
    $("start-export").addEventListener("click", startExport);
    followTasks({ status: showTask, progress: showProgress, open: recheckTasks }, $("live-state"));
  }
  updateViewLabel();
  validate();
  try {
    const data = await api("/cameras");
    state.cameras = data.cameras;
    state.groups = data.groups;
  } catch (error) {
    $("camera-tree").textContent = error.message;
    return;
  }
  renderTree();
  if (state.cameras.length) {
    // open on the camera recorded most recently (an NVR's channels may hold only old footage)
    const recorded = state.cameras.filter((c) => c.last);
    recorded.sort((a, b) => Date.parse(b.last) - Date.parse(a.last));
    state.current = (recorded[0] || state.cameras[0]).id;
    refresh();
  }
}

main();
