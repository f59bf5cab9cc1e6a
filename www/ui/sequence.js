// Sequences as pictures: a line plot of a `[steps, features]` sample (one line per feature), and
// a pad on which a person draws a one-feature sequence from left to right.

const RANGE = 1.8; // the pad's vertical axis runs from −RANGE to +RANGE
const LINE_COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/** The x of step `s` of `steps` on a canvas `width` wide: the first and last at the edges. */
const xOf = (s, steps, width) => (steps === 1 ? width / 2 : (s / (steps - 1)) * (width - 2) + 1);

/** Draws `values` (`steps × features`, step after step) on `canvas`, scaled to its own range
 * unless `range` is given; `faint` draws it lighter, under what comes next. */
export function plotSequence(canvas, values, features = 1, { range, faint = false, clear = true } = {}) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  if (clear) {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, width, height);
    ctx.strokeStyle = '#e5e7eb';
    ctx.beginPath();
    ctx.moveTo(0, height / 2);
    ctx.lineTo(width, height / 2);
    ctx.stroke();
  }
  const steps = values.length / features;
  const limit = range ?? Math.max(1e-6, ...Array.from(values, Math.abs));
  const y = (v) => height / 2 - (v / limit) * (height / 2 - 2);
  ctx.lineWidth = faint ? 1 : Math.max(1, width / 200);
  ctx.globalAlpha = faint ? 0.35 : 1;
  for (let f = 0; f < features; f++) {
    ctx.strokeStyle = LINE_COLOURS[f % LINE_COLOURS.length];
    ctx.beginPath();
    for (let s = 0; s < steps; s++) {
      const x = xOf(s, steps, width);
      if (s === 0) ctx.moveTo(x, y(values[s * features + f]));
      else ctx.lineTo(x, y(values[s * features + f]));
    }
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
}

/** A pad that records one value per step where the pointer crosses each step's column, filling
 * the columns it skipped over. `onChange(values)` gets the sequence once every step has a value. */
export class SequencePad {
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.onChange = onChange;
    this.drawing = false;
    this.last = null;
    this.setSteps(48);
    canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      this.last = null;
      canvas.setPointerCapture(e.pointerId);
      this.mark(e);
    });
    canvas.addEventListener('pointermove', (e) => this.drawing && this.mark(e));
    const end = () => {
      this.drawing = false;
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  setSteps(steps) {
    this.steps = steps;
    this.clear();
  }

  clear() {
    this.values = new Float32Array(this.steps).fill(NaN);
    this.render();
  }

  get complete() {
    return this.values.every(Number.isFinite);
  }

  /** Shows `values` (one per step) as if drawn. */
  set(values) {
    this.values = Float32Array.from(values);
    this.render();
    this.onChange(this.values);
  }

  mark(e) {
    const r = this.canvas.getBoundingClientRect();
    const step = Math.min(this.steps - 1, Math.max(0, Math.round(((e.clientX - r.left) / r.width) * (this.steps - 1))));
    const value = RANGE * (1 - 2 * Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)));
    const [from, v0] = this.last ?? [step, value];
    const span = Math.abs(step - from);
    for (let s = Math.min(from, step); s <= Math.max(from, step); s++) {
      this.values[s] = span === 0 ? value : v0 + ((value - v0) * (s - from)) / (step - from);
    }
    this.last = [step, value];
    this.render();
    if (this.complete) this.onChange(this.values);
  }

  render() {
    const ctx = this.canvas.getContext('2d');
    plotSequence(this.canvas, new Float32Array(this.steps).fill(0), 1, { range: RANGE, faint: true });
    ctx.fillStyle = '#2563eb';
    const { width, height } = this.canvas;
    this.values.forEach((v, s) => {
      if (Number.isFinite(v))
        ctx.fillRect(xOf(s, this.steps, width) - 2, height / 2 - (v / RANGE) * (height / 2 - 2) - 2, 4, 4);
    });
    if (this.complete) plotSequence(this.canvas, this.values, 1, { range: RANGE, clear: false });
  }
}
