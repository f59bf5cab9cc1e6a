// Trains the same two models on the same digits with Whetstone and with its peers, in this browser,
// one after another, and leaves the measurements in window.peerResults. Every run reads its loss
// back after every batch (reading only at epoch end flatters asynchronous backends), stops after one
// epoch or CAP_MS, and is then evaluated on 2,000 held-out digits.
import init, { DataSet, GpuDevice, Training } from '../whetstone.js';

const CAP_MS = Number(new URLSearchParams(location.search).get('cap') ?? 10000);
const ONLY = new URLSearchParams(location.search).get('only');
const TRAIN = 8000;
const TEST = 2000;

const MODELS = {
  mlp: { input: [1, 28, 28], layers: [{ type: 'flatten' }, { type: 'dense', units: 128 }, { type: 'relu' }, { type: 'dense', units: 10 }] },
  lenet: {
    input: [1, 28, 28],
    layers: [
      { type: 'conv2d', filters: 8, kernel: 5 }, { type: 'relu' }, { type: 'max_pool2d', size: 2 },
      { type: 'conv2d', filters: 16, kernel: 5 }, { type: 'relu' }, { type: 'max_pool2d', size: 2 },
      { type: 'flatten' }, { type: 'dense', units: 10 },
    ],
  },
};

function timed(fn) {
  const start = performance.now();
  return Promise.resolve(fn()).then((value) => ({ value, ms: performance.now() - start }));
}

async function whetstone(digits, gpu, model, batch) {
  const config = { epochs: 1, batch_size: batch, optimizer: { type: 'adam', lr: 1e-3 }, seed: 1 };
  const spec = JSON.stringify(MODELS[model]);
  const run = gpu ? Training.onGpu(spec, JSON.stringify(config), digits, TRAIN + TEST, TEST, gpu) : new Training(spec, JSON.stringify(config), digits, TRAIN + TEST, TEST);
  let samples = 0;
  let accuracy = null;
  const start = performance.now();
  while (performance.now() - start < CAP_MS) {
    const events = await run.run(1);
    samples = Math.min(TRAIN, samples + batch);
    const epoch = events.find((e) => e.type === 'epoch');
    if (epoch) { accuracy = epoch.val_accuracy; break; }
  }
  const trainMs = performance.now() - start;
  const x = digits.features(0, 256);
  const infer = await timed(async () => { for (let i = 0; i < 8; i++) await run.predict(x); });
  run.free();
  return { samples, trainMs, accuracy, inferPerS: (8 * 256) / (infer.ms / 1e3) };
}

function tfModel(model) {
  const m = tf.sequential();
  if (model === 'mlp') {
    m.add(tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }));
  } else {
    m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 5, activation: 'relu' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.flatten());
  }
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}

async function tensorflow(data, backend, model, batch) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  await tf.ready();
  const shape = model === 'mlp' ? [784] : [28, 28, 1];
  const m = tfModel(model);
  let samples = 0;
  const start = performance.now();
  while (samples < TRAIN && performance.now() - start < CAP_MS) {
    const n = Math.min(batch, TRAIN - samples);
    const [xs, ys] = tf.tidy(() => [
      tf.tensor(data.x.subarray(samples * 784, (samples + n) * 784), [n, ...shape]),
      tf.oneHot(tf.tensor1d(data.y.subarray(samples, samples + n), 'int32'), 10),
    ]);
    await m.trainOnBatch(xs, ys);
    tf.dispose([xs, ys]);
    samples += n;
  }
  const trainMs = performance.now() - start;
  const evaluate = async () => {
    let correct = 0;
    for (let s = TRAIN; s < TRAIN + TEST; s += 256) {
      const n = Math.min(256, TRAIN + TEST - s);
      const pred = tf.tidy(() => m.predict(tf.tensor(data.x.subarray(s * 784, (s + n) * 784), [n, ...shape])).argMax(1));
      const got = await pred.data();
      pred.dispose();
      got.forEach((p, i) => { correct += p === data.y[s + i]; });
    }
    return correct / TEST;
  };
  const infer = await timed(evaluate);
  m.dispose();
  return { samples, trainMs, accuracy: samples === TRAIN ? infer.value : null, inferPerS: TEST / (infer.ms / 1e3) };
}

// ConvNetJS 0.3 has no Adam: SGD with momentum 0.9 and learning rate 0.01, its usual setting.
async function convnet(data, model, batch) {
  const layers = [{ type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 }];
  if (model === 'mlp') {
    layers.push({ type: 'fc', num_neurons: 128, activation: 'relu' });
  } else {
    layers.push({ type: 'conv', sx: 5, filters: 8, stride: 1, pad: 0, activation: 'relu' }, { type: 'pool', sx: 2, stride: 2 });
    layers.push({ type: 'conv', sx: 5, filters: 16, stride: 1, pad: 0, activation: 'relu' }, { type: 'pool', sx: 2, stride: 2 });
  }
  layers.push({ type: 'softmax', num_classes: 10 });
  const net = new convnetjs.Net();
  net.makeLayers(layers);
  const trainer = new convnetjs.Trainer(net, { method: 'sgd', learning_rate: 0.01, momentum: 0.9, batch_size: batch, l2_decay: 0 });
  const vol = (i) => {
    const v = new convnetjs.Vol(28, 28, 1, 0.0);
    v.w.set(data.x.subarray(i * 784, (i + 1) * 784));
    return v;
  };
  let samples = 0;
  const start = performance.now();
  while (samples < TRAIN && performance.now() - start < CAP_MS) {
    trainer.train(vol(samples), data.y[samples]);
    samples++;
  }
  const trainMs = performance.now() - start;
  const infer = await timed(() => {
    let correct = 0;
    for (let s = TRAIN; s < TRAIN + TEST; s++) {
      const p = Array.from(net.forward(vol(s)).w);
      correct += p.indexOf(Math.max(...p)) === data.y[s];
    }
    return correct / TEST;
  });
  return { samples, trainMs, accuracy: samples === TRAIN ? infer.value : null, inferPerS: TEST / (infer.ms / 1e3) };
}

async function measure() {
  await init();
  const bytes = new Uint8Array(await (await fetch('../assets/mnist-10k.bin')).arrayBuffer());
  const digits = DataSet.fromDigitsAsset(bytes);
  const data = { x: digits.features(0, TRAIN + TEST), y: Int32Array.from(digits.labels(0, TRAIN + TEST)) };
  const gpu = await GpuDevice.open().catch(() => null);
  tf.wasm.setWasmPaths(new URL('modules/@tensorflow/tfjs-backend-wasm/dist/', location.href).href);
  const isolated = self.crossOriginIsolated;
  const contenders = isolated
    ? [['tfjs wasm (SIMD, threads)', (m, b) => tensorflow(data, 'wasm', m, b)]]
    : [
        ['whetstone cpu', (m, b) => whetstone(digits, null, m, b)],
        ...(gpu ? [[`whetstone gpu`, (m, b) => whetstone(digits, gpu, m, b)]] : []),
        ['tfjs cpu', (m, b) => tensorflow(data, 'cpu', m, b)],
        ['tfjs wasm (SIMD)', (m, b) => tensorflow(data, 'wasm', m, b)],
        ['tfjs webgl', (m, b) => tensorflow(data, 'webgl', m, b)],
        ['tfjs webgpu', (m, b) => tensorflow(data, 'webgpu', m, b)],
        ['convnetjs (sgd+momentum)', (m, b) => convnet(data, m, b)],
      ];
  const results = [];
  for (const [name, run] of contenders) {
    if (ONLY && !name.startsWith(ONLY)) continue;
    for (const model of ['mlp', 'lenet']) {
      for (const batch of [32, 256]) {
        try {
          const r = await run(model, batch);
          results.push({ name, model, batch, trainPerS: r.samples / (r.trainMs / 1e3), epochDone: r.accuracy !== null, accuracy: r.accuracy, inferPerS: r.inferPerS });
        } catch (err) {
          results.push({ name, model, batch, error: String(err.message ?? err).slice(0, 80) });
        }
      }
    }
  }
  return { results, gpu: gpu?.adapter ?? null, gpuSoftware: gpu?.software ?? null, isolated, cores: navigator.hardwareConcurrency };
}

window.peerResults = measure();
window.peerResults.then((r) => { document.getElementById('out').textContent = JSON.stringify(r, null, 1); });
