// Benchmark (not a test): how long the built page takes from navigation until it is ready to train
// (the data and the model loaded, Train enabled), over several loads in fresh browser contexts.
// `node scripts/startup.mjs [dist folder] [loads]` prints the median and the spread.
import { join } from 'node:path';
import { launch, serve } from '../tests/e2e/serve.mjs';
import { root } from '../tests/e2e/page.mjs';

const dist = process.argv[2] ?? join(root, 'dist');
const loads = Number(process.argv[3] ?? 5);
const server = await serve(dist);
const browser = await launch();
const times = [];
try {
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(
      () =>
        document.body.dataset.setup === 'ready' &&
        document.querySelectorAll('#summary tr').length > 3 &&
        !document.getElementById('train').disabled,
      null,
      { timeout: 60_000, polling: 10 },
    );
    times.push(await page.evaluate(() => performance.now()));
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(
  `ready to train after ${median.toFixed(0)} ms (median of ${loads} loads; ${times[0].toFixed(0)}–${times.at(-1).toFixed(0)} ms)`,
);
