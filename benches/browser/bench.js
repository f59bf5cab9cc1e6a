// Browser half of scripts/bench.sh: the same measurements as examples/bench.rs, on the wasm build
// served from dist/. Results land in window.benchResults.
import init, { DataSet, GpuDevice, Training, presetSpec, summarize } from '../whetstone.js';

async function measure() {
  await init();
  const bytes = new Uint8Array(await (await fetch('../assets/mnist-10k.bin')).arrayBuffer());
  const digits = DataSet.fromDigitsAsset(bytes);
  const gpu = await GpuDevice.open().catch(() => null);
  const results = [];
  for (const [where, device] of [['chromium-cpu', null], ['chromium-gpu', gpu]]) {
    if (where.endsWith('gpu') && !device) continue;
  for (const model of ['mlp', 'cnn']) {
    for (const batch of [32, 256]) {
      const spec = presetSpec(model, new Uint32Array([1, 28, 28]), 10);
      const flops = summarize(spec).flops;
      const config = { epochs: 100, batch_size: batch, optimizer: { type: 'adam', lr: 1e-3 }, seed: 1 };
      const run = device ? Training.onGpu(spec, JSON.stringify(config), digits, digits.length, 2000, device) : new Training(spec, JSON.stringify(config), digits, digits.length, 2000);
      await run.run(2);
      let start = performance.now();
      let samples = 0;
      while (performance.now() - start < 2000) {
        await run.run(4);
        samples += 4 * batch;
      }
      const train = samples / ((performance.now() - start) / 1e3);
      const x = digits.features(0, batch);
      start = performance.now();
      let inferred = 0;
      while (performance.now() - start < 1000) {
        await run.predict(x);
        inferred += batch;
      }
      const infer = inferred / ((performance.now() - start) / 1e3);
      results.push({ where, adapter: device?.adapter, model, batch, train_samples_per_s: Math.round(train), infer_samples_per_s: Math.round(infer), train_gflops: +(train * 3 * flops / 1e9).toFixed(2) });
      run.free();
    }
  }
  }
  return results;
}

window.benchResults = measure();
window.benchResults.then((r) => { document.getElementById('out').textContent = JSON.stringify(r, null, 1); });
