// Every setting of an experiment in one table: its name, kind, default, and range or choices. It is
// the one place that reads settings from outside (a link, a project file, the browser's storage):
// whatever does not fit the table is set back to its default and named, so no value read from
// outside can break the page. A control writes what the person typed into the state as it is; a
// request to the engine reads each value back through `read`, which checks it and names the
// setting when it does not fit.

/** The learning-rate schedules: each one's settings, as [key, label, default, whole number?]. */
export const SCHEDULES = {
  constant: [],
  step: [
    ['every', 'Every (epochs)', 1, true],
    ['gamma', 'Multiply rate by', 0.5],
  ],
  exponential: [['gamma', 'Per epoch, multiply by', 0.7]],
  cosine: [['min_lr', 'Down to rate', 0]],
  cosine_restarts: [
    ['period', 'First cycle (epochs)', 1, true],
    ['mult', 'Each cycle longer by ×', 2, true],
    ['min_lr', 'Down to rate', 0],
  ],
  one_cycle: [['pct_start', 'Rising share of the run', 0.3]],
  reduce_on_plateau: [
    ['factor', 'Multiply rate by', 0.5],
    ['patience', 'After epochs without progress', 1, true],
  ],
};

export const OPTIMIZERS = ['adam', 'adamw', 'rmsprop', 'momentum', 'nesterov', 'sgd'];

/**
 * The table. `kind`: 'integer' and 'number' (held as typed, checked when read), 'choice' (one of
 * `choices`), 'text', 'object' or 'list'. `control` is the id of the field that edits it, `label`
 * how a message names it. `min` is checked when read; `positive` asks for more than zero.
 */
export const SETTINGS = {
  dataset: { kind: 'text', default: 'digits', control: 'dataset' },
  bias: { kind: 'number', default: 1, min: 0, control: 'bias', label: 'The colour bias' },
  preset: { kind: 'choice', default: 'cnn', choices: ['cnn', 'mlp', 'toy', 'gru', 'lstm'], control: 'preset' },
  startFrom: { kind: 'choice', default: 'random', choices: ['random', 'pretrained'], control: 'start-from' },
  spec: { kind: 'text', default: '', control: 'spec' },
  layerOptions: { kind: 'list', default: [] },
  epochs: { kind: 'integer', default: 3, min: 1, control: 'epochs', label: 'Epochs' },
  batch: { kind: 'integer', default: 32, control: 'batch', label: 'The batch size' },
  lr: { kind: 'number', default: '0.002', control: 'lr', label: 'The learning rate' },
  optimizer: { kind: 'choice', default: 'adam', choices: OPTIMIZERS, control: 'optimizer' },
  seed: { kind: 'integer', default: 1, min: 0, control: 'seed', label: 'The seed' },
  l1: { kind: 'number', default: '0', control: 'l1', label: 'The L1 penalty' },
  l2: { kind: 'number', default: '0', control: 'l2', label: 'The L2 penalty' },
  schedule: { kind: 'choice', default: 'constant', choices: Object.keys(SCHEDULES), control: 'schedule' },
  scheduleParams: { kind: 'object', default: {} },
  warmup: { kind: 'integer', default: 0, min: 0, control: 'warmup', label: 'The warm-up steps' },
  clipNorm: { kind: 'number', default: '0', min: 0, control: 'clip-norm', label: 'The gradient-norm clip' },
  clipValue: { kind: 'number', default: '0', min: 0, control: 'clip-value', label: 'The gradient-value clip' },
  patience: { kind: 'integer', default: 0, min: 0, control: 'patience', label: 'The early-stop patience' },
  device: { kind: 'choice', default: 'auto', choices: ['auto', 'gpu', 'cpu'], control: 'device' },
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
};

/** Settings that change the planned learning-rate curve. */
export const PLAN_SETTINGS = ['epochs', 'batch', 'lr', 'schedule', 'warmup', 'samples', 'heldOut', 'clipNorm'];

/** The defaults of every setting (fresh copies). */
export const defaults = () =>
  Object.fromEntries(Object.entries(SETTINGS).map(([name, s]) => [name, structuredClone(s.default)]));

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Whether `value` can stand for setting `s` (numbers as typed are checked when read). */
function fits(s, value) {
  switch (s.kind) {
    case 'integer':
    case 'number':
      return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length <= 64);
    case 'choice':
      return s.choices.includes(value);
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
        `${name} = ${JSON.stringify(value)?.slice(0, 40)} does not fit (${s.choices ? `one of ${s.choices.map((c) => c || '(none)').join(', ')}` : `a ${s.kind}`})`,
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
  return number;
}
