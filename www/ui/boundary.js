// Decision regions of a 2-D classifier: the model's prediction on a grid, shaded by confidence,
// with the data points on top.
export const EXTENT = 1.5;
export const GRID = 64;
const COLOURS = [
  [37, 99, 235],
  [220, 38, 38],
  [5, 150, 105],
  [217, 119, 6],
];

/** GRID × GRID points covering [-EXTENT, EXTENT]², row by row from the top. */
export function gridFeatures() {
  const f = new Float32Array(GRID * GRID * 2);
  for (let r = 0; r < GRID; r++) {
    for (let c = 0; c < GRID; c++) {
      f[(r * GRID + c) * 2] = -EXTENT + (2 * EXTENT * (c + 0.5)) / GRID;
      f[(r * GRID + c) * 2 + 1] = EXTENT - (2 * EXTENT * (r + 0.5)) / GRID;
    }
  }
  return f;
}

export function drawRegions(canvas, probs, classes, points, labels) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  if (probs) {
    const cells = new ImageData(GRID, GRID);
    for (let i = 0; i < GRID * GRID; i++) {
      let [best, p] = [0, 0];
      for (let k = 0; k < classes; k++) if (probs[i * classes + k] > p) [best, p] = [k, probs[i * classes + k]];
      const strength = (p - 1 / classes) / (1 - 1 / classes);
      const colour = COLOURS[best % COLOURS.length];
      for (let ch = 0; ch < 3; ch++) cells.data[i * 4 + ch] = 255 - (255 - colour[ch]) * 0.45 * strength;
      cells.data[i * 4 + 3] = 255;
    }
    const small = new OffscreenCanvas(GRID, GRID);
    small.getContext('2d').putImageData(cells, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, width, height);
  }
  for (let i = 0; i < labels.length; i++) {
    const x = ((points[2 * i] + EXTENT) / (2 * EXTENT)) * width;
    const y = ((EXTENT - points[2 * i + 1]) / (2 * EXTENT)) * height;
    ctx.fillStyle = `rgb(${COLOURS[labels[i] % COLOURS.length].join(',')})`;
    ctx.strokeStyle = '#fff';
    ctx.beginPath();
    ctx.arc(x, y, 2.5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
}
