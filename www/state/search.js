// A hyper-parameter search as the engine takes it, built from the state: what can be searched
// (the core's catalogue, with the range offered first), each searched setting's range or choices
// as the person left them, the strategy, budget, seed and score. No DOM here.
import { catalogue, scoreEntry } from './catalogue.js';
import { optimizerConfig } from './request.js';
import { parseNumber, read } from './settings.js';

/** What can be searched, by name, with the range offered first: `{name, label, doc, on, type, low,
 * high, log}` or `{…, type: 'choice', values}`. */
export function searchable() {
  return Object.fromEntries(catalogue.search.map((p) => [p.name, p]));
}

/** A searchable setting's label, or its name where the catalogue has none. */
export const labelOf = (name) => searchable()[name]?.label ?? name;

/** Each searchable setting's row as the state holds it (the catalogue's, then what was changed). */
export function spaceRow(settings, key) {
  return { ...searchable()[key], ...(settings.searchSpace?.[key] ?? {}) };
}

/** The search as the engine takes it; a value that does not fit is named. */
export function searchRequest(settings) {
  const params = [];
  for (const [key, p] of Object.entries(searchable())) {
    const row = spaceRow(settings, key);
    if (!row.on) continue;
    if (p.type === 'choice') {
      const values = (Array.isArray(row.values) ? row.values : String(row.values).split(','))
        .map((v) => String(v).trim())
        .filter(Boolean);
      if (key === 'optimizer') for (const v of values) optimizerConfig(v, 0.01);
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
    maximize: scoreEntry(settings.searchObjective).maximize,
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
