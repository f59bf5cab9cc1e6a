// One held-out sample as a small figure: an image ([c, h, w]: three channels in colour, else the
// first in grey), a sequence ([steps, features], a line plot), a text, or a point (its
// coordinates), with a caption.
import { plotSequence } from './sequence.js';

/** An image `[c, h, w]` with values in [0, 1] on a canvas of its own size. */
export function imageCanvas(values, [c, h, w]) {
  const canvas = Object.assign(document.createElement('canvas'), { width: w, height: h });
  const image = canvas.getContext('2d').createImageData(w, h);
  const plane = w * h;
  const byte = (v) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  for (let j = 0; j < plane; j++) {
    const [r, g, b] =
      c === 3 ? [values[j], values[plane + j], values[2 * plane + j]] : [values[j], values[j], values[j]];
    image.data.set([byte(r), byte(g), byte(b), 255], j * 4);
  }
  canvas.getContext('2d').putImageData(image, 0, 0);
  return canvas;
}

/** `text`, when given, is the sample read back as text (a text data set's token ids). */
export function sampleFigure(values, shape, caption, text) {
  const figure = document.createElement('figure');
  if (text !== undefined) {
    figure.append(Object.assign(document.createElement('div'), { className: 'text-sample', textContent: text }));
  } else if (shape.length === 3) {
    figure.append(imageCanvas(values, shape));
  } else if (shape.length === 2) {
    const canvas = Object.assign(document.createElement('canvas'), { width: 96, height: 48, className: 'sequence' });
    plotSequence(canvas, values, shape[1]);
    figure.append(canvas);
  } else {
    figure.append(
      Object.assign(document.createElement('div'), {
        className: 'point',
        textContent: Array.from(values, (v) => v.toFixed(2)).join(', '),
      }),
    );
  }
  figure.append(Object.assign(document.createElement('figcaption'), { textContent: caption }));
  return figure;
}
