// Fields bound to settings of the state table: each shows its setting's value, and writes what the
// person types (or ticks) back into the state.
import { SETTINGS } from '../state/settings.js';
import { $ } from './dom.js';

/** Shows the values of settings `names` in their fields. */
export function renderFields(names, settings) {
  for (const name of names) {
    const field = $(SETTINGS[name].control);
    // The range the table allows, where the field can state it.
    for (const bound of ['min', 'max']) if (SETTINGS[name][bound] !== undefined) field[bound] = SETTINGS[name][bound];
    if (SETTINGS[name].kind === 'boolean') field.checked = Boolean(settings[name]);
    else field.value = settings[name];
  }
}

/** Writes each field of settings `names` into `settings()` as it changes, then `changed(name)`. */
export function bindFields(names, settings, changed) {
  for (const name of names) {
    const field = $(SETTINGS[name].control);
    field.addEventListener('input', () => {
      settings()[name] = SETTINGS[name].kind === 'boolean' ? field.checked : field.value;
      changed(name);
    });
  }
}

/** Fills menu `id` with one option per catalogue entry (`{name, label, doc}`), the entry's doc as
 * its tooltip; `text(entry)` writes its option (the label by default). */
export function fillMenu(id, entries, text = (e) => e.label) {
  if ($(id).options.length !== entries.length)
    $(id).replaceChildren(...entries.map((e) => Object.assign(new Option(text(e), e.name), { title: e.doc })));
}
