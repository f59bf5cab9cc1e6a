// What the core offers, as it describes it (src/catalogue.rs): layer kinds with their settings,
// optimisers, learning-rate schedules and augmentations. The page asks the engine for it once at
// start-up; the settings table, the requests and the editors read it from here, so a layer or a
// schedule added to the core shows in the page without a change to it.
export const catalogue = { layers: [], optimizers: [], schedules: [], augmentations: [] };

export function setCatalogue(described) {
  Object.assign(catalogue, described);
}

/** The entry called `name` in `list` (a catalogue part), or an error that names the known ones. */
export function entryOf(list, name, what) {
  const found = catalogue[list].find((e) => e.name === name);
  if (!found) throw new Error(`unknown ${what} '${name}' (known: ${catalogue[list].map((e) => e.name).join(', ')})`);
  return found;
}
