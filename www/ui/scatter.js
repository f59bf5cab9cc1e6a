// A scatter plot of one searched setting against the score.

/** One parameter against the score: each finished trial a dot, the best one ringed. */
export function drawScatter(canvas, param, points, label) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  const box = { left: 34, top: 16, right: width - 8, bottom: height - 26 };
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#1f2937';
  ctx.textAlign = 'center';
  ctx.fillText(`${label}${param.log ? ' (log)' : ''}`, width / 2, height - 6);
  ctx.strokeStyle = '#e5e7eb';
  ctx.strokeRect(box.left, box.top, box.right - box.left, box.bottom - box.top);
  if (!points.length) return;
  const position =
    param.type === 'choice'
      ? (v) => (param.values.indexOf(v) + 0.5) / param.values.length
      : param.log
        ? (v) => Math.log(v / param.low) / Math.log(param.high / param.low)
        : (v) => (v - param.low) / (param.high - param.low || 1);
  const ys = points.map((p) => p[1]);
  const [lo, hi] = [Math.min(...ys), Math.max(...ys)];
  const py = (y) => box.bottom - ((y - lo) / (hi - lo || 1)) * (box.bottom - box.top - 8) - 4;
  ctx.fillStyle = '#6b7280';
  ctx.textAlign = 'right';
  ctx.fillText(hi.toPrecision(3), box.left - 3, box.top + 8);
  ctx.fillText(lo.toPrecision(3), box.left - 3, box.bottom);
  if (param.type === 'choice') {
    ctx.textAlign = 'center';
    for (const [i, v] of param.values.entries()) {
      ctx.fillText(String(v), box.left + ((i + 0.5) / param.values.length) * (box.right - box.left), box.bottom + 11);
    }
  }
  for (const [x, y, best] of points) {
    const px = box.left + Math.min(1, Math.max(0, position(x))) * (box.right - box.left);
    ctx.fillStyle = best ? '#dc2626' : '#2563eb';
    ctx.beginPath();
    ctx.arc(px, py(y), best ? 4.5 : 3, 0, 2 * Math.PI);
    ctx.fill();
  }
}
