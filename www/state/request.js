// Requests to the engine, built from the page state (settings, loaded data, GPU) and never read
// back from the page's fields: a training run's, a trial's (a run with a search's values put in),
// and their parts (optimiser, schedule, augmentation, features, per-layer settings). No DOM here.
import { catalogue, entryOf } from './catalogue.js';
import { parseNumber, read } from './settings.js';

/** The optimiser settings for a menu name (the core's catalogue) at learning rate `lr`. */
export function optimizerConfig(name, lr) {
  return { ...entryOf('optimizers', name, 'optimiser').config, lr };
}

/** The training request of a trial: `base` (spec, config, samples, held out, backend) with the
 * trial's values put in by the core (`tune::apply`, in `engine`'s worker), and (for halving) its
 * epochs. The seed stays the page's, so that every trial is scored on the same held-out split. */
export async function applyTrial(engine, base, values, { epochs } = {}) {
  const trial = await engine.request('apply-trial', { spec: base.spec, config: base.config, values, epochs });
  return { ...base, spec: trial.spec, config: trial.config };
}

/** Puts a search's values into the settings (rate, batch, epochs, L2, optimiser, the layers). */
export async function takeTrial(engine, state, values) {
  const request = await applyTrial(engine, trainingRequest(state), values);
  const s = state.settings;
  Object.assign(s, { spec: request.spec, lr: String(request.config.optimizer.lr), l2: String(request.config.l2) });
  Object.assign(s, { batch: request.config.batch_size, epochs: request.config.epochs });
  if (values.optimizer) s.optimizer = values.optimizer;
}

/** Which held-out split a training request is scored on: runs with the same key can be compared
 * and ensembled sample by sample. */
export const splitKey = (dataset, request) => `${dataset}|${request.samples}|${request.heldOut}|${request.config.seed}`;

/** The feature settings as the core takes them, for this kind of data: only what applies to it. */
export function featureRequest(settings, info) {
  const f = settings ?? {};
  if (info?.columns?.length) {
    const out = {
      impute: f.impute ?? 'mean',
      scale: f.scale ?? 'none',
      one_hot: Boolean(f.one_hot),
      polynomial: Boolean(f.polynomial),
    };
    const numeric = new Set(info.columns.filter((c) => !c.categories).map((c) => c.name));
    out.log = (f.log ?? []).filter((name) => numeric.has(name));
    if (out.impute === 'constant') out.fill = parseNumber(f.fill, 'the fill value for missing values');
    return out;
  }
  if (info?.shape.length === 3)
    return { grayscale: Boolean(f.grayscale), edges: Boolean(f.edges), normalize: Boolean(f.normalize) };
  return {};
}

/** True when the request changes the data (a table always needs its missing values filled). */
export const anyFeatures = (request) =>
  Object.entries(request).some(([k, v]) =>
    Array.isArray(v) ? v.length > 0 : v && v !== 'none' && k !== 'impute' && k !== 'fill',
  );

/** What augmentations `dataset` takes: `'images'`, `'text'` (token ids), or none. */
export const augmentable = (dataset) =>
  dataset?.vocabulary ? 'text' : dataset?.shape.length === 3 ? 'images' : undefined;

/** The augmentations the catalogue offers for data that takes `works` (mixup, which blends values,
 * goes with images). */
export const augmentationsFor = (works) =>
  catalogue.augmentations.filter((a) => a.works === works || (works === 'images' && a.works === 'values'));

/** The enabled augmentations for `works` as the core takes them; numbers are checked by name. */
export function augmentRequest(settings, works) {
  return augmentationsFor(works).flatMap(({ name: type, label, fields }) => {
    const s = settings.augment?.[type];
    if (!s?.on) return [];
    const key = fields[0]?.name;
    const op = { type, p: parseNumber(s.p, `the probability of “${label}”`) };
    if (key) op[key] = parseNumber(s.strength, `the strength of “${label}”`);
    return [op];
  });
}

/** The schedule as the core takes it; a bad setting names its field. */
function scheduleRequest(settings) {
  const type = settings.schedule;
  const saved = settings.scheduleParams[type] ?? {};
  const schedule = { type };
  for (const { name: key, label, default: fallback, kind } of entryOf('schedules', type, 'schedule').fields) {
    try {
      schedule[key] = parseNumber(saved[key] ?? fallback, `The schedule's “${label}”`, kind === 'integer');
    } catch (err) {
      throw Object.assign(err, { control: `schedule-${key}` });
    }
  }
  return schedule;
}

/** Frozen layers and per-layer L2 penalties from the layer editor, numbered from 1. */
function layerSettings(settings, l1) {
  const options = settings.layerOptions ?? [];
  const frozen = options.flatMap((o, i) => (o?.frozen ? [i + 1] : []));
  const penalties = options.flatMap((o, i) => {
    if (o?.l2 === undefined || o.l2 === '') return [];
    const l2 = Number(o.l2);
    if (!Number.isFinite(l2)) throw new Error(`layer ${i + 1}'s L2 penalty must be a number, got "${o.l2}"`);
    return [{ layer: i + 1, l1, l2 }];
  });
  return { frozen, penalties };
}

/** "Fastest available" is the GPU unless it is missing or a software adapter (slower than the CPU). */
export function chosenBackend(state) {
  const choice = state.settings.device;
  if (choice !== 'auto') return choice;
  return state.gpu.adapter && !state.gpu.software ? 'gpu' : 'cpu';
}

/** The training request of the current settings on the loaded data. */
export function trainingRequest(state) {
  const s = state.settings;
  const setting = (name) => read(s, name);
  const config = {
    epochs: setting('epochs'),
    batch_size: setting('batch'),
    optimizer: optimizerConfig(s.optimizer, setting('lr')),
    seed: setting('seed'),
    l1: setting('l1'),
    l2: setting('l2'),
    schedule: scheduleRequest(s),
    warmup_steps: setting('warmup'),
  };
  const { frozen, penalties } = layerSettings(s, config.l1);
  if (frozen.length) config.frozen = frozen;
  if (penalties.length) config.layer_penalties = penalties;
  const clipNorm = setting('clipNorm');
  const clipValue = setting('clipValue');
  if (clipNorm > 0) config.clip_norm = clipNorm;
  if (clipValue > 0) config.clip_value = clipValue;
  if (s.rebalance) config.rebalance = s.rebalance;
  const features = featureRequest(s.features, state.dataset);
  // A table always goes through its transform: its missing values are filled in.
  if (anyFeatures(features) || state.dataset?.columns?.length) config.features = features;
  const augment = augmentRequest(s, augmentable(state.dataset));
  if (augment.length) config.augment = augment;
  const patience = setting('patience');
  if (patience > 0) config.early_stopping = { patience, restore_best: true };
  return {
    spec: s.spec,
    config,
    samples: setting('samples'),
    heldOut: setting('heldOut'),
    backend: chosenBackend(state),
    threads: setting('threads'),
    startFrom: s.startFrom,
  };
}

/** The most steps the rate and gradient-norm charts plot: a longer run plots every `stride`-th. */
const PLOTTED_STEPS = 20_000;

/** Every how many steps a run of `steps` steps plots one. */
export const plotStride = (steps) => Math.max(1, Math.ceil(steps / PLOTTED_STEPS));

/** Steps per epoch of the training split a request gives on data of `length` samples. */
export function plannedStepsPerEpoch(request, length) {
  const samples = Math.min(request.samples, length ?? request.samples);
  return Math.max(1, Math.ceil((samples - request.heldOut) / request.config.batch_size));
}
