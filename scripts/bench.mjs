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
const pad = (v, n) => String(v).padStart(n);
console.log(`Whetstone CPU backend throughput (samples/s), built-in digits 28×28, Adam; ${new Date().toISOString()}`);
console.log(`browser: ${userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? userAgent}`);
console.log(`${'model'.padEnd(6)}${pad('batch', 6)} | ${pad('native train', 13)}${pad('native infer', 13)}${pad('GFLOP/s', 9)} | ${pad('wasm train', 11)}${pad('wasm infer', 11)}${pad('GFLOP/s', 9)} | ${pad('wasm/native', 12)}`);
for (const n of native) {
  const b = inBrowser.find((r) => r.model === n.model && r.batch === n.batch);
  console.log(`${n.model.padEnd(6)}${pad(n.batch, 6)} | ${pad(n.train_samples_per_s, 13)}${pad(n.infer_samples_per_s, 13)}${pad(n.train_gflops, 9)} | ${pad(b.train_samples_per_s, 11)}${pad(b.infer_samples_per_s, 11)}${pad(b.train_gflops, 9)} | ${pad((b.train_samples_per_s / n.train_samples_per_s).toFixed(2), 12)}`);
}
console.log(`GFLOP/s = 3 × forward FLOPs per sample × training samples/s (forward, input gradient, weight gradient).`);
console.log(`wasm: ${(wasm.length / 1024).toFixed(0)} KiB raw, ${(gzipSync(wasm, { level: 9 }).length / 1024).toFixed(0)} KiB gzipped`);
