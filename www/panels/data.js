// The data: which set is loaded (a built-in one or an upload kept in the browser), the colour bias
// of the shapes, and what the set looks like (its size, one sample per class, a table's first rows,
// a gallery per class).
import { getDataset, listDatasets } from '../engine/store.js';
import { UPLOADS, family, startOf, uploadKind } from '../state/datasets.js';
import { $ } from '../ui/dom.js';
import { renderGallery, renderStrip, renderTable, renderTexts } from '../ui/dataview.js';

export class DataPanel {
  /**
   * `app`: the engine, the state, `save()`, `notify` and `queue(task)`. `hooks`: `loaded(info)`
   * (every other panel learns the new data), `settingsChanged()` (the family's defaults came in),
   * `modelFor(keep)` (the model for the data: the spec in the settings when `keep`, else the
   * preset again, for the new data's shape).
   */
  constructor(app, hooks) {
    this.app = app;
    this.hooks = hooks;
    const fail = (err) => app.notify(err.message);
    $('dataset').addEventListener('change', (e) => app.queue(() => this.change(e.target.value)).catch(fail));
    $('bias').addEventListener('change', () => {
      app.state.settings.bias = $('bias').value;
      app.save();
      app.queue(() => this.load('shapes')).catch(fail);
    });
  }

  render() {
    const s = this.app.state.settings;
    $('dataset').value = s.dataset;
    $('bias').value = s.bias;
  }

  /** The data cannot change while a run trains. */
  lock(busy) {
    $('dataset').disabled = busy;
  }

  /** The data menu's entry for an uploaded data set (none when `fileName` is absent). */
  renderUploadOption(name, fileName) {
    let option = [...$('dataset').options].find((o) => o.value === name);
    if (!fileName) {
      option?.remove();
      return;
    }
    if (!option) {
      option = new Option('', name);
      $('dataset').append(option);
    }
    option.textContent = `${UPLOADS[uploadKind(name)]}: ${fileName}`;
    $('dataset').value = this.app.state.settings.dataset;
  }

  /** The menu entries of every data set kept in this browser, each its own (one deleted in another
   * tab goes, unless it is the one loaded here). */
  async listUploads() {
    const records = await listDatasets().catch(() => []);
    for (const record of records) if (uploadKind(record.name)) this.renderUploadOption(record.name, record.fileName);
    const kept = new Set(records.map((r) => r.name));
    for (const option of [...$('dataset').options])
      if (uploadKind(option.value) && !kept.has(option.value) && option.value !== this.app.state.settings.dataset)
        option.remove();
  }

  /** The names the data menu offers (built-in sets and the uploads kept here). */
  known() {
    return [...$('dataset').options].map((o) => o.value);
  }

  /**
   * Loads a data set into the engine and shows it. `loaded` is an upload the engine has just loaded
   * (`{ upload, info }`), shown as it is: it is neither read back from IndexedDB nor loaded again.
   */
  async load(name, loaded) {
    const { engine, state, notify } = this.app;
    notify('');
    $('dataset-info').textContent = 'loading…';
    const upload = loaded?.upload ?? (uploadKind(name) ? await uploadedData(name) : undefined);
    const info = loaded?.info ?? (await engine.request('load', { name, upload, bias: Number(state.settings.bias) }));
    state.dataset = info;
    state.upload = upload;
    state.fixes = [];
    state.run.trained = false;
    if (upload) this.renderUploadOption(name, upload.fileName);
    $('delete-upload').hidden = !upload;
    if (info.notes.length) notify(`Loaded, but: ${info.notes.join('; ')}.`, 'info');
    this.show();
    $('bias-field').hidden = name !== 'shapes';
    this.hooks.loaded(info);
  }

  /** The loaded data as it stands (after a fix too): its size, samples and first rows. */
  show(note = '') {
    const info = this.app.state.dataset;
    renderTable(info);
    renderGallery(info);
    renderTexts(info);
    renderStrip(info);
    const v = info.vocabulary;
    const tokens = v?.level === 'words' ? 'words' : 'characters';
    const shape = v
      ? `up to ${v.maxLen} ${tokens} (a vocabulary of ${v.size.toLocaleString()} tokens, padding and unknown included)`
      : info.shape.join(' × ');
    const cut = v?.cut
      ? `; ${v.cut.toLocaleString()} training text${v.cut > 1 ? 's' : ''} (${((100 * v.cut) / info.length).toFixed(1)} %) ${v.cut > 1 ? 'are' : 'is'} longer: only ${v.cut > 1 ? 'their' : 'its'} first ${v.maxLen} ${tokens} are read`
      : '';
    $('dataset-info').textContent =
      `${info.length.toLocaleString()} samples of ${shape}, ${info.classes.length} classes${cut}${note}`;
  }

  /** Switches to data set `name` (with `loaded`, an upload already in the engine: see load). */
  async change(name, loaded) {
    const { state } = this.app;
    const s = state.settings;
    const familyChanged = family(name) !== family(s.dataset);
    s.dataset = name;
    if (familyChanged) Object.assign(s, startOf(family(name), s));
    this.hooks.settingsChanged();
    await this.load(name, loaded);
    if (uploadKind(name)) {
      // Every row of the user's file, a fifth of them held out (texts bring their held-out fifth).
      s.samples = state.dataset.length;
      s.heldOut = state.dataset.testLength || Math.max(1, Math.round(state.dataset.length / 5));
      this.hooks.settingsChanged();
    }
    this.app.save();
    await this.hooks.modelFor(false);
  }

  /** Loads the data and the model the settings name (the digits when an upload has gone). */
  async restore() {
    const { state, notify } = this.app;
    try {
      await this.load(state.settings.dataset);
    } catch (err) {
      if (!uploadKind(state.settings.dataset)) throw err;
      await this.change('digits');
      notify(`The uploaded data could not be reloaded (${err.message}); showing the digits instead.`);
      return;
    }
    await this.hooks.modelFor(Boolean(state.settings.spec));
  }
}

/** An uploaded data set (kept in IndexedDB), or an error that says to upload one. */
async function uploadedData(name) {
  const record = await getDataset(name).catch(() => null);
  if (!record)
    throw new Error(
      `${UPLOADS[uploadKind(name)].toLowerCase().replace('your ', 'these ')} are no longer kept in this browser; upload them again`,
    );
  return record;
}
