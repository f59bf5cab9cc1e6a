// Benchmark (not a test): a long run's memory. Trains the CNN preset on the digits for many epochs
// on each backend (the CPU, and WebGPU where the browser has it) in the built page, and samples
// after every epoch the worker's wasm memory and the page's JavaScript heap (collected first). Memory that
// grows epoch after epoch is a leak; the figures should be flat after the first epoch.
// `node scripts/soak.mjs [epochs] [samples]` (defaults: 50 epochs of 2,000 samples) prints a row per
// sampled epoch and, per backend, the growth while the run trains (from epoch 2 to the one before
// the last, which is followed by the page's evaluation).
import { join } from 'node:path';
import { launch, serve } from '../tests/e2e/serve.mjs';
import { root } from '../tests/e2e/page.mjs';

const epochs = Number(process.argv[2] ?? 50);
const samples = Number(process.argv[3] ?? 2000);
const server = await serve(join(root, 'dist'));
// A collector the page can call, so that the heap is measured without the garbage it has not yet freed.
const browser = await launch(['--js-flags=--expose-gc']);
const mb = (bytes) => (bytes === null ? '–' : (bytes / 2 ** 20).toFixed(1));

async function soak(device) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => !document.getElementById('train').disabled, null, { timeout: 120_000 });
  if (device === 'gpu' && !(await page.evaluate(() => globalThis.whetstone.state.gpu.adapter))) {
    await context.close();
    return null;
  }
  await page.selectOption('#preset', 'cnn');
  await page.evaluate(() => {
    location.hash = '#/train';
  });
  await page.selectOption('#device', device);
  await page.fill('#samples', String(samples));
  await page.fill('#heldout', String(Math.round(samples / 4)));
  await page.fill('#epochs', String(epochs));
  await page.click('#train');
  const rows = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    await page.waitForFunction((e) => globalThis.whetstone.state.run.history.length >= e, epoch, {
      timeout: 600_000,
      polling: 100,
    });
    const m = await page.evaluate(async () => {
      const { wasm } = await globalThis.whetstone.engine.request('memory');
      globalThis.gc();
      return { wasm, page: performance.memory?.usedJSHeapSize ?? null };
    });
    rows.push({ epoch, ...m });
    if (epoch <= 2 || epoch % 10 === 0 || epoch >= epochs - 1)
      console.log(
        `${device} epoch ${String(epoch).padStart(3)}: worker's wasm memory ${mb(m.wasm)} MB, page's heap ${mb(m.page)} MB`,
      );
  }
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  await context.close();
  return rows;
}

try {
  for (const device of ['cpu', 'gpu']) {
    const rows = await soak(device);
    if (!rows) {
      console.log(`${device}: not available in this browser`);
      continue;
    }
    // Epoch 1 sets the run up; the last epoch is followed by the evaluation the page shows.
    const [second, beforeLast] = [rows[Math.min(1, rows.length - 1)], rows.at(-2) ?? rows[0]];
    const growth = (key) =>
      second[key] === null ? '–' : `${((beforeLast[key] - second[key]) / 2 ** 20).toFixed(1)} MB`;
    const peak = Math.max(...rows.map((r) => r.wasm));
    console.log(
      `${device}: from epoch ${second.epoch} to ${beforeLast.epoch} the worker's wasm memory grew ${growth('wasm')} and the page's heap ${growth('page')}; the wasm memory peaked at ${mb(peak)} MB with the final evaluation`,
    );
  }
} finally {
  await browser.close();
  await server.close();
}
