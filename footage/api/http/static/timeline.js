// The timeline: recorded spans and gaps of one camera, a zoomable view (minutes to days),
// the export interval with two handles, and a cursor (the previewed moment). Canvas-drawn.

const MIN_VIEW = 2 * 60 * 1000;
const MAX_VIEW = 14 * 24 * 3600 * 1000;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEPS = [SECOND, 5 * SECOND, 10 * SECOND, 30 * SECOND, MINUTE, 5 * MINUTE, 10 * MINUTE,
  15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY];
const TRACK_TOP = 22;
const TRACK_BOTTOM = 84;
const HANDLE_GRAB = 9;
const COLORS = {
  rec: "#2f9e6b", gap: "#e6e9ee", sel: "rgba(31, 95, 191, 0.22)", selEdge: "#1f5fbf",
  cursor: "#e5484d", ink: "#1b2430", muted: "#5d6b7c", line: "#d8dee6", hover: "rgba(27,36,48,0.35)",
};

const pad = (n) => String(n).padStart(2, "0");

export class Timeline {
  /** `options`: maxRange (ms), onSelect(start, end), onCursor(t), onView(start, end). */
  constructor(canvas, options) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.options = options;
    this.spans = [];
    this.view = { start: Date.now() - HOUR, end: Date.now() };
    this.selection = null;
    this.cursor = null;
    this.hover = null;
    this.drag = null;
    this._bind();
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  // -- state --------------------------------------------------------------------------------
  setSpans(spans) { this.spans = spans; this.draw(); }

  setView(start, end, notify = true) {
    let span = Math.min(MAX_VIEW, Math.max(MIN_VIEW, end - start));
    const middle = (start + end) / 2;
    this.view = { start: middle - span / 2, end: middle + span / 2 };
    this.draw();
    if (notify && this.options.onView) this.options.onView(this.view.start, this.view.end);
  }

  setSelection(start, end) {
    this.selection = start === null ? null : { start, end };
    this.draw();
  }

  setCursor(t) { this.cursor = t; this.draw(); }

  zoom(factor, around) {
    const { start, end } = this.view;
    const pivot = around ?? (start + end) / 2;
    const span = Math.min(MAX_VIEW, Math.max(MIN_VIEW, (end - start) * factor));
    const ratio = (pivot - start) / (end - start);
    this.setView(pivot - span * ratio, pivot - span * ratio + span);
  }

  pan(fraction) {
    const shift = (this.view.end - this.view.start) * fraction;
    this.setView(this.view.start + shift, this.view.end + shift);
  }

  centre(t) {
    const half = (this.view.end - this.view.start) / 2;
    this.setView(t - half, t + half);
  }

  // -- geometry -----------------------------------------------------------------------------
  get width() { return this.canvas.clientWidth || 1; }
  get height() { return this.canvas.clientHeight || 1; }
  x(t) { return ((t - this.view.start) / (this.view.end - this.view.start)) * this.width; }
  time(x) { return this.view.start + (x / this.width) * (this.view.end - this.view.start); }
  snap(t) { return Math.round(t / SECOND) * SECOND; }

  // -- drawing ------------------------------------------------------------------------------
  draw() {
    const { canvas, ctx } = this;
    const ratio = window.devicePixelRatio || 1;
    const w = this.width;
    const h = this.height;
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = COLORS.gap;
    ctx.fillRect(0, TRACK_TOP, w, TRACK_BOTTOM - TRACK_TOP);
    ctx.fillStyle = COLORS.rec;
    for (const span of this.spans) {
      const x0 = Math.max(0, this.x(span.start));
      const x1 = Math.min(w, this.x(span.end));
      if (x1 > x0) ctx.fillRect(x0, TRACK_TOP, Math.max(1, x1 - x0), TRACK_BOTTOM - TRACK_TOP);
    }
    this._drawTicks(w, h);
    this._drawSelection(h);
    this._drawCursor(h);
  }

  _drawTicks(w, h) {
    const { ctx } = this;
    const span = this.view.end - this.view.start;
    const step = STEPS.find((s) => (s / span) * w >= 90) || STEPS[STEPS.length - 1];
    const offset = -new Date(this.view.start).getTimezoneOffset() * MINUTE;
    let t = Math.ceil((this.view.start + offset) / step) * step - offset;
    ctx.strokeStyle = COLORS.line;
    ctx.fillStyle = COLORS.muted;
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.beginPath();
    ctx.moveTo(0, TRACK_BOTTOM + 0.5);
    ctx.lineTo(w, TRACK_BOTTOM + 0.5);
    for (; t <= this.view.end; t += step) {
      const x = Math.round(this.x(t)) + 0.5;
      ctx.moveTo(x, TRACK_BOTTOM);
      ctx.lineTo(x, TRACK_BOTTOM + 7);
      ctx.fillText(this._label(t, step), x, TRACK_BOTTOM + 20);
    }
    ctx.stroke();
    const d = new Date(this.view.start);
    ctx.textAlign = "left";
    ctx.fillText(`${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`, 4, 14);
    if (this.hover !== null && !this.drag) {
      const x = Math.round(this.x(this.hover)) + 0.5;
      ctx.strokeStyle = COLORS.hover;
      ctx.beginPath();
      ctx.moveTo(x, TRACK_TOP);
      ctx.lineTo(x, TRACK_BOTTOM);
      ctx.stroke();
      ctx.textAlign = x > w - 60 ? "right" : "center";
      ctx.fillStyle = COLORS.ink;
      ctx.fillText(this._label(this.hover, SECOND), Math.min(Math.max(x, 30), w - 2), 14);
    }
    void h;
  }

  _label(t, step) {
    const d = new Date(t);
    const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    if (step < MINUTE) return `${hm}:${pad(d.getSeconds())}`;
    if (d.getHours() === 0 && d.getMinutes() === 0) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    return hm;
  }

  _drawSelection(h) {
    if (!this.selection) return;
    const { ctx } = this;
    const x0 = this.x(this.selection.start);
    const x1 = this.x(this.selection.end);
    ctx.fillStyle = COLORS.sel;
    ctx.fillRect(x0, TRACK_TOP - 6, x1 - x0, TRACK_BOTTOM - TRACK_TOP + 12);
    ctx.fillStyle = COLORS.selEdge;
    for (const x of [x0, x1]) {
      ctx.fillRect(Math.round(x) - 1, TRACK_TOP - 8, 3, TRACK_BOTTOM - TRACK_TOP + 16);
      ctx.beginPath();
      ctx.roundRect(Math.round(x) - 5, (TRACK_TOP + TRACK_BOTTOM) / 2 - 10, 11, 20, 3);
      ctx.fill();
    }
    void h;
  }

  _drawCursor(h) {
    if (this.cursor === null) return;
    const { ctx } = this;
    const x = Math.round(this.x(this.cursor)) + 0.5;
    ctx.strokeStyle = COLORS.cursor;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x, TRACK_TOP - 10);
    ctx.lineTo(x, Math.min(h, TRACK_BOTTOM + 4));
    ctx.stroke();
    ctx.lineWidth = 1;
  }

  // -- interaction --------------------------------------------------------------------------
  _hit(x, y) {
    if (y > TRACK_BOTTOM + 2) return "pan";
    if (this.selection) {
      const x0 = this.x(this.selection.start);
      const x1 = this.x(this.selection.end);
      if (Math.abs(x - x1) <= HANDLE_GRAB) return "end";
      if (Math.abs(x - x0) <= HANDLE_GRAB) return "start";
      if (x > x0 && x < x1) return "move";
    }
    return "new";
  }

  _bind() {
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this._down(e));
    c.addEventListener("pointermove", (e) => this._move(e));
    c.addEventListener("pointerup", (e) => this._up(e));
    c.addEventListener("pointercancel", () => { this.drag = null; this.draw(); });
    c.addEventListener("pointerleave", () => { this.hover = null; this.draw(); });
    c.addEventListener("wheel", (e) => this._wheel(e), { passive: false });
    c.addEventListener("keydown", (e) => this._key(e));
  }

  _point(e) {
    const rect = this.canvas.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  }

  _down(e) {
    if (e.button !== 0) return;
    const { x, y } = this._point(e);
    const mode = this._hit(x, y);
    this.drag = {
      mode, x0: x, moved: false, t0: this.snap(this.time(x)),
      view: { ...this.view }, sel: this.selection ? { ...this.selection } : null,
    };
    this.canvas.setPointerCapture(e.pointerId);
    this.canvas.focus({ preventScroll: true });
  }

  _move(e) {
    const { x, y } = this._point(e);
    this.hover = this.time(x);
    const drag = this.drag;
    if (!drag) {
      const mode = this._hit(x, y);
      this.canvas.style.cursor = mode === "pan" ? "grab" : mode === "move" ? "move"
        : mode === "new" ? "crosshair" : "ew-resize";
      this.draw();
      return;
    }
    if (Math.abs(x - drag.x0) > 3) drag.moved = true;
    if (!drag.moved) return;
    const t = this.snap(this.time(x));
    const max = this.options.maxRange;
    if (drag.mode === "pan") {
      const shift = ((drag.x0 - x) / this.width) * (drag.view.end - drag.view.start);
      this.setView(drag.view.start + shift, drag.view.end + shift);
      return;
    }
    let start;
    let end;
    if (drag.mode === "new") {
      start = Math.min(drag.t0, t);
      end = Math.max(drag.t0, t);
      if (end - start > max) {
        if (t > drag.t0) end = start + max; else start = end - max;
      }
    } else if (drag.mode === "move") {
      const shift = t - drag.t0;
      start = drag.sel.start + shift;
      end = drag.sel.end + shift;
    } else if (drag.mode === "start") {
      end = drag.sel.end;
      start = Math.min(Math.max(t, end - max), end - SECOND);
    } else {
      start = drag.sel.start;
      end = Math.max(Math.min(t, start + max), start + SECOND);
    }
    if (end - start < SECOND) return;
    this.setSelection(start, end);
    if (this.options.onSelect) this.options.onSelect(start, end);
  }

  _up(e) {
    const drag = this.drag;
    this.drag = null;
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (drag && !drag.moved && drag.mode !== "pan") {
      this.setCursor(drag.t0);
      if (this.options.onCursor) this.options.onCursor(drag.t0);
    }
    this.draw();
  }

  _wheel(e) {
    e.preventDefault();
    const { x } = this._point(e);
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      this.pan(Math.sign(e.deltaX || e.deltaY) * 0.1);
      return;
    }
    this.zoom(e.deltaY > 0 ? 1.25 : 0.8, this.time(x));
  }

  _key(e) {
    const keys = {
      ArrowLeft: () => this.pan(-0.1),
      ArrowRight: () => this.pan(0.1),
      "+": () => this.zoom(0.8),
      "=": () => this.zoom(0.8),
      "-": () => this.zoom(1.25),
      "[": () => this.options.onKeyEdge && this.options.onKeyEdge("start"),
      "]": () => this.options.onKeyEdge && this.options.onKeyEdge("end"),
    };
    const action = keys[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  }
}
