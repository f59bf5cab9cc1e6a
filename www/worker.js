// The worker owns the wasm instance, the data sets and the training run. It answers requests
// ({id, type, ...} → {id, type, ...}) and streams training progress as {type: 'events'} messages.
import init, { DataSet, Training, presetSpec, summarize } from '../whetstone.js';

const TOY_POINTS = 1000;
const TOY_NOISE = 0.08;
// Each run() call is sized to take about this long, so pause and stop answer quickly.
const CHUNK_MS = 150;

let data = null;
let training = null;
const control = { state: 'idle', wake: null };

const post = (msg, transfer = []) => self.postMessage(msg, transfer);
const ready = init().then(() => post({ type: 'ready', backend: 'CPU' }));

async function loadDataset(name) {
  if (name === 'digits') {
    const response = await fetch(new URL('../assets/mnist-10k.bin', import.meta.url));
    if (!response.ok) throw new Error(`could not load the built-in digits (HTTP ${response.status})`);
    data = DataSet.fromDigitsAsset(new Uint8Array(await response.arrayBuffer()));
  } else {
    data = DataSet.toy(name, TOY_POINTS, TOY_NOISE, 1);
  }
  training = null;
  const shape = Array.from(data.sampleShape);
  const info = { name, length: data.length, shape, classes: data.classes };
  // 2-D sets are small: send every point so the page can plot them.
  if (shape.length === 1 && shape[0] === 2) {
    info.points = data.features(0, data.length);
    info.labels = data.labels(0, data.length);
  }
  return info;
}

function wake() {
  if (control.wake) { control.wake(); control.wake = null; }
}

async function trainLoop() {
  let steps = 1;
  while (control.state !== 'stopping') {
    if (control.state === 'paused') {
      await new Promise((resolve) => { control.wake = resolve; });
      continue;
    }
    const started = performance.now();
    let events;
    try {
      events = await training.run(steps);
    } catch (err) {
      control.state = 'idle';
      post({ type: 'run-error', message: err.message ?? String(err) });
      return;
    }
    const elapsed = performance.now() - started;
    post({ type: 'events', events });
    if (events.some((e) => e.type === 'finished')) {
      control.state = 'idle';
      post({ type: 'finished' });
      return;
    }
    steps = Math.max(1, Math.min(1000, Math.round(steps * CHUNK_MS / Math.max(elapsed, 1))));
    // Yield to the event loop so that pause, stop and predict messages are handled between chunks.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  control.state = 'idle';
  post({ type: 'stopped' });
}

const handlers = {
  load: ({ name }) => loadDataset(name),
  preset: ({ name }) => {
    if (!data) throw new Error('load a data set first');
    return { spec: presetSpec(name, data.sampleShape, data.classes.length) };
  },
  summarize: ({ spec }) => ({ summary: summarize(spec) }),
  train: ({ spec, config, heldOut }) => {
    if (!data) throw new Error('load a data set first');
    if (control.state !== 'idle') throw new Error('a run is already in progress; stop it first');
    const run = new Training(spec, JSON.stringify(config), data, heldOut);
    training?.free();
    training = run;
    control.state = 'running';
    queueMicrotask(trainLoop);
    return { backend: run.backend, stepsPerEpoch: run.stepsPerEpoch, summary: run.summary() };
  },
  pause: () => {
    if (control.state === 'running') control.state = 'paused';
    return { state: control.state };
  },
  resume: () => {
    if (control.state === 'paused') { control.state = 'running'; wake(); }
    return { state: control.state };
  },
  stop: () => {
    if (control.state !== 'idle') { control.state = 'stopping'; wake(); }
    return { state: control.state };
  },
  predict: async ({ features }) => {
    if (!training) throw new Error('train a model first');
    const probs = await training.predict(features);
    return { probs };
  },
};

self.onmessage = async ({ data: msg }) => {
  await ready;
  try {
    const handler = handlers[msg.type];
    if (!handler) throw new Error(`unknown request '${msg.type}'`);
    post({ id: msg.id, ok: true, ...(await handler(msg)) });
  } catch (err) {
    post({ id: msg.id, ok: false, message: err.message ?? String(err) });
  }
};
