// One held-out sample as a small figure: an image ([c, h, w], the first channel in grey), a sequence
// ([steps, features], a line plot) or a point (its coordinates), with a caption.
import { plotSequence } from './sequence.js';

export function sampleFigure(values, shape, caption) {
  const figure = document.createElement('figure');
  if (shape.length === 3) {
    const [, h, w] = shape;
    const canvas = Object.assign(document.createElement('canvas'), { width: w, height: h });
    const image = canvas.getContext('2d').createImageData(w, h);
    for (let j = 0; j < w * h; j++) {
      const v = Math.round(Math.min(1, Math.max(0, values[j])) * 255);
      image.data.set([v, v, v, 255], j * 4);
    }
    canvas.getContext('2d').putImageData(image, 0, 0);
    figure.append(canvas);
  } else if (shape.length === 2) {
    const canvas = Object.assign(document.createElement('canvas'), { width: 96, height: 48, className: 'sequence' });
    plotSequence(canvas, values, shape[1]);
    figure.append(canvas);
  } else {
    figure.append(Object.assign(document.createElement('div'), { className: 'point', textContent: Array.from(values, (v) => v.toFixed(2)).join(', ') }));
  }
  figure.append(Object.assign(document.createElement('figcaption'), { textContent: caption }));
  return figure;
}
