// New inputs for a deployed model, turned into features of the data's shape: an image file, a
// webcam picture, CSV rows of a table's columns.

/** The features of an image file, drawn into the data's shape `[c, h, w]`. */
export async function imageFeatures(file, shape) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error(`“${file.name}” could not be decoded as an image`);
  }
  return pixelsOf(bitmap, shape);
}

/** One frame of the webcam, when the browser and the user allow it. */
export async function webcamFeatures(shape) {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser offers no webcam here');
  let media;
  try {
    media = await navigator.mediaDevices.getUserMedia({ video: true });
  } catch (err) {
    throw new Error(
      `no webcam picture: ${err.name === 'NotAllowedError' ? 'access was refused' : err.name === 'NotFoundError' ? 'there is no camera' : err.message}`,
    );
  }
  try {
    const video = Object.assign(document.createElement('video'), { srcObject: media, muted: true });
    await video.play();
    return pixelsOf(await createImageBitmap(video), shape);
  } finally {
    for (const t of media.getTracks()) t.stop();
  }
}

/** CSV rows (`text`, no label) of a table with `columns`: their features, one row after another,
 * and how many rows; missing values as NaN, categories by index. */
export function rowFeatures(text, columns) {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (!lines.length) throw new Error('paste at least one row');
  const values = [];
  for (const [i, line] of lines.entries()) {
    const fields = line.split(/[,;\t]/).map((f) => f.trim());
    if (fields.length !== columns.length)
      throw new Error(
        `row ${i + 1} has ${fields.length} values where the table has ${columns.length} columns (${columns.map((c) => c.name).join(', ')})`,
      );
    for (const [k, f] of fields.entries()) {
      const c = columns[k];
      if (/^(|na|n\/a|nan|\?|null|none)$/i.test(f)) {
        values.push(NaN);
      } else if (c.categories) {
        const at = c.categories.indexOf(f);
        if (at < 0) throw new Error(`row ${i + 1}: '${f}' is not a category of ${c.name} (${c.categories.join(', ')})`);
        values.push(at);
      } else {
        const v = Number(f);
        if (!Number.isFinite(v)) throw new Error(`row ${i + 1}: ${c.name} must be a number, got '${f}'`);
        values.push(v);
      }
    }
  }
  return { features: new Float32Array(values), count: lines.length };
}

/** An image drawn into the data's shape `[c, h, w]` (values 0–1), padded to keep its aspect. */
function pixelsOf(bitmap, [c, h, w]) {
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'black';
  ctx.fillRect(0, 0, w, h);
  const scale = Math.min(w / bitmap.width, h / bitmap.height);
  ctx.drawImage(
    bitmap,
    (w - bitmap.width * scale) / 2,
    (h - bitmap.height * scale) / 2,
    bitmap.width * scale,
    bitmap.height * scale,
  );
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const out = new Float32Array(c * h * w);
  for (let p = 0; p < h * w; p++) {
    const [r, g, b] = [rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]];
    if (c === 3) {
      out[p] = r / 255;
      out[h * w + p] = g / 255;
      out[2 * h * w + p] = b / 255;
    } else {
      out[p] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    }
  }
  return out;
}
