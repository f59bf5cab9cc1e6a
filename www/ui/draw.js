// A drawing pad that turns strokes into a 28×28 digit laid out like MNIST: the ink's bounding box
// scaled into 20×20, then shifted so that its centre of mass sits at the centre of the 28×28 frame.
export class DrawingPad {
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { willReadFrequently: true });
    this.onChange = onChange;
    this.drawing = false;
    this.pending = false;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      canvas.setPointerCapture(e.pointerId);
      this.stroke(e, true);
    });
    canvas.addEventListener('pointermove', (e) => this.drawing && this.stroke(e, false));
    const end = () => {
      this.drawing = false;
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  clear() {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.empty = true;
  }

  stroke(e, start) {
    const r = this.canvas.getBoundingClientRect();
    const x = (e.clientX - r.left) * (this.canvas.width / r.width);
    const y = (e.clientY - r.top) * (this.canvas.height / r.height);
    const ctx = this.ctx;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = this.canvas.width / 14;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    if (start) {
      ctx.beginPath();
      ctx.moveTo(x, y);
    }
    ctx.lineTo(x, y);
    ctx.stroke();
    this.empty = false;
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        this.onChange(this.pixels());
      });
    }
  }

  /** The drawing as 784 values in [0, 1], or null when nothing is drawn. */
  pixels() {
    const { width, height } = this.canvas;
    const src = this.ctx.getImageData(0, 0, width, height).data;
    let [x0, y0, x1, y1] = [width, height, -1, -1];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (src[(y * width + x) * 4] > 32) {
          x0 = Math.min(x0, x);
          y0 = Math.min(y0, y);
          x1 = Math.max(x1, x);
          y1 = Math.max(y1, y);
        }
      }
    }
    if (x1 < 0) return null;
    const box = Math.max(x1 - x0 + 1, y1 - y0 + 1);
    const scale = 20 / box;
    const small = new OffscreenCanvas(28, 28);
    const sctx = small.getContext('2d', { willReadFrequently: true });
    sctx.fillStyle = '#000';
    sctx.fillRect(0, 0, 28, 28);
    sctx.imageSmoothingQuality = 'high';
    const w = (x1 - x0 + 1) * scale;
    const h = (y1 - y0 + 1) * scale;
    sctx.drawImage(this.canvas, x0, y0, x1 - x0 + 1, y1 - y0 + 1, (28 - w) / 2, (28 - h) / 2, w, h);
    const rgba = sctx.getImageData(0, 0, 28, 28).data;
    const grey = Array.from({ length: 784 }, (_, i) => rgba[i * 4] / 255);
    return centreOfMassShift(grey);
  }
}

function centreOfMassShift(grey) {
  let [mass, mx, my] = [0, 0, 0];
  grey.forEach((v, i) => {
    mass += v;
    mx += v * (i % 28);
    my += v * Math.floor(i / 28);
  });
  const dx = Math.round(13.5 - mx / mass);
  const dy = Math.round(13.5 - my / mass);
  const out = new Float32Array(784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const sx = x - dx;
      const sy = y - dy;
      if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) out[y * 28 + x] = grey[sy * 28 + sx];
    }
  }
  return out;
}
