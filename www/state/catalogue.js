// What the core offers, as it describes it (src/catalogue/): layer kinds with their settings,
// optimisers, learning-rate schedules, augmentations, feature transforms, metrics and what a search
// can vary. The page asks the engine for it once at start-up; the settings table, the requests and
// the editors read it from here, so a layer or a schedule added to the core shows in the page
// without a change to it.
export const catalogue = {
  layers: [],
  optimizers: [],
  schedules: [],
  augmentations: [],
  features: { table: [], image: [] },
  metrics: { scores: [], summary: [] },
  search: [],
  limits: {},
};

export function setCatalogue(described) {
  Object.assign(catalogue, described);
}

/** The entry called `name` in the catalogue's list at `path` ('schedules', 'metrics.scores'), or an
 * error that names the known ones. */
export function entryOf(path, name, what) {
  const list = path.split('.').reduce((part, key) => part[key], catalogue);
  const found = list.find((e) => e.name === name);
  if (!found) throw new Error(`unknown ${what} '${name}' (known: ${list.map((e) => e.name).join(', ')})`);
  return found;
}

/** A value written as the catalogue's `format` says: `percent` or `{digits: n}`; '–' for none. */
export function formatValue(value, format) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return format === 'percent' ? `${(value * 100).toFixed(1)} %` : value.toFixed(format.digits);
}

/** The validation score called `name` (what a search or a lesson judges a run by). */
export const scoreEntry = (name) => entryOf('metrics.scores', name, 'score');
