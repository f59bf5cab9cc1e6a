// Small unit-square plots on a canvas: ROC and precision-recall curves, and reliability diagrams.
// Each series is {x, y, colour}; both axes run from 0 to 1.
const PALETTE = [
  '#2563eb',
  '#dc2626',
  '#059669',
  '#d97706',
  '#7c3aed',
  '#db2777',
  '#0891b2',
  '#65a30d',
  '#92400e',
  '#475569',
];
export const colourOf = (k) => PALETTE[k % PALETTE.length];

export function plotUnitCurves(canvas, series, { title, xLabel, yLabel, diagonal = false, points = false }) {
  const scale = devicePixelRatio;
  const width = canvas.clientWidth || 260;
  const height = Math.round(width * 0.8);
  canvas.width = width * scale;
  canvas.height = height * scale;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  ctx.scale(scale, scale);
  const box = { left: 34, top: 18, right: width - 8, bottom: height - 28 };
  const px = (x) => box.left + x * (box.right - box.left);
  const py = (y) => box.bottom - y * (box.bottom - box.top);
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#1f2937';
  ctx.textAlign = 'center';
  ctx.fillText(title, width / 2, 11);
  ctx.fillStyle = '#6b7280';
  ctx.fillText(xLabel, (box.left + box.right) / 2, height - 4);
  ctx.save();
  ctx.translate(10, (box.top + box.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(yLabel, 0, 0);
  ctx.restore();
  ctx.strokeStyle = '#e5e7eb';
  ctx.lineWidth = 1;
  for (const t of [0, 0.5, 1]) {
    ctx.beginPath();
    ctx.moveTo(px(t), box.top);
    ctx.lineTo(px(t), box.bottom);
    ctx.moveTo(box.left, py(t));
    ctx.lineTo(box.right, py(t));
    ctx.stroke();
    ctx.fillText(String(t), px(t), box.bottom + 12);
    ctx.textAlign = 'right';
    ctx.fillText(String(t), box.left - 4, py(t) + 4);
    ctx.textAlign = 'center';
  }
  if (diagonal) {
    ctx.setLineDash([4, 4]);
    ctx.strokeStyle = '#9ca3af';
    ctx.beginPath();
    ctx.moveTo(px(0), py(0));
    ctx.lineTo(px(1), py(1));
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.lineWidth = 1.5;
  for (const s of series) {
    ctx.strokeStyle = s.colour;
    ctx.fillStyle = s.colour;
    ctx.beginPath();
    for (const [i, x] of s.x.entries()) {
      if (i === 0) ctx.moveTo(px(x), py(s.y[i]));
      else ctx.lineTo(px(x), py(s.y[i]));
    }
    ctx.stroke();
    if (points)
      s.x.forEach((x, i) => {
        ctx.beginPath();
        ctx.arc(px(x), py(s.y[i]), 3, 0, 2 * Math.PI);
        ctx.fill();
      });
  }
}
