// A hyper-parameter search as the engine takes it, built from the state: what can be searched
// (with the range offered first), each searched setting's range or choices as the person left
// them, the strategy, budget, seed and score. No DOM here.
import { optimizerConfig } from './request.js';
import { parseNumber, read } from './settings.js';

/** What can be searched, with the range offered first. */
export const SEARCHABLE = {
  lr: { label: 'learning rate', type: 'float', low: 0.0003, high: 0.03, log: true },
  batch: { label: 'batch size', type: 'int', low: 16, high: 256, log: true },
  units: {
    label: 'hidden width',
    type: 'int',
    low: 8,
    high: 128,
    log: true,
    hint: 'units of every dense layer but the output, and of recurrent layers',
  },
  dropout: {
    label: 'dropout',
    type: 'float',
    low: 0,
    high: 0.5,
    log: false,
    hint: 'rate of every dropout layer (one is added before the output layer if there is none)',
  },
  weight_decay: { label: 'weight decay (L2)', type: 'float', low: 0.00001, high: 0.01, log: true },
  optimizer: { label: 'optimiser', type: 'choice', values: ['adam', 'rmsprop', 'momentum'] },
  epochs: { label: 'epochs', type: 'int', low: 1, high: 6, log: false },
  augmentation: {
    label: 'augmentation strength',
    type: 'float',
    low: 0,
    high: 1,
    log: false,
    hint: 'a factor on the strength of every augmentation chosen under Training (images only)',
  },
};

/** Each searchable setting's row as the state holds it (the defaults, then what was changed). */
export function spaceRow(settings, key) {
  const p = SEARCHABLE[key];
  return { on: ['lr', 'units'].includes(key), ...p, ...(settings.searchSpace?.[key] ?? {}) };
}

/** The search as the engine takes it; a value that does not fit is named. */
export function searchRequest(settings) {
  const params = [];
  for (const [key, p] of Object.entries(SEARCHABLE)) {
    const row = spaceRow(settings, key);
    if (!row.on) continue;
    if (p.type === 'choice') {
      const values = (Array.isArray(row.values) ? row.values : String(row.values).split(','))
        .map((v) => String(v).trim())
        .filter(Boolean);
      for (const v of values) optimizerConfig(v, 0.01);
      params.push({ type: 'choice', name: key, values });
    } else {
      const low = parseNumber(row.low, `The lowest ${p.label}`);
      const high = parseNumber(row.high, `The highest ${p.label}`);
      if (p.type === 'int' && !(Number.isInteger(low) && Number.isInteger(high)))
        throw new Error(`the ${p.label} range takes whole numbers, got ${low} to ${high}`);
      params.push({ type: p.type, name: key, low, high, log: Boolean(row.log) });
    }
  }
  const strategy = { type: settings.searchStrategy };
  if (strategy.type === 'grid') strategy.points = read(settings, 'searchPoints');
  if (strategy.type === 'halving') {
    strategy.eta = 3;
    strategy.min_epochs = read(settings, 'searchMinEpochs');
    strategy.max_epochs = read(settings, 'searchMaxEpochs');
  }
  return {
    params,
    strategy,
    budget: read(settings, 'searchBudget'),
    seed: read(settings, 'searchSeed'),
    maximize: settings.searchObjective === 'val_accuracy',
  };
}

/** Trials that run at once: as set, or one per core (the page's own worker is idle while a search
 * runs), at most 8; never more than 16. */
export function searchWorkers(settings) {
  if (String(settings.searchWorkers ?? '').trim() === '')
    return Math.min(8, Math.max(1, navigator.hardwareConcurrency ?? 2));
  const n = read(settings, 'searchWorkers');
  return Math.min(Math.max(n, 1), 16);
}
