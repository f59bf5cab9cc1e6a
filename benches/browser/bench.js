// Browser half of scripts/bench.sh: the same measurements as examples/bench.rs, on the wasm build
// served from dist/. Results land in window.benchResults.
import init, { DataSet, GpuDevice, Training, presetSpec, summarize, textPresetSpec } from '../whetstone.js';

async function measure() {
  await init();
  const bytes = new Uint8Array(await (await fetch('../assets/mnist-10k.bin')).arrayBuffer());
  const digits = DataSet.fromDigitsAsset(bytes);
  const words = DataSet.fromWordsAsset(await (await fetch('../assets/words.tsv')).text());
  // The MLP and CNN on the digits; the Transformer on the words (12 characters a word).
  const models = [
    ['mlp', digits, presetSpec('mlp', new Uint32Array([1, 28, 28]), 10), 0, 2000],
    ['cnn', digits, presetSpec('cnn', new Uint32Array([1, 28, 28]), 10), 0, 2000],
    ['transformer', words, textPresetSpec('transformer', 12, words.vocabulary.size, words.classes.length), 12, 3000],
  ];
  const gpu = await GpuDevice.open().catch(() => null);
  const results = [];
  for (const [where, device] of [
    ['chromium-cpu', null],
    ['chromium-gpu', gpu],
  ]) {
    if (where.endsWith('gpu') && !device) continue;
    for (const [model, data, spec, tokens, heldOut] of models) {
      for (const batch of [32, 256]) {
        const flops = summarize(spec).flops;
        // Far more epochs than a fast device gets through in the timed windows (as examples/bench.rs).
        const config = { epochs: 10000, batch_size: batch, optimizer: { type: 'adam', lr: 1e-3 }, seed: 1 };
        const run = device
          ? Training.onGpu(spec, JSON.stringify(config), data, data.length, heldOut, device)
          : new Training(spec, JSON.stringify(config), data, data.length, heldOut);
        await run.run(2);
        // Four steps a call, read back once, as the page trains.
        const train = await windows(1000, async () => {
          const events = await run.run(4);
          if (events.some((e) => e.type === 'finished')) throw new Error(`${model} finished inside the timed windows`);
          return 4 * batch;
        });
        const x = data.features(0, batch);
        const infer = await windows(500, async () => {
          await run.predict(x);
          return batch;
        });
        results.push({
          where,
          adapter: device?.adapter,
          model,
          batch,
          tokens,
          train_samples_per_s: Math.round(median(train)),
          infer_samples_per_s: Math.round(median(infer)),
          train_spread: spread(train),
          infer_spread: spread(infer),
          train_gflops: +((median(train) * 3 * flops) / 1e9).toFixed(2),
        });
        run.free();
      }
    }
  }
  return { results, peak: await matmulPeak() };
}

/** The rates of five timed windows of at least `ms` each (and one call of `work`, which resolves
 * to the samples it did), as examples/bench.rs measures them. */
async function windows(ms, work) {
  const rates = [];
  for (let w = 0; w < 5; w++) {
    const start = performance.now();
    let done = 0;
    while (done === 0 || performance.now() - start < ms) done += await work();
    rates.push(done / ((performance.now() - start) / 1e3));
  }
  return rates;
}

const median = (rates) => [...rates].sort((a, b) => a - b)[rates.length >> 1];

/** Half the range of the rates, as a fraction of their median. */
const spread = (rates) => +((Math.max(...rates) - Math.min(...rates)) / 2 / median(rates)).toFixed(3);

// The CPU backend's matrix-product peak in this browser: inference of one 1024→1024 dense layer on
// batches of 256 (a 256×1024×1024 product, 0.54 GFLOP, plus the bias and a softmax).
async function matmulPeak() {
  const width = 1024;
  const rows = 512;
  const features = new Float32Array(rows * width).map((_, i) => Math.sin(i));
  const labels = new Uint32Array(rows).map((_, i) => i % width);
  const classes = Array.from({ length: width }, (_, i) => String(i));
  const data = DataSet.fromArrays(features, labels, new Uint32Array([width]), classes);
  const spec = JSON.stringify({ input: [width], layers: [{ type: 'dense', units: width }] });
  const config = JSON.stringify({ epochs: 1, batch_size: 256, optimizer: { type: 'sgd', lr: 0.01 } });
  const run = new Training(spec, config, data, rows, 256);
  const x = features.subarray(0, 256 * width);
  await run.predict(x);
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < 2000) {
    await run.predict(x);
    calls++;
  }
  run.free();
  return (calls * 2 * 256 * width * width) / ((performance.now() - start) / 1e3) / 1e9;
}

window.benchResults = measure();
window.benchResults.then((r) => {
  document.getElementById('out').textContent = JSON.stringify(r, null, 1);
});
