// Prints one table of training and inference throughput of the presets, natively and in headless
// Chromium, and the gzipped size of the shipped wasm. Expects dist/ built (scripts/bench.sh does it).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch } from '../tests/e2e/serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const native = execFileSync('cargo', ['run', '--quiet', '--release', '--example', 'bench'], { cwd: root, encoding: 'utf8' })
  .trim().split('\n').map((line) => JSON.parse(line));

const server = await serve(join(root, 'dist'), { bench: join(root, 'benches', 'browser') });
const browser = await launch();
const page = await browser.newPage();
await page.goto(`${server.url}bench/index.html`);
const inBrowser = await page.evaluate(() => window.benchResults);
const userAgent = await page.evaluate(() => navigator.userAgent);
await browser.close();
await server.close();

const wasm = readFileSync(join(root, 'dist', 'whetstone_bg.wasm'));
const rows = [...native, ...inBrowser];
const pad = (v, n) => String(v).padStart(n);
console.log(`Whetstone throughput (samples/s) on the built-in 28×28 digits, Adam; ${new Date().toISOString()}`);
console.log(`browser: ${userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? userAgent}; GPU rows run on the adapter named`);
console.log(`${'where'.padEnd(13)}${'model'.padEnd(6)}${pad('batch', 6)}${pad('train/s', 10)}${pad('infer/s', 10)}${pad('GFLOP/s', 9)}${pad('vs native CPU', 15)}  adapter`);
for (const r of rows) {
  const base = native.find((n) => n.where === 'native-cpu' && n.model === r.model && n.batch === r.batch);
  const ratio = base ? (r.train_samples_per_s / base.train_samples_per_s).toFixed(2) : '–';
  console.log(`${r.where.padEnd(13)}${r.model.padEnd(6)}${pad(r.batch, 6)}${pad(r.train_samples_per_s, 10)}${pad(r.infer_samples_per_s, 10)}${pad(r.train_gflops, 9)}${pad(ratio, 15)}  ${r.adapter ?? ''}`);
}
console.log('GFLOP/s = 3 × forward FLOPs per sample × training samples/s (forward, input gradient, weight gradient).');
console.log(`wasm: ${(wasm.length / 1024).toFixed(0)} KiB raw, ${(gzipSync(wasm, { level: 9 }).length / 1024).toFixed(0)} KiB gzipped`);
