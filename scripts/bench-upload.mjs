// Benchmark (not a test): uploads a .zip of 10,000 PNGs (two classes of 32 × 32 shapes) through the
// built page and prints how long decoding and loading took, and the longest the page's own thread
// was blocked meanwhile (a heartbeat every 10 ms measures it). Expects dist/ built.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch } from '../tests/e2e/serve.mjs';
import { png, seeded, zip } from '../tests/e2e/files.mjs';

const COUNT = Number(process.env.UPLOAD_IMAGES ?? 10_000);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const random = seeded(3);
const entries = [];
for (let i = 0; i < COUNT; i++) {
  const kind = i % 2 ? 'circle' : 'square';
  const [r, cx, cy] = [6 + random() * 6, 10 + random() * 12, 10 + random() * 12];
  const inside =
    kind === 'circle'
      ? (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r
      : (x, y) => Math.abs(x - cx) <= r && Math.abs(y - cy) <= r;
  entries.push({
    path: `shapes/${kind}/${i}.png`,
    data: png(32, 32, (x, y) => (inside(x, y) ? [250, 200, 40] : [20, 30, 90])),
  });
}
const archive = zip(entries);

const server = await serve(join(root, 'dist'));
const browser = await launch();
const page = await browser.newPage();
await page.goto(server.url);
await page.waitForFunction(() => document.body.dataset.setup === 'ready', null, { timeout: 120_000 });
await page.evaluate(() => {
  globalThis.heartbeat = { last: performance.now(), longest: 0 };
  setInterval(() => {
    const now = performance.now();
    heartbeat.longest = Math.max(heartbeat.longest, now - heartbeat.last);
    heartbeat.last = now;
  }, 10);
});
const started = Date.now();
await page.setInputFiles('#image-files', { name: 'shapes.zip', mimeType: 'application/zip', buffer: archive });
const decoding = await page
  .waitForFunction(() => /decoding images/.test(document.getElementById('dataset-info').textContent), null, {
    timeout: 0,
  })
  .then(() => Date.now());
await page.waitForFunction(
  (n) =>
    new RegExp(`${n.toLocaleString('en-US')} samples of 3 × 32 × 32`).test(
      document.getElementById('dataset-info').textContent,
    ),
  COUNT,
  { timeout: 0 },
);
const seconds = (Date.now() - started) / 1000;
const longest = await page.evaluate(() => heartbeat.longest);
console.log(
  `Image upload: ${COUNT.toLocaleString('en-US')} PNGs in a ${(archive.length / 2 ** 20).toFixed(1)} MB .zip, 32 × 32 RGB`,
);
console.log(
  `  decoding started after ${((decoding - started) / 1000).toFixed(2)} s; loaded and stored after ${seconds.toFixed(1)} s (${Math.round(COUNT / seconds).toLocaleString('en-US')} images/s)`,
);
console.log(`  longest pause of the page's thread meanwhile: ${Math.round(longest)} ms`);
await browser.close();
await server.close();
