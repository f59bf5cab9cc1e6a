// Prints one table of training and inference throughput of the presets, natively and in headless
// Chromium, and the gzipped size of the shipped wasm. Expects dist/ built (scripts/bench.sh does it).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch } from '../tests/e2e/serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const native = execFileSync('cargo', ['run', '--quiet', '--release', '--example', 'bench'], {
  cwd: root,
  encoding: 'utf8',
})
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line));

const mounts = {
  'peers/modules': join(root, 'benches', 'peers', 'node_modules'),
  peers: join(root, 'benches', 'peers'),
  bench: join(root, 'benches', 'browser'),
};
const browser = await launch();

async function inPage(path, expression, options = {}) {
  const server = await serve(join(root, 'dist'), mounts, options);
  const page = await browser.newPage();
  page.setDefaultTimeout(0);
  await page.goto(`${server.url}${path}`);
  const value = await page.evaluate(expression);
  const userAgent = await page.evaluate(() => navigator.userAgent);
  await page.close();
  await server.close();
  return { value, userAgent };
}

const {
  value: { results: inBrowser, peak },
  userAgent,
} = await inPage('bench/index.html', () => window.benchResults);
const cap = process.env.BENCH_CAP_MS ?? 10000;
const peers = await inPage(`peers/index.html?cap=${cap}`, () => window.peerResults);
const threaded = await inPage(`peers/index.html?cap=${cap}`, () => window.peerResults, { isolated: true });
const race = await inPage('peers/index.html?mode=accuracy', () => window.peerResults);
await browser.close();

const wasm = readFileSync(join(root, 'dist', 'whetstone_bg.wasm'));
const rows = [...native, ...inBrowser];
const pad = (v, n) => String(v).padStart(n);
console.log(
  `Whetstone throughput (samples/s) on the built-in 28×28 digits (MLP, CNN) and words (Transformer, 12 characters a word), Adam; ${new Date().toISOString()}`,
);
console.log(
  `browser: ${userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? userAgent}; GPU rows run on the adapter named`,
);
console.log(
  `${'where'.padEnd(13)}${'model'.padEnd(12)}${pad('batch', 6)}${pad('train/s', 10)}${pad('±', 6)}${pad('infer/s', 10)}${pad('±', 6)}${pad('train tok/s', 12)}${pad('infer tok/s', 12)}${pad('GFLOP/s', 9)}${pad('vs native CPU', 15)}  adapter`,
);
const percent = (fraction) => `${(100 * fraction).toFixed(0)}%`;
for (const r of rows) {
  const base = native.find((n) => n.where === 'native-cpu' && n.model === r.model && n.batch === r.batch);
  const ratio = base ? (r.train_samples_per_s / base.train_samples_per_s).toFixed(2) : '–';
  const tokens = (perS) => (r.tokens ? r.tokens * perS : '–');
  console.log(
    `${r.where.padEnd(13)}${r.model.padEnd(12)}${pad(r.batch, 6)}${pad(r.train_samples_per_s, 10)}${pad(percent(r.train_spread), 6)}${pad(r.infer_samples_per_s, 10)}${pad(percent(r.infer_spread), 6)}${pad(tokens(r.train_samples_per_s), 12)}${pad(tokens(r.infer_samples_per_s), 12)}${pad(r.train_gflops, 9)}${pad(ratio, 15)}  ${r.adapter ?? ''}`,
  );
}
console.log('Each rate is the median of five timed windows; ± is half their range, as a share of the median.');
console.log('GFLOP/s = 3 × forward FLOPs per sample × training samples/s (forward, input gradient, weight gradient).');
console.log(
  `wasm-SIMD matrix-product peak in this browser (256×1024×1024 dense inference, CPU backend): ${peak.toFixed(1)} GFLOP/s;`,
);
console.log(
  `  the chromium-cpu rows reach ${rows
    .filter((r) => r.where === 'chromium-cpu')
    .map((r) => `${r.model}/${r.batch} ${((100 * r.train_gflops) / peak).toFixed(0)} %`)
    .join(', ')} of it.`,
);
console.log(
  `wasm: ${(wasm.length / 1024).toFixed(0)} KiB raw, ${(gzipSync(wasm, { level: 9 }).length / 1024).toFixed(0)} KiB gzipped`,
);

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
// Each contender's rate is the median of its timed repeats (the laps of its training run, its
// inference passes), printed with their spread.
const contenders = [...peers.value.results, ...threaded.value.results].map((r) =>
  r.error
    ? r
    : {
        ...r,
        trainPerS: median(r.trainRates),
        inferPerS: median(r.inferRates),
      },
);
const spread = (xs) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;
console.log('');
console.log(
  `Against the peers, same browser, same models (MLP 784-128-10; LeNet-small conv5x5x8-pool-conv5x5x16-pool-dense10 without padding, and "lenet-pad" with padding 2), one epoch on 8,000 digits or ${cap / 1000} s after two untimed warm-up batches (kernel compilation), loss read every batch; held-out accuracy on 2,000 digits when the epoch finished. Training: the median of the run's timed laps (a fifth of the epoch or of the cap each) and their range; inference: the median of 5 passes over the held-out digits (fewer when they take over ${cap / 1000} s together) and their range.`,
);
console.log(
  `cores: ${peers.value.cores}; WebGPU adapter: ${peers.value.gpu ?? 'none'}${peers.value.gpuSoftware ? ' (software)' : ''}; threaded wasm run cross-origin isolated: ${threaded.value.isolated}`,
);
console.log(
  `${'contender'.padEnd(34)}${'model'.padEnd(10)}${pad('batch', 6)}${pad('train/s', 9)}${pad('(range)', 15)}${pad('infer/s', 9)}${pad('(range)', 15)}${pad('GFLOP/s', 9)}${pad('accuracy', 10)}`,
);
for (const r of contenders) {
  const acc = r.error ? r.error : r.epochDone ? `${(r.accuracy * 100).toFixed(1)} %` : 'epoch not done';
  const row = r.error
    ? `${pad('–', 9)}${pad('', 15)}${pad('–', 9)}${pad('', 15)}${pad('–', 9)}`
    : `${pad(Math.round(r.trainPerS), 9)}${pad(spread(r.trainRates), 15)}${pad(Math.round(r.inferPerS), 9)}${pad(spread(r.inferRates), 15)}${pad(((r.trainPerS * 3 * r.flops) / 1e9).toFixed(2), 9)}`;
  console.log(`${r.name.padEnd(34)}${r.model.padEnd(10)}${pad(r.batch, 6)}${row}  ${acc}`);
}
console.log("GFLOP/s here = 3 × the model's forward FLOPs (as Whetstone counts them) × training samples/s.");
console.log('');
console.log('Whetstone against the best peer of its kind, training samples/s (the CPU backend against the CPU');
console.log('peers; the GPU backend against the WebGL and WebGPU peers on the same adapter); targets at batch 32:');
const onGpu = (r) => /gpu|webgl/.test(r.name);
const targets = { cpu: { mlp: 2, lenet: 10, 'lenet-pad': 10 }, gpu: { mlp: 2, lenet: 2, 'lenet-pad': 2 } };
for (const kind of ['cpu', 'gpu']) {
  for (const model of ['mlp', 'lenet', 'lenet-pad']) {
    for (const batch of [32, 256]) {
      const rows = contenders.filter(
        (r) => r.model === model && r.batch === batch && !r.error && onGpu(r) === (kind === 'gpu'),
      );
      const best = (list) => list.reduce((a, b) => (b.trainPerS > (a?.trainPerS ?? 0) ? b : a), null);
      const ours = rows.find((r) => r.name === `whetstone ${kind}`);
      const theirs = best(rows.filter((r) => !r.name.startsWith('whetstone')));
      if (ours && theirs) {
        const target = batch === 32 ? `  (target ≥ ${targets[kind][model]}×)` : '';
        console.log(
          `  ${`whetstone ${kind}`.padEnd(14)} ${model.padEnd(9)} batch ${pad(batch, 3)}: ${Math.round(ours.trainPerS)} vs ${theirs.name} ${Math.round(theirs.trainPerS)} → ${(ours.trainPerS / theirs.trainPerS).toFixed(2)}×${target}`,
        );
      }
    }
  }
}
console.log('');
console.log('Whetstone (best backend) against the best peer, training samples/s:');
for (const model of ['mlp', 'lenet', 'lenet-pad']) {
  for (const batch of [32, 256]) {
    const rows = contenders.filter((r) => r.model === model && r.batch === batch && !r.error);
    const best = (list) => list.reduce((a, b) => (b.trainPerS > (a?.trainPerS ?? 0) ? b : a), null);
    const ours = best(rows.filter((r) => r.name.startsWith('whetstone')));
    const theirs = best(rows.filter((r) => !r.name.startsWith('whetstone')));
    if (ours && theirs) {
      console.log(
        `  ${model.padEnd(9)} batch ${pad(batch, 3)}: ${ours.name} ${Math.round(ours.trainPerS)} vs ${theirs.name} ${Math.round(theirs.trainPerS)} → ${(ours.trainPerS / theirs.trainPerS).toFixed(2)}×`,
      );
    }
  }
}
console.log('');
console.log('Targets for the CPU backend (training samples/s, batch 32, medians):');
const row = (name, model, batch = 32) =>
  contenders.find((r) => r.name === name && r.model === model && r.batch === batch && !r.error);
const cpuPeers = (model, batch = 32) =>
  contenders.filter(
    (r) => r.model === model && r.batch === batch && !r.error && !onGpu(r) && !r.name.startsWith('whetstone'),
  );
const ours = row('whetstone cpu', 'lenet-pad');
const convnet = row('convnetjs (sgd+momentum)', 'lenet-pad');
if (ours) {
  const gflops = (ours.trainPerS * 3 * ours.flops) / 1e9;
  console.log(`  LeNet-small (padded), one thread: ${gflops.toFixed(1)} GFLOP/s (target ≥ 20)`);
  if (convnet)
    console.log(
      `  LeNet-small (padded) against ConvNetJS: ${(ours.trainPerS / convnet.trainPerS).toFixed(1)}× (target ≥ 30×)`,
    );
}
// Every core for one run: the training worker's run on the cores a cross-origin isolated page
// gives, against the same worker on one thread, in the same page.
const workerRows = (model) =>
  contenders.filter(
    (r) => r.name.startsWith('whetstone cpu (worker') && r.model === model && r.batch === 32 && !r.error,
  );
for (const model of ['lenet-pad', 'mlp']) {
  const [one, many] = [
    workerRows(model).find((r) => r.name.endsWith('1 thread)')),
    workerRows(model).find((r) => !r.name.endsWith('1 thread)')),
  ];
  if (one && many)
    console.log(
      `  ${model === 'mlp' ? 'MLP' : 'LeNet-small (padded)'}, ${many.name.match(/\d+ threads/)[0]} against one (training worker, isolated page): ${Math.round(many.trainPerS)} vs ${Math.round(one.trainPerS)} → ${(many.trainPerS / one.trainPerS).toFixed(2)}×${model === 'lenet-pad' ? ' (target ≥ 1.7× on 2 cores)' : ''}`,
    );
}
const mlp = row('whetstone cpu', 'mlp');
const bestMlp = cpuPeers('mlp').reduce((a, b) => (b.trainPerS > (a?.trainPerS ?? 0) ? b : a), null);
if (mlp && bestMlp)
  console.log(
    `  MLP training against the best CPU peer (${bestMlp.name}): ${(mlp.trainPerS / bestMlp.trainPerS).toFixed(2)}× (target ≥ 3×)`,
  );
const mlpInfer = row('whetstone cpu', 'mlp', 256);
const jaxInfer = ['jax-js wasm', 'jax-js wasm (threads)']
  .map((name) => row(name, 'mlp', 256))
  .filter(Boolean)
  .reduce((a, b) => (b.inferPerS > (a?.inferPerS ?? 0) ? b : a), null);
if (mlpInfer && jaxInfer)
  console.log(
    `  MLP inference against ${jaxInfer.name} (batch 256 runs): ${(mlpInfer.inferPerS / jaxInfer.inferPerS).toFixed(2)}× (target ≥ 1.5×)`,
  );

console.log('');
console.log(
  `Time to ${race.value.target * 100} % held-out accuracy: the CNN preset (conv 5×5×8 pad 2 → pool → conv 5×5×16 → pool → dense 64 → dense 10) on 8,000 of the first 10,000 digits, batch 32 (Adam 0.002; ConvNetJS SGD, rate 0.01, momentum 0.9), held-out accuracy on the other 2,000 after each epoch (Whetstone's drawn with its seed, the peers' the last 2,000), wall time of training and evaluation, at most ${race.value.capMs / 1000} s:`,
);
for (const r of race.value.accuracy) {
  const what = r.error
    ? r.error
    : r.reached
      ? `${(r.ms / 1000).toFixed(1)} s (${r.epochs} epoch${r.epochs > 1 ? 's' : ''}, ${(r.accuracy * 100).toFixed(1)} %)`
      : `not reached in ${(r.ms / 1000).toFixed(0)} s (${r.epochs} epochs, ${(r.accuracy * 100).toFixed(1)} %)`;
  console.log(`  ${r.name.padEnd(34)} ${what}`);
}
