// Trains the same models (the MLP 784-128-10, LeNet-small without padding and LeNet-small with
// padding 2) on the same digits with Whetstone and with its peers, in this browser, one after
// another, and leaves the measurements in window.peerResults. Every run reads its loss back after
// every batch (reading only at epoch end flatters asynchronous backends), stops after one epoch or
// CAP_MS of timed training, and is then evaluated on 2,000 held-out digits. The first WARMUP
// batches of every run train but are not timed: they compile its kernels (shaders, jit traces),
// which on a software GPU adapter takes seconds. The timed training is cut into LAPS laps (by
// samples, or by time for a run the cap stops), each lap's rate a repeat; inference is timed
// INFER_REPEATS times (fewer when they pass CAP_MS together). The page reports every repeat; scripts/bench.mjs prints medians and spreads.
import init, { DataSet, GpuDevice, Training, summarize } from '../whetstone.js';
import { Engine } from '../www/engine/engine.js';
import { MAX_THREADS } from '../www/engine/threads.js';
import * as jax from './modules/@jax-js/jax/dist/index.js';

const PARAMS = new URLSearchParams(location.search);
const CAP_MS = Number(PARAMS.get('cap') ?? 10000);
const ONLY = PARAMS.get('only');
// `?mode=accuracy`: the wall time each contender takes to train the CNN preset to 98 % held-out
// accuracy (at most ACCURACY_CAP_MS), instead of the throughput runs.
const MODE = PARAMS.get('mode') ?? 'throughput';
const TARGET = 0.98;
const ACCURACY_CAP_MS = Number(PARAMS.get('accuracyCap') ?? 180000);
const TRAIN = 8000;
const TEST = 2000;
const WARMUP = 2;
const LAPS = 5;
const INFER_REPEATS = 5;

// Times a training loop from the end of its warm-up batches: `add(n)` after each batch of n samples.
// A lap ends after a fifth of the epoch's timed samples or a fifth of the cap, whichever comes first.
function stopwatch(batch) {
  let samples = 0;
  let timed = 0;
  let start = null;
  let lap = { at: 0, samples: 0 };
  const laps = [];
  const lapSamples = (TRAIN - WARMUP * batch) / LAPS;
  return {
    add(n) {
      samples += n;
      if (start !== null) {
        timed += n;
        lap.samples += n;
        const ms = performance.now() - lap.at;
        if (lap.samples >= lapSamples || ms >= CAP_MS / LAPS || samples >= TRAIN) {
          laps.push(lap.samples / (ms / 1e3));
          lap = { at: performance.now(), samples: 0 };
        }
      } else if (samples >= WARMUP * batch) {
        start = performance.now();
        lap = { at: start, samples: 0 };
      }
    },
    get samples() {
      return samples;
    },
    running() {
      return samples < TRAIN && (start === null || performance.now() - start < CAP_MS);
    },
    result() {
      return { samples, timed, trainMs: start === null ? NaN : performance.now() - start, laps };
    },
  };
}

/** `fn` (one inference pass over `count` samples) timed INFER_REPEATS times, or fewer when they
 * take more than CAP_MS together (a slow contender's pass takes seconds): samples/s of each. */
async function inferRates(count, fn) {
  const rates = [];
  let value;
  const begun = performance.now();
  while (rates.length < INFER_REPEATS && (rates.length === 0 || performance.now() - begun < CAP_MS)) {
    const start = performance.now();
    value = await fn();
    rates.push(count / ((performance.now() - start) / 1e3));
  }
  return { value, rates };
}

const MODELS = {
  mlp: {
    input: [1, 28, 28],
    layers: [{ type: 'flatten' }, { type: 'dense', units: 128 }, { type: 'relu' }, { type: 'dense', units: 10 }],
  },
  lenet: lenet(0),
  'lenet-pad': lenet(2),
};

/** LeNet-small: conv 5×5×8 → max-pool → conv 5×5×16 → max-pool → dense 10, with `pad` on each side
 * of both convolutions (0: 28 → 24 → 12 → 8 → 4; 2: 28 → 28 → 14 → 14 → 7). */
function lenet(pad) {
  return {
    input: [1, 28, 28],
    layers: [
      { type: 'conv2d', filters: 8, kernel: 5, padding: pad },
      { type: 'relu' },
      { type: 'max_pool2d', size: 2 },
      { type: 'conv2d', filters: 16, kernel: 5, padding: pad },
      { type: 'relu' },
      { type: 'max_pool2d', size: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 10 },
    ],
  };
}

/** Whetstone's CNN preset: conv 5×5×8 pad 2 → max-pool → conv 5×5×16 → max-pool → dense 64 → dense 10. */
const CNN = {
  input: [1, 28, 28],
  layers: [
    { type: 'conv2d', filters: 8, kernel: 5, padding: 2 },
    { type: 'relu' },
    { type: 'max_pool2d', size: 2 },
    { type: 'conv2d', filters: 16, kernel: 5 },
    { type: 'relu' },
    { type: 'max_pool2d', size: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 64 },
    { type: 'relu' },
    { type: 'dense', units: 10 },
  ],
};

/** The side of LeNet-small's last feature map. */
const lenetSide = (model) => (model === 'lenet-pad' ? 7 : 4);

async function whetstone(digits, gpu, model, batch) {
  const config = { epochs: 1, batch_size: batch, optimizer: { type: 'adam', lr: 1e-3 }, seed: 1 };
  const spec = JSON.stringify(MODELS[model]);
  const run = gpu
    ? Training.onGpu(spec, JSON.stringify(config), digits, TRAIN + TEST, TEST, gpu)
    : new Training(spec, JSON.stringify(config), digits, TRAIN + TEST, TEST);
  const watch = stopwatch(batch);
  let accuracy = null;
  while (watch.running()) {
    const events = await run.run(1);
    watch.add(Math.min(batch, TRAIN - watch.samples));
    const epoch = events.find((e) => e.type === 'epoch');
    if (epoch) accuracy = epoch.val_accuracy;
  }
  const trained = watch.result();
  const x = digits.features(0, 256);
  const infer = await inferRates(8 * 256, async () => {
    for (let i = 0; i < 8; i++) await run.predict(x);
  });
  run.free();
  return { ...trained, accuracy, inferRates: infer.rates };
}

/** Whetstone's CPU backend as the page trains with it: in its training worker, on `threads` threads
 * (helper workers for the others). Training rates: each chunk's samples/s as the run reports it,
 * the first chunk (kernel warm-up) left out; inference: the worker's predictions, 8 × 256 samples. */
async function whetstoneWorker(digits, threads, model, batch) {
  let listener = () => {};
  const engine = new Engine((msg) => listener(msg));
  try {
    await engine.request('load', { name: 'digits' });
    const laps = [];
    let accuracy = null;
    let first = true;
    const ended = new Promise((resolve, reject) => {
      listener = (msg) => {
        if (msg.type === 'events')
          for (const e of msg.events) {
            if (e.type === 'step' && !first) laps.push(e.samples_per_sec);
            if (e.type === 'step') first = false;
            if (e.type === 'epoch') accuracy = e.val_accuracy;
          }
        else if (msg.type === 'finished' || msg.type === 'stopped') resolve();
        else if (msg.type === 'run-error') reject(new Error(msg.message));
      };
    });
    const config = { epochs: 1, batch_size: batch, optimizer: { type: 'adam', lr: 1e-3 }, seed: 1 };
    const spec = JSON.stringify(MODELS[model]);
    const request = { spec, config, samples: TRAIN + TEST, heldOut: TEST, backend: 'cpu', threads };
    const started = await engine.request('train', request);
    if (started.threads !== threads)
      throw new Error(`trained on ${started.threads} thread(s)${started.why ? `: ${started.why}` : ''}`);
    const cap = setTimeout(() => engine.request('stop'), CAP_MS);
    await ended;
    clearTimeout(cap);
    const features = digits.features(0, 256);
    const infer = await inferRates(8 * 256, async () => {
      for (let i = 0; i < 8; i++) await engine.request('predict', { features });
    });
    return { laps, accuracy, inferRates: infer.rates };
  } finally {
    engine.terminate();
  }
}

function tfModel(model) {
  const m = tf.sequential();
  if (model === 'mlp') {
    m.add(tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }));
  } else {
    const padding = model === 'lenet-pad' ? 'same' : 'valid';
    m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 5, padding, activation: 'relu' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.conv2d({ filters: 16, kernelSize: 5, padding, activation: 'relu' }));
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
  const watch = stopwatch(batch);
  while (watch.running()) {
    const samples = watch.samples;
    const n = Math.min(batch, TRAIN - samples);
    const [xs, ys] = tf.tidy(() => [
      tf.tensor(data.x.subarray(samples * 784, (samples + n) * 784), [n, ...shape]),
      tf.oneHot(tf.tensor1d(data.y.subarray(samples, samples + n), 'int32'), 10),
    ]);
    await m.trainOnBatch(xs, ys);
    tf.dispose([xs, ys]);
    watch.add(n);
  }
  const trained = watch.result();
  const evaluate = async () => {
    let correct = 0;
    for (let s = TRAIN; s < TRAIN + TEST; s += 256) {
      const n = Math.min(256, TRAIN + TEST - s);
      const pred = tf.tidy(() =>
        m.predict(tf.tensor(data.x.subarray(s * 784, (s + n) * 784), [n, ...shape])).argMax(1),
      );
      const got = await pred.data();
      pred.dispose();
      got.forEach((p, i) => {
        correct += p === data.y[s + i];
      });
    }
    return correct / TEST;
  };
  const infer = await inferRates(TEST, evaluate);
  m.dispose();
  return { ...trained, accuracy: trained.samples === TRAIN ? infer.value : null, inferRates: infer.rates };
}

// jax-js has no optimiser library on npm: Adam (the same β, ε and bias correction as TensorFlow.js)
// is written in its own array ops and compiled with the gradient into one jit-ed step. jax-js
// arrays are reference-counted: every argument is consumed, `.ref` keeps a second use alive.
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function jaxParams(model) {
  const { numpy: np } = jax;
  const random = seeded(1);
  // Glorot-uniform weights (TensorFlow.js's default), zero biases.
  const weight = (shape, fanIn, fanOut) => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const values = Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => (2 * random() - 1) * limit);
    return np.array(values, { shape });
  };
  const zeros = (shape) => np.zeros(shape);
  if (model === 'mlp')
    return { w1: weight([784, 128], 784, 128), b1: zeros([128]), w2: weight([128, 10], 128, 10), b2: zeros([10]) };
  const flat = 16 * lenetSide(model) ** 2;
  return {
    c1: weight([8, 1, 5, 5], 25, 200),
    d1: zeros([8, 1, 1]),
    c2: weight([16, 8, 5, 5], 200, 400),
    d2: zeros([16, 1, 1]),
    w: weight([flat, 10], flat, 10),
    b: zeros([10]),
  };
}

function jaxPredict(model) {
  const { numpy: np, nn, lax } = jax;
  const pool = (x) => lax.reduceWindow(x, np.max, [2, 2], [2, 2]);
  if (model === 'mlp') {
    return (p, x) => np.dot(nn.relu(np.dot(x, p.w1).add(p.b1)), p.w2).add(p.b2);
  }
  const padding = model === 'lenet-pad' ? 'SAME' : 'VALID';
  const flat = 16 * lenetSide(model) ** 2;
  return (p, x) => {
    const a1 = pool(nn.relu(lax.convGeneralDilated(x.reshape([-1, 1, 28, 28]), p.c1, [1, 1], padding).add(p.d1)));
    const a2 = pool(nn.relu(lax.convGeneralDilated(a1, p.c2, [1, 1], padding).add(p.d2)));
    return np.dot(a2.reshape([-1, flat]), p.w).add(p.b);
  };
}

async function jaxjs(data, device, model, batch) {
  const { numpy: np, nn, jit, valueAndGrad, tree } = jax;
  if (!(await jax.init(device)).includes(device)) throw new Error(`device ${device} did not start`);
  jax.defaultDevice(device);
  const predict = jaxPredict(model);
  const loss = (p, x, y) => {
    const n = x.shape[0];
    return nn
      .logSoftmax(predict(p, x))
      .mul(y)
      .sum()
      .mul(-1 / n);
  };
  const [lr, b1, b2, eps] = [1e-3, 0.9, 0.999, 1e-7];
  const step = jit((p, m, v, x, y, rate) => {
    const [value, g] = valueAndGrad(loss)(tree.ref(p), x, y);
    const next = { p: {}, m: {}, v: {} };
    for (const k of Object.keys(p)) {
      next.m[k] = m[k].mul(b1).add(g[k].ref.mul(1 - b1));
      next.v[k] = v[k].mul(b2).add(g[k].ref.mul(g[k]).mul(1 - b2));
      next.p[k] = p[k].sub(next.m[k].ref.mul(rate.ref).div(np.sqrt(next.v[k].ref).add(eps)));
    }
    rate.dispose();
    return [value, next.p, next.m, next.v];
  });
  const forward = jit(predict);
  let p = jaxParams(model);
  let m = tree.map((a) => np.zerosLike(a), tree.ref(p));
  let v = tree.map((a) => np.zerosLike(a), tree.ref(p));
  const oneHot = new Float32Array(TRAIN * 10);
  for (let i = 0; i < TRAIN; i++) oneHot[i * 10 + data.y[i]] = 1;
  const xs = np.array(data.x.subarray(0, TRAIN * 784), { shape: [TRAIN, 784] });
  const ys = np.array(oneHot, { shape: [TRAIN, 10] });
  await jax.blockUntilReady([xs, ys]);
  const watch = stopwatch(batch);
  let t = 0;
  while (watch.running()) {
    const samples = watch.samples;
    const n = Math.min(batch, TRAIN - samples);
    t += 1;
    const rate = np.array([(lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t)], { shape: [] });
    let value;
    [value, p, m, v] = step(p, m, v, xs.ref.slice([samples, samples + n]), ys.ref.slice([samples, samples + n]), rate);
    if (!Number.isFinite(await value.jsAsync())) throw new Error('loss is not finite');
    watch.add(n);
  }
  const trained = watch.result();
  const infer = await inferRates(TEST, async () => {
    let correct = 0;
    for (let s = TRAIN; s < TRAIN + TEST; s += 256) {
      const n = Math.min(256, TRAIN + TEST - s);
      const x = np.array(data.x.subarray(s * 784, (s + n) * 784), { shape: [n, 784] });
      const got = await np.argmax(forward(tree.ref(p), x), 1).data();
      got.forEach((c, i) => {
        correct += c === data.y[s + i];
      });
    }
    return correct / TEST;
  });
  tree.dispose([p, m, v, xs, ys]);
  step.dispose();
  forward.dispose();
  return { ...trained, accuracy: trained.samples === TRAIN ? infer.value : null, inferRates: infer.rates };
}

// ConvNetJS 0.3 has no Adam: SGD with momentum 0.9 and learning rate 0.01, its usual setting.
async function convnet(data, model, batch) {
  const layers = [{ type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 }];
  if (model === 'mlp') {
    layers.push({ type: 'fc', num_neurons: 128, activation: 'relu' });
  } else {
    const pad = model === 'lenet-pad' ? 2 : 0;
    layers.push(
      { type: 'conv', sx: 5, filters: 8, stride: 1, pad, activation: 'relu' },
      { type: 'pool', sx: 2, stride: 2 },
    );
    layers.push(
      { type: 'conv', sx: 5, filters: 16, stride: 1, pad, activation: 'relu' },
      { type: 'pool', sx: 2, stride: 2 },
    );
  }
  layers.push({ type: 'softmax', num_classes: 10 });
  const net = new convnetjs.Net();
  net.makeLayers(layers);
  const trainer = new convnetjs.Trainer(net, {
    method: 'sgd',
    learning_rate: 0.01,
    momentum: 0.9,
    batch_size: batch,
    l2_decay: 0,
  });
  const vol = (i) => {
    const v = new convnetjs.Vol(28, 28, 1, 0.0);
    v.w.set(data.x.subarray(i * 784, (i + 1) * 784));
    return v;
  };
  const watch = stopwatch(batch);
  while (watch.running()) {
    trainer.train(vol(watch.samples), data.y[watch.samples]);
    watch.add(1);
  }
  const trained = watch.result();
  const infer = await inferRates(TEST, () => {
    let correct = 0;
    for (let s = TRAIN; s < TRAIN + TEST; s++) {
      const p = Array.from(net.forward(vol(s)).w);
      correct += p.indexOf(Math.max(...p)) === data.y[s];
    }
    return correct / TEST;
  });
  return { ...trained, accuracy: trained.samples === TRAIN ? infer.value : null, inferRates: infer.rates };
}

// Time to accuracy: epochs of 8,000 digits (batch 32, Adam 0.002 — ConvNetJS: SGD with momentum),
// each followed by the held-out accuracy on 2,000, until TARGET or ACCURACY_CAP_MS of wall time
// (training and evaluation both counted). Returns { ms, epochs, accuracy, reached }.
async function untilAccurate(epoch, evaluate) {
  const start = performance.now();
  let epochs = 0;
  let accuracy = 0;
  while (performance.now() - start < ACCURACY_CAP_MS) {
    await epoch();
    epochs += 1;
    accuracy = await evaluate();
    if (accuracy >= TARGET) return { ms: performance.now() - start, epochs, accuracy, reached: true };
  }
  return { ms: performance.now() - start, epochs, accuracy, reached: false };
}

async function whetstoneToAccuracy(digits, gpu) {
  const config = { epochs: 1000, batch_size: 32, optimizer: { type: 'adam', lr: 2e-3 }, seed: 1 };
  const spec = JSON.stringify(CNN);
  const run = gpu
    ? Training.onGpu(spec, JSON.stringify(config), digits, TRAIN + TEST, TEST, gpu)
    : new Training(spec, JSON.stringify(config), digits, TRAIN + TEST, TEST);
  let accuracy = 0;
  const result = await untilAccurate(
    async () => {
      for (;;) {
        const epoch = (await run.run(50)).find((e) => e.type === 'epoch');
        if (epoch) {
          accuracy = epoch.val_accuracy;
          return;
        }
      }
    },
    () => accuracy,
  );
  run.free();
  return result;
}

async function tensorflowToAccuracy(data, backend) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  await tf.ready();
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 5, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 64, activation: 'relu' }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  m.compile({ optimizer: tf.train.adam(2e-3), loss: 'categoricalCrossentropy' });
  const result = await untilAccurate(
    async () => {
      for (let s = 0; s < TRAIN; s += 32) {
        const n = Math.min(32, TRAIN - s);
        const [xs, ys] = tf.tidy(() => [
          tf.tensor(data.x.subarray(s * 784, (s + n) * 784), [n, 28, 28, 1]),
          tf.oneHot(tf.tensor1d(data.y.subarray(s, s + n), 'int32'), 10),
        ]);
        await m.trainOnBatch(xs, ys);
        tf.dispose([xs, ys]);
      }
    },
    async () => {
      let correct = 0;
      for (let s = TRAIN; s < TRAIN + TEST; s += 256) {
        const n = Math.min(256, TRAIN + TEST - s);
        const pred = tf.tidy(() =>
          m.predict(tf.tensor(data.x.subarray(s * 784, (s + n) * 784), [n, 28, 28, 1])).argMax(1),
        );
        const got = await pred.data();
        pred.dispose();
        got.forEach((p, i) => {
          correct += p === data.y[s + i];
        });
      }
      return correct / TEST;
    },
  );
  m.dispose();
  return result;
}

async function convnetToAccuracy(data) {
  const net = new convnetjs.Net();
  net.makeLayers([
    { type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
    { type: 'conv', sx: 5, filters: 8, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 0, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'fc', num_neurons: 64, activation: 'relu' },
    { type: 'softmax', num_classes: 10 },
  ]);
  const trainer = new convnetjs.Trainer(net, { method: 'sgd', learning_rate: 0.01, momentum: 0.9, batch_size: 32 });
  const vol = (i) => {
    const v = new convnetjs.Vol(28, 28, 1, 0.0);
    v.w.set(data.x.subarray(i * 784, (i + 1) * 784));
    return v;
  };
  return untilAccurate(
    async () => {
      for (let s = 0; s < TRAIN; s++) trainer.train(vol(s), data.y[s]);
    },
    async () => {
      let correct = 0;
      for (let s = TRAIN; s < TRAIN + TEST; s++) {
        const p = Array.from(net.forward(vol(s)).w);
        correct += p.indexOf(Math.max(...p)) === data.y[s];
      }
      return correct / TEST;
    },
  );
}

async function accuracyRace(digits, data, gpu) {
  const contenders = [
    ['whetstone cpu', () => whetstoneToAccuracy(digits, null)],
    ...(gpu ? [['whetstone gpu', () => whetstoneToAccuracy(digits, gpu)]] : []),
    ['tfjs webgl', () => tensorflowToAccuracy(data, 'webgl')],
    ['tfjs cpu', () => tensorflowToAccuracy(data, 'cpu')],
    ['convnetjs (sgd+momentum)', () => convnetToAccuracy(data)],
  ];
  const results = [];
  for (const [name, run] of contenders) {
    if (ONLY && !name.startsWith(ONLY)) continue;
    try {
      results.push({ name, ...(await run()) });
    } catch (err) {
      results.push({ name, error: String(err.message ?? err).slice(0, 80) });
    }
  }
  return results;
}

async function measure() {
  await init();
  const bytes = new Uint8Array(await (await fetch('../assets/mnist-10k.bin')).arrayBuffer());
  const digits = DataSet.fromDigitsAsset(bytes);
  const data = { x: digits.features(0, TRAIN + TEST), y: Int32Array.from(digits.labels(0, TRAIN + TEST)) };
  const gpu = await GpuDevice.open().catch(() => null);
  tf.wasm.setWasmPaths(new URL('modules/@tensorflow/tfjs-backend-wasm/dist/', location.href).href);
  const isolated = self.crossOriginIsolated;
  if (MODE === 'accuracy')
    return {
      accuracy: await accuracyRace(digits, data, gpu),
      gpu: gpu?.adapter ?? null,
      target: TARGET,
      capMs: ACCURACY_CAP_MS,
    };
  const threads = Math.min(navigator.hardwareConcurrency, MAX_THREADS);
  const contenders = isolated
    ? [
        ['whetstone cpu (worker, 1 thread)', (m, b) => whetstoneWorker(digits, 1, m, b)],
        [`whetstone cpu (worker, ${threads} threads)`, (m, b) => whetstoneWorker(digits, threads, m, b)],
        ['tfjs wasm (SIMD, threads)', (m, b) => tensorflow(data, 'wasm', m, b)],
        ['jax-js wasm (threads)', (m, b) => jaxjs(data, 'wasm', m, b)],
      ]
    : [
        ['whetstone cpu', (m, b) => whetstone(digits, null, m, b)],
        ...(gpu ? [[`whetstone gpu`, (m, b) => whetstone(digits, gpu, m, b)]] : []),
        ['tfjs cpu', (m, b) => tensorflow(data, 'cpu', m, b)],
        ['tfjs wasm (SIMD)', (m, b) => tensorflow(data, 'wasm', m, b)],
        ['tfjs webgl', (m, b) => tensorflow(data, 'webgl', m, b)],
        ['tfjs webgpu', (m, b) => tensorflow(data, 'webgpu', m, b)],
        ['jax-js wasm', (m, b) => jaxjs(data, 'wasm', m, b)],
        ['jax-js webgpu', (m, b) => jaxjs(data, 'webgpu', m, b)],
        ['convnetjs (sgd+momentum)', (m, b) => convnet(data, m, b)],
      ];
  const results = [];
  for (const [name, run] of contenders) {
    if (ONLY && !name.startsWith(ONLY)) continue;
    for (const model of Object.keys(MODELS)) {
      for (const batch of [32, 256]) {
        try {
          const r = await run(model, batch);
          results.push({
            name,
            model,
            batch,
            flops: summarize(JSON.stringify(MODELS[model])).flops,
            trainRates: r.laps,
            epochDone: r.accuracy !== null,
            accuracy: r.accuracy,
            inferRates: r.inferRates,
          });
        } catch (err) {
          results.push({ name, model, batch, error: String(err.message ?? err).slice(0, 80) });
        }
      }
    }
  }
  return {
    results,
    gpu: gpu?.adapter ?? null,
    gpuSoftware: gpu?.software ?? null,
    isolated,
    cores: navigator.hardwareConcurrency,
  };
}

window.peerResults = measure();
window.peerResults.then((r) => {
  document.getElementById('out').textContent = JSON.stringify(r, null, 1);
});
