// Live line charts (uPlot). x is training progress in epochs (or what `xLabel` names: trials);
// each series may skip points (validation is measured once per epoch), and uPlot draws across those
// gaps. A chart is either
// appended to point by point (`push`) or given whole columns that are then filled in (`setColumns`,
// `update`), as for curves planned before the run.
import uPlot from '../../vendor/uPlot.esm.js';

const COLOURS = ['#2563eb', '#dc2626', '#059669', '#d97706'];

export class LiveChart {
  /** `large`: type a projector's audience can read (a lesson's chart). */
  constructor(
    element,
    title,
    labels,
    { percent = false, dashed = [], xLabel = 'epoch', pointsOnly = [], large = false } = {},
  ) {
    this.element = element;
    this.columns = [[], ...labels.map(() => [])];
    this.frame = 0;
    this.epochs = 1;
    this.markers = [];
    this.reference = null;
    const type = large ? { font: '16px system-ui, sans-serif', labelFont: 'bold 16px system-ui, sans-serif' } : {};
    const value = percent
      ? (_u, v) => (v == null ? '–' : `${(v * 100).toFixed(1)} %`)
      : (_u, v) => (v == null ? '–' : v.toFixed(4));
    this.plot = new uPlot(
      {
        title,
        width: Math.max(element.clientWidth, 300),
        height: 220,
        scales: {
          // A little room past the last epoch, so that a point there is drawn whole.
          x: { time: false, range: () => [0, this.epochs * 1.02] },
          // A tenth below the lowest value, so that a low curve does not lie on the axis.
          y: percent
            ? { range: (_u, min, _max) => [Math.max(0, Math.min(Math.floor(min * 10 - 0.5) / 10, 0.8)), 1] }
            : {},
        },
        axes: [
          // Whole epochs, trials or predictions.
          { label: xLabel, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000], ...type },
          {
            values: (_u, ticks) => ticks.map((t) => (percent ? `${Math.round(t * 100)}%` : t.toPrecision(2))),
            size: large ? 72 : 56,
            ...type,
          },
        ],
        hooks: { draw: [(u) => this.drawMarkers(u)] },
        // The legend names the series; values show under the cursor, not as dashes beside them.
        legend: { live: false },
        series: [
          { label: xLabel, value: (_u, v) => (v == null ? '–' : v.toFixed(2)) },
          ...labels.map((label, i) => ({
            label,
            stroke: COLOURS[i % COLOURS.length],
            width: 2,
            spanGaps: true,
            value,
            points: { show: label.startsWith('validation') || pointsOnly.includes(label), size: 7 },
            paths: pointsOnly.includes(label) ? () => null : undefined,
            dash: dashed.includes(label) ? [6, 4] : undefined,
          })),
        ],
      },
      this.columns,
      element,
    );
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(element.clientWidth, 300), height: 220 })).observe(
      element,
    );
  }

  /** A labelled vertical line at epoch `x`, kept until the next reset. */
  mark(x, label, colour) {
    this.markers.push({ x, label, colour });
    this.plot.redraw();
  }

  /** A finished run's curve ([x, y] points) to compare against, drawn dashed in grey with its
   * name until replaced; null removes it. */
  setReference(points, label) {
    this.reference = points ? { points, label } : null;
    this.plot.redraw();
  }

  drawReference(u) {
    const { ctx } = u;
    const scale = devicePixelRatio;
    const { points, label } = this.reference;
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    ctx.strokeStyle = '#64748b';
    ctx.fillStyle = '#475569';
    ctx.lineWidth = 1.5 * scale;
    ctx.setLineDash([3 * scale, 3 * scale]);
    ctx.beginPath();
    points.forEach(([x, y], i) => {
      const px = u.valToPos(x, 'x', true);
      const py = u.valToPos(y, 'y', true);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
    ctx.stroke();
    ctx.font = `${11 * scale}px system-ui, sans-serif`;
    ctx.textAlign = 'right';
    ctx.fillText(label, u.bbox.left + u.bbox.width - 4 * scale, u.bbox.top + u.bbox.height - 6 * scale);
    ctx.restore();
  }

  drawMarkers(u) {
    if (this.reference) this.drawReference(u);
    const { ctx } = u;
    const scale = devicePixelRatio;
    for (const m of this.markers) {
      const x = u.valToPos(m.x, 'x', true);
      ctx.save();
      ctx.strokeStyle = m.colour;
      ctx.fillStyle = m.colour;
      ctx.lineWidth = scale;
      ctx.setLineDash([5 * scale, 4 * scale]);
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.font = `${11 * scale}px system-ui, sans-serif`;
      // Labels sit on the side of the line with more room.
      const right = x < u.bbox.left + u.bbox.width / 2;
      ctx.textAlign = right ? 'left' : 'right';
      ctx.fillText(m.label, x + (right ? 4 : -4) * scale, u.bbox.top + 12 * scale * (1 + this.markers.indexOf(m)));
      ctx.restore();
    }
  }

  /** Appends one x with a value (or null) per series; redraws at most once per frame. */
  push(x, values) {
    this.columns[0].push(x);
    for (const [i, v] of values.entries()) this.columns[i + 1].push(v ?? null);
    this.update();
  }

  /** Replaces every column (x first) and the x span. */
  setColumns(columns, epochs) {
    this.columns = columns;
    this.epochs = epochs;
    this.update();
  }

  /** Redraws after `columns` changed, at most once per frame. */
  update() {
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.plot.setData(this.columns);
      });
    }
  }

  /** Clears the chart for a run of `epochs` epochs (the x axis spans the whole run). */
  reset(epochs) {
    this.epochs = epochs;
    this.markers = [];
    for (const c of this.columns) c.length = 0;
    this.plot.setData(this.columns);
  }
}
