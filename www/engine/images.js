// The image upload's worker: unpacks .zip files, finds each image's class (its folder's name, or a
// labels CSV), decodes and resizes every image off the page's thread, and reports each file it
// could not use by name and why. Messages: {files: [{path, blob}], folders, labelsCsv, size,
// channels, fit} in; {type: 'progress', done, total} while decoding; {type: 'done', pixels,
// labels, classes, shape, problems} or {type: 'error', message} at the end.

import { baseName, declaredSize, unzip } from './archive.js';

const IMAGE_TYPES = /\.(png|jpe?g|webp|gif)$/i;
/** A single image larger than this is refused (a photo needs far less once resized). */
const MAX_IMAGE_BYTES = 32 * 1024 * 1024;
/** An image that declares more pixels than this is refused before it is decoded (a small file
 * can declare a huge image: a decompression bomb). */
const MAX_PIXELS = 40e6;
/** Bytes read for an image's header (a JPEG's frame header may follow a large EXIF block). */
const HEADER_BYTES = 256 * 1024;
/** Images decoded at once. */
const PARALLEL = 8;

const parentName = (path) => path.split('/').slice(-2, -1)[0];

/** A deflated entry unpacked, refused once it unpacks to more than `limit` bytes. */
async function inflate(blob, limit) {
  const reader = blob.stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const parts = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return new Blob(parts);
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      const refused = `it unpacks to more than the ${limit / 2 ** 20} MB limit for one image`;
      throw Object.assign(new Error(refused), { refused });
    }
    parts.push(value);
  }
}

/** Why an image file cannot be decoded safely (it declares more pixels than the budget), or null. */
async function tooLarge(blob) {
  let size = declaredSize(new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer()));
  // A JPEG's frame header may come after more metadata than that: then the whole file is read.
  if (!size && blob.size > HEADER_BYTES) size = declaredSize(new Uint8Array(await blob.arrayBuffer()));
  if (!size || size[0] * size[1] <= MAX_PIXELS) return null;
  const megapixels = Math.round((size[0] * size[1]) / 1e6);
  return `it declares ${size[0]} × ${size[1]} pixels (${megapixels} megapixels), over the ${MAX_PIXELS / 1e6}-megapixel limit for one image`;
}

/** One image, resized to size × size (keeping its aspect: padded with black, or centre-cropped), as
 * 8-bit planes [channels, size, size]. */
async function decode(blob, size, channels, fit) {
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.fillStyle = 'black';
  ctx.fillRect(0, 0, size, size);
  const scale =
    fit === 'crop'
      ? Math.max(size / bitmap.width, size / bitmap.height)
      : Math.min(size / bitmap.width, size / bitmap.height);
  const w = bitmap.width * scale;
  const h = bitmap.height * scale;
  ctx.drawImage(bitmap, (size - w) / 2, (size - h) / 2, w, h);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, size, size).data;
  const plane = size * size;
  const out = new Uint8Array(channels * plane);
  for (let p = 0; p < plane; p++) {
    const [r, g, b] = [rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]];
    if (channels === 1) {
      out[p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    } else {
      out[p] = r;
      out[plane + p] = g;
      out[2 * plane + p] = b;
    }
  }
  return out;
}

/** filename → label from a CSV whose header names a file column and a label column (or whose two
 * columns are file and label). */
function labelMap(text) {
  const rows = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.split(/[,;\t]/).map((f) => f.trim().replace(/^"|"$/g, '')));
  if (rows.length < 2) throw new Error('the labels CSV needs a header and at least one row');
  const header = rows[0].map((h) => h.toLowerCase());
  const file = Math.max(
    0,
    header.findIndex((h) => ['file', 'filename', 'image', 'path', 'name'].includes(h)),
  );
  const label = header.findIndex((h) => ['label', 'class', 'category'].includes(h));
  const labelAt = label >= 0 ? label : file === 0 ? 1 : 0;
  const map = new Map();
  for (const [i, row] of rows.slice(1).entries()) {
    if (row.length <= Math.max(file, labelAt) || !row[labelAt])
      throw new Error(`line ${i + 2} of the labels CSV has no label`);
    map.set(baseName(row[file]), row[labelAt]);
  }
  return map;
}

async function load({ files, folders: givenFolders = [], labelsCsv, size, channels, fit }) {
  const problems = [];
  const items = [];
  const folders = [...givenFolders];
  for (const f of files) {
    if (/\.zip$/i.test(f.path)) {
      try {
        const { entries, folders: inside } = await unzip(f.blob, f.path);
        items.push(...entries);
        folders.push(...inside);
      } catch (err) {
        problems.push({ file: f.path, reason: err.message });
      }
    } else {
      items.push(f);
    }
  }
  const labels = labelsCsv ? labelMap(labelsCsv) : null;
  const accepted = [];
  for (const item of items) {
    const label = labels ? labels.get(baseName(item.path)) : parentName(item.path);
    if (item.problem) problems.push({ file: item.path, reason: item.problem });
    else if (!IMAGE_TYPES.test(item.path))
      problems.push({ file: item.path, reason: 'not an image (PNG, JPEG, WebP or GIF)' });
    else if ((item.size ?? item.blob.size) > MAX_IMAGE_BYTES)
      problems.push({
        file: item.path,
        reason: `${((item.size ?? item.blob.size) / 2 ** 20).toFixed(0)} MB is over the ${MAX_IMAGE_BYTES / 2 ** 20} MB limit for one image`,
      });
    else if (!label)
      problems.push({
        file: item.path,
        reason: labels ? 'the labels CSV has no row for it' : 'it is not inside a class folder',
      });
    else accepted.push({ ...item, label });
  }
  const plane = channels * size * size;
  const decoded = new Array(accepted.length);
  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < accepted.length) {
      const i = next++;
      const item = accepted[i];
      try {
        const blob = item.deflated ? await inflate(item.blob, MAX_IMAGE_BYTES) : item.blob;
        const refused = await tooLarge(blob);
        if (refused) problems.push({ file: item.path, reason: refused });
        else decoded[i] = await decode(blob, size, channels, fit);
      } catch (err) {
        problems.push({ file: item.path, reason: err.refused ?? 'it could not be decoded (corrupt or truncated?)' });
      }
      done++;
      if (done % 25 === 0 || done === accepted.length)
        self.postMessage({ type: 'progress', done, total: accepted.length });
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const good = accepted.map((item, i) => ({ label: item.label, pixels: decoded[i] })).filter((x) => x.pixels);
  const classes = [...new Set(good.map((x) => x.label))].sort((a, b) =>
    a.localeCompare(b, undefined, { numeric: true }),
  );
  for (const folder of new Set(folders)) {
    if (!items.some((it) => it.path.startsWith(`${folder}/`)))
      problems.push({ file: `${folder}/`, reason: 'this class folder is empty' });
  }
  if (classes.length < 2) {
    const found = classes.length ? `only one class ('${classes[0]}')` : 'no usable images';
    throw Object.assign(new Error(`found ${found}: a classifier needs images of at least two classes`), { problems });
  }
  // Interleave the classes so that any prefix of the data set has all of them.
  const byClass = classes.map((c) => good.filter((x) => x.label === c));
  const order = [];
  for (let r = 0; order.length < good.length; r++)
    for (const members of byClass) if (r < members.length) order.push(members[r]);
  const pixels = new Uint8Array(order.length * plane);
  for (const [i, x] of order.entries()) pixels.set(x.pixels, i * plane);
  return {
    pixels,
    labels: new Uint32Array(order.map((x) => classes.indexOf(x.label))),
    classes,
    shape: [channels, size, size],
    problems,
  };
}

self.onmessage = async ({ data }) => {
  try {
    const result = await load(data);
    self.postMessage({ type: 'done', ...result }, [result.pixels.buffer]);
  } catch (err) {
    self.postMessage({ type: 'error', message: err.message ?? String(err), problems: err.problems ?? [] });
  }
};
