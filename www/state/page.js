// The page's state: the experiment's settings (see settings.js), where training can run, the loaded
// data and the quality fixes applied to it, and the run. The settings persist in the browser's
// storage; whatever is read back from outside goes through the settings table first.
import { DEFAULTS } from './datasets.js';
import { KEYS, settingsFromLink } from './project.js';
import { defaults, validate } from './settings.js';

const SETTINGS_KEY = KEYS.settings;

export function createState() {
  return {
    settings: { ...defaults(), ...DEFAULTS.digits },
    gpu: { adapter: null, software: false, error: null },
    dataset: null,
    upload: undefined,
    // Quality fixes applied to the loaded data ({fix, indices, labels}), in order.
    fixes: [],
    run: { status: 'idle', epochs: 0, stepsPerEpoch: 0, stride: 1, trained: false, lrs: [], norms: [], history: [] },
  };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** Keeps the settings for the next visit. Only what this tab changed since it last read or wrote
 * them is written over what is kept, so two tabs of the page do not undo each other's changes. */
export function saveSettings(state) {
  let kept;
  try {
    kept = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}');
  } catch {
    kept = {};
  }
  const before = state.savedSettings ?? {};
  for (const [name, value] of Object.entries(state.settings)) if (!same(value, before[name])) kept[name] = value;
  localStorage.setItem(SETTINGS_KEY, JSON.stringify(validate(kept).settings));
  state.savedSettings = structuredClone(state.settings);
}

/**
 * Takes settings read from outside (`source` names where from) into the state, through the state
 * table: what does not fit keeps its current value, and so does a data set not among `known`.
 * Returns what was set aside, or ''.
 */
function adopt(state, raw, source, known) {
  const { settings, problems } = validate(raw);
  if ('dataset' in settings && !known.includes(settings.dataset)) {
    problems.push(`no data set is called “${settings.dataset}”`);
    delete settings.dataset;
  }
  Object.assign(state.settings, settings);
  return problems.length ? ` Set aside from ${source}: ${problems.join('; ')}.` : '';
}

/** The settings a link carries, taken in (see adopt) and kept; returns what to say. A damaged
 * link throws and changes nothing. */
export function takeLink(state, hash, known) {
  const aside = adopt(state, settingsFromLink(hash), 'the link', known);
  saveSettings(state);
  return `Opened with the settings of the link.${aside}`;
}

/** The settings kept on an earlier visit, taken in (see adopt); returns what was set aside. */
export function restoreSettings(state, known) {
  try {
    const aside = adopt(state, JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}'), 'the saved settings', known);
    state.savedSettings = structuredClone(state.settings);
    return aside;
  } catch {
    localStorage.removeItem(SETTINGS_KEY);
    return ' The saved settings could not be read and were set aside.';
  }
}

/** The loaded data as a trial or member worker loads it again: a key, the name, any upload, the
 * shapes' bias and the quality fixes applied since it loaded. */
export function loadedData(state) {
  const s = state.settings;
  return {
    key: `${s.dataset}:${state.upload?.savedAt ?? ''}:${s.bias}:${state.fixes.length}`,
    name: s.dataset,
    upload: state.upload,
    bias: Number(s.bias),
    fixes: state.fixes,
  };
}
