// The worker owns the wasm instance, the data sets and the training run. It answers requests
// ({id, type, ...} → {id, type, ...}) and streams training progress as {type: 'events'} messages.
import init, {
  applyTrial,
  catalogueJson,
  GpuDevice,
  Search,
  Training,
  compareEnsemble,
  inspectModel,
  plannedRates,
  presetSpec,
  scoreModel,
  textPresetSpec,
  summarize,
} from '../../whetstone.js';
import { describe, openDataset, tableRows, verifyParts, vocabularyOf } from './datasets.js';
import { buildRun } from './runs.js';
import { endSteps, exchangeBuffer, exchanger, Helpers, MAX_THREADS, stepsEnded } from './threads.js';

// Each run() call is sized to take about this long, so pause and stop answer quickly.
const CHUNK_MS = 150;

let data = null;
// The drift scenario's stream of inputs, when one was started.
let stream = null;
let training = null;
let search = null;
// The run's held-out probabilities at the end of each cosine-restart cycle (a snapshot ensemble).
let snapshots = [];
let gpu = null;
const control = { state: 'idle', wake: null };
// The requests that made the loaded data (load, then any fixes), replayed into helper workers.
let recipe = [];
const RECIPE = { load: 'replace', fix: 'add', 'use-replay': 'add' };
// Helper workers that train shares of this worker's run (threads.js).
const helpers = new Helpers();
// A helper's run of its shard, while it trains.
let shardRun = Promise.resolve();

const post = (msg, transfer = []) => self.postMessage(msg, transfer);

// WebGPU when the browser has an adapter; the CPU otherwise, and the page says why.
async function openGpu() {
  if (!('gpu' in navigator)) return { gpu: null, gpuError: 'this browser has no WebGPU' };
  try {
    gpu = await GpuDevice.open();
    return { gpu: gpu.adapter, software: gpu.software, gpuError: null };
  } catch (err) {
    return { gpu: null, gpuError: err.message ?? String(err) };
  }
}

// The wasm module's exports (its memory, for `memory`).
let wasm = null;
// A helper worker (threads.js) trains shares of another worker's runs on the CPU: no GPU to open.
const helper = new URL(import.meta.url).searchParams.has('helper');
const ready = init()
  .then((exports) => {
    wasm = exports;
  })
  .then(() => (helper ? { gpu: null, gpuError: 'a helper worker trains on the CPU' } : openGpu()))
  .then((status) => post({ type: 'ready', ...status }));

async function asset(file, what) {
  const response = await fetch(new URL(`../../assets/${file}`, import.meta.url));
  if (!response.ok) throw new Error(`could not load ${what} (HTTP ${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
}

// The network that ships pretrained (by examples/pretrain.rs) for transfer learning.
const PRETRAINED = 'pretrained-digits-0-4.safetensors';
const pretrainedBytes = () => asset(PRETRAINED, 'the pretrained network');

// The run and predictions share one model: each call into it waits for the one before to finish
// (a prediction asked for between two chunks of training must not overlap the next chunk).
let queue = Promise.resolve();
function exclusive(task) {
  const result = queue.then(task);
  queue = result.catch(() => {});
  return result;
}

function wake() {
  if (control.wake) {
    control.wake();
    control.wake = null;
  }
}

async function trainLoop() {
  let steps = 1;
  while (control.state !== 'stopping') {
    if (control.state === 'paused') {
      await new Promise((resolve) => {
        control.wake = resolve;
      });
      continue;
    }
    const started = performance.now();
    let events;
    try {
      events = await exclusive(() => training.run(steps));
      const cycleEnds = training.snapshotEpochs();
      for (const e of events) {
        if (e.type === 'epoch' && cycleEnds.includes(e.epoch)) {
          const { probs } = await exclusive(() => training.heldOut());
          snapshots.push({ epoch: e.epoch, probs });
        }
      }
    } catch (err) {
      control.state = 'idle';
      helpers.end();
      post({ type: 'run-error', message: err.message ?? String(err) });
      return;
    }
    const elapsed = performance.now() - started;
    post({ type: 'events', events });
    // Between two epochs the whole run is kept (as of the epoch the checkpoint holds), so that a
    // reload does not lose it.
    if (events.some((e) => e.type === 'epoch') && !events.some((e) => e.type === 'finished')) {
      const bytes = training.checkpoint();
      if (bytes) post({ type: 'checkpoint', epoch: training.checkpointEpoch, bytes }, [bytes.buffer]);
    }
    if (events.some((e) => e.type === 'finished')) {
      control.state = 'idle';
      helpers.end();
      post({ type: 'finished' });
      return;
    }
    steps = Math.max(1, Math.min(1000, Math.round((steps * CHUNK_MS) / Math.max(elapsed, 1))));
    // Yield to the event loop so that pause, stop and predict messages are handled between chunks.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  control.state = 'idle';
  helpers.end();
  post({ type: 'stopped' });
}

// A step whose training FLOPs are fewer than this many per weight gains nothing from more threads:
// the weights' gradients, exchanged every step, cost what the shared work saves (measured in
// headless Chromium on 2 cores: the digits MLP at batch 32, 190 per weight, 1.05×; at batch 256,
// 1,520, 1.48×; LeNet-small, 10,000 and more, 1.9×).
const WORK_PER_WEIGHT = 1000;

/** Splits `run` (a new CPU run of `request`) over threads when the page can share memory between
 * workers: `request.threads` of them, or with 0 (or none) every core when the model's steps are
 * large enough to gain. Resolves to the threads it trains on, and why one when it could have had
 * more. A run that cannot be split trains here alone. */
async function splitRun(run, request) {
  const auto = !request.threads;
  const cores = Math.min(navigator.hardwareConcurrency, request.config.batch_size);
  const count = Math.min(auto ? cores : request.threads, MAX_THREADS);
  if (count < 2) return { threads: 1 };
  if (!self.crossOriginIsolated)
    return { threads: 1, why: 'the page is not cross-origin isolated, so its workers cannot share memory' };
  if (request.backend === 'gpu') return { threads: 1, why: 'the GPU trains this run' };
  const { flops, params } = run.summary();
  const work = (3 * Number(flops) * request.config.batch_size) / Math.max(Number(params), 1);
  if (auto && work < WORK_PER_WEIGHT)
    return {
      threads: 1,
      why: `each step is small against the model's ${Number(params).toLocaleString('en')} weights, whose gradients threads would exchange (a larger batch or model gains from more)`,
    };
  // Every weight's gradient, the loss sum and the correct count.
  const length = Number(params) + 2;
  let buffer;
  try {
    buffer = exchangeBuffer(count, length);
  } catch (err) {
    return { threads: 1, why: `the memory the threads would share could not be had (${err.message})` };
  }
  try {
    run.shard(0, count, exchanger(buffer, 0, count));
  } catch (err) {
    return { threads: 1, why: err.message };
  }
  try {
    await helpers.start(recipe, request, count, buffer);
  } catch (err) {
    endSteps(buffer, err.message);
    throw new Error(`could not start the run's threads: ${err.message}`);
  }
  return { threads: count };
}

// A helper's shard of another worker's run, trained to its end or until the run's steps end.
async function trainShard(run, buffer) {
  try {
    for (;;) {
      const events = await run.run(1000);
      if (events.some((e) => e.type === 'finished')) return;
    }
  } catch (err) {
    // A shard fails only with the run (its steps ended): if not, the others must not wait for it,
    // and shard 0 says why (a diverging loss may be seen here first).
    if (!stepsEnded(buffer)) endSteps(buffer, err.message ?? String(err));
  } finally {
    run.free();
  }
}

const handlers = {
  // `upload` ({text, features}) is the CSV of name 'upload'. A file that does not parse throws
  // before anything is replaced, so the loaded data and model stay as they were.
  load: async ({ name, upload, bias }) => {
    data = await openDataset(name, upload, bias, asset);
    training = null;
    return describe(data, name);
  },
  // The data quality report, and the fixes that replace the loaded data with a cleaned copy.
  // A project's parts checked before it is stored: each model file opened and each upload read,
  // the loaded data and model left as they are. The first that fails is named.
  verify: async (parts) => {
    await verifyParts(parts, asset);
    return {};
  },
  quality: ({ samples, heldOut, seed }) => {
    if (!data) throw new Error('load a data set first');
    return { report: data.qualityReport(samples, heldOut, seed) };
  },
  fix: ({ fix, indices, labels }) => {
    if (!data) throw new Error('load a data set first');
    if (control.state !== 'idle') throw new Error('stop the run before changing the data');
    const fixed = {
      duplicates: () => data.withoutDuplicates(false),
      conflicts: () => data.withoutDuplicates(true),
      without: () => data.withoutSamples(indices),
      relabel: () => data.relabeled(indices, labels),
      columns: () => data.withoutColumns(indices),
    }[fix];
    if (!fixed) throw new Error(`unknown fix '${fix}'`);
    const next = fixed();
    data.free();
    data = next;
    training = null;
    const vocabulary = data.vocabulary ? { vocabulary: vocabularyOf(data) } : {};
    return {
      length: data.length,
      shape: Array.from(data.sampleShape),
      columns: data.columns,
      ...tableRows(data),
      ...vocabulary,
    };
  },
  // `count` draws of an augmentation pipeline on one training image or text, for the preview.
  'augment-preview': ({ augment, index, count, seed }) => {
    if (!data) throw new Error('load a data set first');
    const pipeline = JSON.stringify(augment);
    if (data.vocabulary) return { texts: data.textAugmentPreview(index, pipeline, count, seed) };
    return { images: data.augmentPreview(index, pipeline, count, seed) };
  },
  // The sample shape and feature names that feature settings give the loaded data.
  transformed: ({ features }) => {
    if (!data) throw new Error('load a data set first');
    return { transformed: data.transformed(JSON.stringify(features ?? {})) };
  },
  preset: ({ name, features }) => {
    if (!data) throw new Error('load a data set first');
    const vocabulary = data.vocabulary;
    if (vocabulary) return { spec: textPresetSpec(name, data.sampleShape[0], vocabulary.size, data.classes.length) };
    const { shape } = data.transformed(JSON.stringify(features ?? {}));
    return { spec: presetSpec(name, shape, data.classes.length) };
  },
  // A text as the token ids a model of the loaded text data reads.
  'encode-text': ({ text }) => {
    if (!data) throw new Error('load a data set first');
    return data.encodeText(text);
  },
  catalogue: () => ({ catalogue: JSON.parse(catalogueJson()) }),
  // The wasm memory this worker holds (after a collection where the browser exposes one to call, as
  // the soak benchmark's browser does).
  memory: () => {
    self.gc?.();
    return { wasm: wasm.memory.buffer.byteLength };
  },
  summarize: ({ spec }) => ({ summary: summarize(spec) }),
  schedule: ({ config, stepsPerEpoch }) => ({ rates: plannedRates(JSON.stringify(config), stepsPerEpoch) }),
  // The pretrained network's layers with the output layer resized for the loaded data's classes.
  'pretrained-spec': async () => {
    if (!data) throw new Error('load a data set first');
    const spec = JSON.parse(inspectModel(await pretrainedBytes()).spec);
    const head = spec.layers.findLastIndex((l) => l.type === 'dense');
    spec.layers[head].units = data.classes.length;
    return { spec: JSON.stringify(spec, null, 2) };
  },
  // `initial` (model file bytes) starts the run from that model: its spec, transform and weights;
  // `resume` (a checkpoint's bytes) goes on with a run of these same settings where it stopped.
  train: async (request) => {
    if (!data) throw new Error('load a data set first');
    if (control.state !== 'idle') throw new Error('a run is already in progress; stop it first');
    const run = await buildRun(request, data, gpu, pretrainedBytes);
    if (control.state !== 'idle') {
      run.free();
      throw new Error('a run is already in progress; stop it first');
    }
    // Starting threads takes a while: a pause or stop asked for meanwhile applies once it has.
    control.state = 'starting';
    let split;
    try {
      split = await splitRun(run, request);
    } catch (err) {
      control.state = 'idle';
      run.free();
      throw err;
    }
    training?.free();
    training = run;
    snapshots = [];
    if (control.state === 'starting') control.state = 'running';
    queueMicrotask(trainLoop);
    return {
      backend: run.backend,
      stepsPerEpoch: run.stepsPerEpoch,
      summary: run.summary(),
      taken: run.taken,
      ...split,
    };
  },
  // Shard `index` of `count` of a run another worker trains (threads.js), exchanging through `buffer`.
  shard: async ({ request, index, count, buffer }) => {
    if (!data) throw new Error('load a data set first');
    await shardRun;
    const run = await buildRun(request, data, null, pretrainedBytes);
    try {
      run.shard(index, count, exchanger(buffer, index, count));
    } catch (err) {
      run.free();
      throw err;
    }
    // After this answer is posted: the first step waits for the other shards, which wait for it.
    shardRun = new Promise((resolve) => setTimeout(() => trainShard(run, buffer).finally(resolve)));
    return {};
  },
  // The model of a run kept by its checkpoint, as a model file, without making it this page's run.
  'checkpoint-model': async ({ request, history }) => {
    if (!data) throw new Error('load a data set first');
    const run = await buildRun({ ...request, backend: 'cpu' }, data, gpu, pretrainedBytes);
    try {
      return { bytes: await exclusive(() => run.save(history)) };
    } finally {
      run.free();
    }
  },
  pause: () => {
    if (control.state === 'running' || control.state === 'starting') control.state = 'paused';
    return { state: control.state };
  },
  resume: () => {
    if (control.state === 'paused') {
      control.state = 'running';
      wake();
    }
    return { state: control.state };
  },
  stop: () => {
    if (control.state !== 'idle') {
      control.state = 'stopping';
      wake();
    }
    return { state: control.state };
  },
  // Releases the GPU as a lost device would be; a run on it carries on on the CPU (used by tests).
  'lose-gpu': () => {
    gpu?.destroy();
    return { lost: true };
  },
  'save-model': async ({ history }) => {
    if (!training) throw new Error('train a model first');
    const run = training;
    return { bytes: await exclusive(() => run.save(history)) };
  },
  report: async ({ threshold }) => {
    if (!training) throw new Error('train a model first');
    const run = training;
    return { report: await exclusive(() => run.report(threshold)) };
  },
  examples: async ({ threshold, trueClass, predicted, limit }) => {
    if (!training) throw new Error('train a model first');
    const run = training;
    const found = await exclusive(() => run.examples(threshold, trueClass, predicted, limit));
    // Text: each sample's token ids read back as its text.
    if (data?.vocabulary) {
      const width = data.sampleShape[0];
      found.texts = found.examples.map((_, i) => data.decodeText(found.features.subarray(i * width, (i + 1) * width)));
    }
    return found;
  },
  'export-onnx': async () => {
    if (!training) throw new Error('train a model first');
    const run = training;
    return { bytes: await exclusive(() => run.exportOnnx()) };
  },
  // The run as a PyTorch project, with search.py when the search's settings are valid; `left`
  // says why it was left out.
  'export-pytorch': async ({ dataset, history, search, score, left }) => {
    if (!training) throw new Error('train a model first');
    const run = training;
    let searchJson = search ? JSON.stringify(search) : undefined;
    try {
      if (searchJson) new Search(searchJson).free();
    } catch (err) {
      searchJson = undefined;
      left = err.message;
    }
    const bytes = await exclusive(() => run.exportPytorch(dataset, history, searchJson, searchJson && score));
    return { bytes, left };
  },
  // A model file becomes the current model: same data, its spec and weights, evaluated on the
  // held-out split. Nothing changes if the file does not fit the data.
  'load-model': async ({ bytes, config, samples, heldOut, backend }) => {
    if (!data) throw new Error('load a data set first');
    if (control.state !== 'idle') throw new Error('stop the run before loading a model');
    const info = inspectModel(bytes);
    const useGpu = backend === 'gpu' && gpu && !gpu.lost;
    const configJson = JSON.stringify(config);
    // The file brings its spec, weights and fitted feature transform.
    const run = useGpu
      ? Training.fromFileOnGpu(bytes, configJson, data, samples, heldOut, gpu)
      : Training.fromFile(bytes, configJson, data, samples, heldOut);
    try {
      const evaluation = await run.evaluate();
      training?.free();
      training = run;
      snapshots = [];
      return { ...info, evaluation, backend: run.backend };
    } catch (err) {
      run.free();
      throw err;
    }
  },
  // Hyper-parameter search: this worker keeps the search; the page's pool of workers runs its trials.
  'search-start': ({ spec, saved }) => {
    const next = saved ? Search.restore(saved) : new Search(JSON.stringify(spec));
    search?.free();
    search = next;
    return searchState();
  },
  'search-ask': () => ({ ask: activeSearch().ask() }),
  // A trial's training request: the core puts the searched values into the spec and settings.
  'apply-trial': ({ spec, config, values, epochs }) =>
    applyTrial(spec, JSON.stringify(config), JSON.stringify(values), epochs ?? undefined),
  'search-tell': ({ trial, score }) => {
    activeSearch().tell(trial, score);
    return searchState();
  },
  'search-fail': ({ trial, reason }) => {
    activeSearch().fail(trial, reason);
    return searchState();
  },
  // Ensembles: the current model's held-out probabilities (with the labels and classes), the
  // run's snapshots, and the comparison of members and their ensembles.
  'held-out': async () => {
    if (!training) throw new Error('train a model first');
    const run = training;
    return await exclusive(() => run.heldOut());
  },
  snapshots: async () => {
    if (!training) throw new Error('train a model first');
    const run = training;
    const { labels, classes } = await exclusive(() => run.heldOut());
    return { snapshots, labels, classes };
  },
  'compare-ensemble': ({ members, probs, labels, classes }) => ({
    comparison: compareEnsemble(JSON.stringify(members), probs, labels, classes),
  }),
  'held-out-features': ({ samples, heldOut, seed, indices }) => {
    if (!data) throw new Error('load a data set first');
    return { features: data.heldOutFeatures(samples, heldOut, seed, indices) };
  },
  // Deployment: the drift scenario's stream, drift against the training split, retraining data
  // (feedback plus replay), and a model file's score on held-out or stream samples.
  'stream-start': ({ samples, heldOut, seed, count, maxDegrees }) => {
    if (!data) throw new Error('load a data set first');
    const next = data.rotatingStream(samples, heldOut, seed, count, maxDegrees);
    stream?.free();
    stream = next;
    return { length: stream.length };
  },
  'stream-take': ({ start, count }) => {
    if (!stream) throw new Error('start the stream first');
    return { features: stream.features(start, count), labels: stream.labels(start, count) };
  },
  drift: ({ samples, heldOut, seed, features }) => {
    if (!data) throw new Error('load a data set first');
    return { drift: data.drift(samples, heldOut, seed, features) };
  },
  'use-replay': ({ features, labels, replay, samples, heldOut, seed }) => {
    if (!data) throw new Error('load a data set first');
    const next = data.withReplay(features, labels, replay, samples, heldOut, seed);
    data.free();
    data = next;
    training = null;
    return { length: data.length };
  },
  // `set`: the held-out split, samples of the stream, or the `given` samples (features, labels).
  score: ({ bytes, set, samples, heldOut, seed, start, count, features, labels }) => {
    if (!data) throw new Error('load a data set first');
    if (set === 'stream' && !stream) throw new Error('start the stream first');
    const part = {
      stream: () => stream.slice(start, count),
      given: () => data.withReplay(features, labels, 0, samples, heldOut, seed),
      'held-out': () => data.heldOutSet(samples, heldOut, seed),
    }[set]();
    try {
      return { score: scoreModel(bytes, part) };
    } finally {
      part.free();
    }
  },
  // With `attention`, also each attention layer's weights for these samples (read in the same
  // turn, before a training chunk replaces them).
  predict: async ({ features, attention }) => {
    if (!training) throw new Error('train a model first');
    const run = training;
    return await exclusive(async () => {
      const probs = await run.predict(features);
      return { probs, maps: attention ? await run.attentionMaps() : undefined };
    });
  },
};

function activeSearch() {
  if (!search) throw new Error('start a search first');
  return search;
}

// Every trial, the best one, and the whole search as JSON (kept by the page to resume it).
const searchState = () => ({ trials: search.trials(), best: search.best(), saved: search.save() });

self.onmessage = async ({ data: msg }) => {
  await ready;
  try {
    const handler = handlers[msg.type];
    if (!handler) throw new Error(`unknown request '${msg.type}'`);
    const answer = await handler(msg);
    const { id, type, ...fields } = msg;
    if (RECIPE[type] === 'replace') recipe = [{ type, fields }];
    else if (RECIPE[type]) recipe = [...recipe, { type, fields }];
    post({ id, ok: true, ...answer });
  } catch (err) {
    post({ id: msg.id, ok: false, message: err.message ?? String(err) });
  }
};
