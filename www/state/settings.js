// Every setting of an experiment in one table: its name, kind, default, and range or choices. It is
// the one place that reads settings from outside (a link, a project file, the browser's storage):
// whatever does not fit the table is set back to its default and named, so no value read from
// outside can break the page. A control writes what the person typed into the state as it is; a
// request to the engine reads each value back through `read`, which checks it and names the
// setting when it does not fit. The optimisers and schedules are those of the core's catalogue.
import { catalogue } from './catalogue.js';

/**
 * The table. `kind`: 'integer' and 'number' (held as typed, checked when read), 'choice' (one of
 * `choices`), 'boolean', 'text', 'object' or 'list'. `control` is the id of the field that edits it, `label`
 * how a message names it. `min` is checked when read; `positive` asks for more than zero.
 */
export const SETTINGS = {
  dataset: { kind: 'text', default: 'digits', control: 'dataset' },
  bias: { kind: 'number', default: 1, min: 0, control: 'bias', label: 'The colour bias' },
  preset: {
    kind: 'choice',
    default: 'cnn',
    choices: ['cnn', 'mlp', 'toy', 'gru', 'lstm', 'transformer', 'bag'],
    control: 'preset',
  },
  startFrom: { kind: 'choice', default: 'random', choices: ['random', 'pretrained'], control: 'start-from' },
  spec: {
    kind: 'text',
    default: '',
    control: 'spec',
    // Empty (the preset's), or a model spec: its layers are checked by the core when it is shown.
    check: (text) => text === '' || isModelSpec(text),
    expects: 'a model spec: JSON with an input shape and a list of layers',
  },
  layerOptions: { kind: 'list', default: [] },
  epochs: {
    kind: 'integer',
    default: 3,
    min: 1,
    get max() {
      return catalogue.limits.epochs;
    },
    control: 'epochs',
    label: 'Epochs',
  },
  batch: { kind: 'integer', default: 32, control: 'batch', label: 'The batch size' },
  lr: { kind: 'number', default: '0.002', control: 'lr', label: 'The learning rate' },
  optimizer: {
    kind: 'choice',
    default: 'adam',
    get choices() {
      return catalogue.optimizers.map((o) => o.name);
    },
    control: 'optimizer',
  },
  seed: { kind: 'integer', default: 1, min: 0, control: 'seed', label: 'The seed' },
  l1: { kind: 'number', default: '0', control: 'l1', label: 'The L1 penalty' },
  l2: { kind: 'number', default: '0', control: 'l2', label: 'The L2 penalty' },
  schedule: {
    kind: 'choice',
    default: 'constant',
    get choices() {
      return catalogue.schedules.map((o) => o.name);
    },
    control: 'schedule',
  },
  scheduleParams: { kind: 'object', default: {} },
  warmup: { kind: 'integer', default: 0, min: 0, control: 'warmup', label: 'The warm-up steps' },
  clipNorm: { kind: 'number', default: '0', min: 0, control: 'clip-norm', label: 'The gradient-norm clip' },
  clipValue: { kind: 'number', default: '0', min: 0, control: 'clip-value', label: 'The gradient-value clip' },
  patience: { kind: 'integer', default: 0, min: 0, control: 'patience', label: 'The early-stop patience' },
  device: { kind: 'choice', default: 'auto', choices: ['auto', 'gpu', 'cpu'], control: 'device' },
  // 0: every core the browser reports, for a model whose steps gain from them.
  threads: { kind: 'integer', default: 0, min: 0, control: 'threads', label: 'The CPU threads' },
  rebalance: {
    kind: 'choice',
    default: '',
    choices: ['', 'oversample', 'undersample', 'class_weights'],
    control: 'rebalance',
  },
  samples: { kind: 'integer', default: 10000, min: 2, control: 'samples', label: 'The number of samples' },
  heldOut: { kind: 'integer', default: 2000, min: 1, control: 'heldout', label: 'The held-out count' },
  augment: { kind: 'object', default: {} },
  features: { kind: 'object', default: {} },
  // The search: each searchable setting's row as changed (see search.js), and how to search.
  searchSpace: { kind: 'object', default: {} },
  searchStrategy: {
    kind: 'choice',
    default: 'bayesian',
    choices: ['bayesian', 'random', 'grid', 'halving'],
    control: 'tune-strategy',
  },
  searchBudget: { kind: 'integer', default: 8, control: 'tune-budget', label: 'The budget' },
  searchPoints: { kind: 'integer', default: 3, min: 1, control: 'tune-points', label: 'Grid points per range' },
  searchMinEpochs: {
    kind: 'integer',
    default: 1,
    min: 1,
    control: 'tune-min-epochs',
    label: "The first rung's epochs",
  },
  searchMaxEpochs: { kind: 'integer', default: 9, min: 1, control: 'tune-max-epochs', label: 'The most epochs' },
  searchObjective: {
    kind: 'choice',
    default: 'val_accuracy',
    get choices() {
      return catalogue.metrics.scores.map((s) => s.name);
    },
    control: 'tune-objective',
  },
  searchSeed: { kind: 'integer', default: 1, min: 0, control: 'tune-seed', label: 'The search seed' },
  // Empty: one trial per core.
  searchWorkers: { kind: 'integer', default: '', min: 1, control: 'tune-workers', label: 'Parallel trials' },
  // The deployment: the drift scenario, the alert, retraining on the feedback.
  streamDegrees: { kind: 'number', default: 90, control: 'stream-degrees', label: 'The stream’s rotation' },
  streamCount: { kind: 'integer', default: 600, min: 2, control: 'stream-count', label: 'The stream’s length' },
  streamAutolabel: { kind: 'boolean', default: true, control: 'stream-autolabel' },
  driftThreshold: {
    kind: 'number',
    default: '0.2',
    positive: true,
    control: 'drift-threshold',
    label: 'The drift alert threshold',
  },
  retrainMode: { kind: 'choice', default: 'fine-tune', choices: ['fine-tune', 'scratch'], control: 'retrain-mode' },
  retrainReplay: { kind: 'integer', default: 500, min: 0, control: 'retrain-replay', label: 'The replay' },
  retrainEpochs: { kind: 'integer', default: 3, min: 1, control: 'retrain-epochs', label: 'The retraining epochs' },
};

/** Settings that change the planned learning-rate curve. */
export const PLAN_SETTINGS = ['epochs', 'batch', 'lr', 'schedule', 'warmup', 'samples', 'heldOut', 'clipNorm'];

/** The defaults of every setting (fresh copies). */
export const defaults = () =>
  Object.fromEntries(Object.entries(SETTINGS).map(([name, s]) => [name, structuredClone(s.default)]));

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function isModelSpec(text) {
  try {
    const spec = JSON.parse(text);
    return isObject(spec) && Array.isArray(spec.input) && Array.isArray(spec.layers);
  } catch {
    return false;
  }
}

/** Whether `value` can stand for setting `s` (numbers as typed are checked when read). */
function fits(s, value) {
  if (s.check && !s.check(value)) return false;
  switch (s.kind) {
    case 'integer':
    case 'number':
      return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length <= 64);
    case 'choice':
      return s.choices.includes(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'text':
      return typeof value === 'string';
    case 'object':
      return isObject(value);
    case 'list':
      return Array.isArray(value);
    default:
      return false;
  }
}

/**
 * Settings read from outside, checked against the table: `settings` holds each known setting whose
 * value fits; `problems` names what was set aside (unknown names, values that do not fit).
 */
export function validate(raw) {
  if (!isObject(raw)) return { settings: {}, problems: ['the settings are not a list of named values'] };
  const settings = {};
  const problems = [];
  for (const [name, value] of Object.entries(raw)) {
    const s = SETTINGS[name];
    if (!s) problems.push(`unknown setting “${name}”`);
    else if (!fits(s, value))
      problems.push(
        `${name} = ${JSON.stringify(value)?.slice(0, 40)} does not fit (${s.expects ?? (s.choices ? `one of ${s.choices.map((c) => c || '(none)').join(', ')}` : `a ${s.kind}`)})`,
      );
    else settings[name] = value;
  }
  return { settings, problems };
}

/** An error that names the setting and the id of its field (`control`). */
function settingError(message, name) {
  return Object.assign(new Error(message), { setting: name, control: SETTINGS[name].control });
}

/** A number as typed into a field, checked: `label` names it in the message. */
export function parseNumber(text, label, integer = false) {
  const trimmed = String(text ?? '').trim();
  const value = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new Error(`${label} must be ${integer ? 'a whole number' : 'a number'}, got "${trimmed}"`);
  }
  return value;
}

/** The value of setting `name` in `settings`, checked against the table. */
export function read(settings, name) {
  const s = SETTINGS[name];
  const value = settings[name];
  if (s.kind !== 'integer' && s.kind !== 'number') return value;
  let number;
  try {
    number = parseNumber(value, s.label, s.kind === 'integer');
  } catch (err) {
    throw settingError(err.message, name);
  }
  if (s.min !== undefined && number < s.min)
    throw settingError(`${s.label} must be at least ${s.min}, got ${number}`, name);
  if (s.max !== undefined && number > s.max)
    throw settingError(
      `${s.label} must be at most ${s.max.toLocaleString('en')}, got ${number.toLocaleString('en')}`,
      name,
    );
  if (s.positive && !(number > 0)) throw settingError(`${s.label} must be more than 0, got ${number}`, name);
  return number;
}
