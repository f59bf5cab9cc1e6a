// The model: a preset for the data's family, or the pretrained CNN to start from; the layer editor
// (the summary of output shapes, parameters and FLOPs as an editable table) and the spec as JSON,
// kept in step through the state.
import { PRESETS, family } from '../state/datasets.js';
import { featureRequest } from '../state/request.js';
import { $, element } from '../ui/dom.js';
import { renderLayerTable } from './layers.js';

const PRETRAINED_INFO =
  'The layers of a CNN trained on the digits 0–4; the output layer starts fresh for this data, and every layer is fine-tuned. Tick “freeze” on a layer to keep it as pretrained.';

export class ModelPanel {
  /** `app`: the engine, the state, `save()`, `notify` and `queue(task)` (data and model changes in turn). */
  constructor(app, hooks) {
    this.app = app;
    this.hooks = hooks;
    const fail = (err) => app.notify(err.message);
    $('preset').addEventListener('change', (e) => app.queue(() => this.applyPreset(e.target.value)).catch(fail));
    $('start-from').addEventListener('change', (e) => {
      app.state.settings.startFrom = e.target.value;
      app.save();
      app.queue(() => this.applyStartFrom()).catch(fail);
    });
    $('spec').addEventListener('input', (e) => {
      app.state.settings.spec = e.target.value;
      app.save();
      this.renderSummary();
    });
  }

  /** The menus and the JSON from the state. */
  render() {
    const s = this.app.state.settings;
    $('preset').replaceChildren(...PRESETS[family(s.dataset)].map(([value, label]) => new Option(label, value)));
    $('preset').value = s.preset;
    $('spec').value = s.spec;
    $('start-from').value = s.startFrom;
    this.hooks.changed();
  }

  /** The model's choices cannot change while a run trains. */
  lock(busy) {
    $('preset').disabled = busy;
    $('spec').disabled = busy;
  }

  /** Starting from the pretrained CNN: its layers, with the output layer resized for this data. */
  async applyStartFrom() {
    const { engine, state } = this.app;
    const pretrained = state.settings.startFrom === 'pretrained';
    $('start-from-info').textContent = pretrained ? PRETRAINED_INFO : '';
    this.hooks.changed();
    if (!pretrained) return;
    const { spec } = await engine.request('pretrained-spec');
    state.settings.spec = spec;
    state.settings.layerOptions = JSON.parse(spec).layers.map(() => ({}));
    $('spec').value = spec;
    this.app.save();
    await this.renderSummary();
  }

  /** Whether the spec in the settings takes the loaded data's samples (after the feature settings). */
  async fitsData() {
    const { transformed } = await this.app.engine.request('transformed', {
      features: featureRequest(this.app.state.settings.features, this.app.state.dataset),
    });
    return this.takes(transformed.shape);
  }

  /** Whether the spec in the settings takes samples of `shape` (a spec that does not parse takes none). */
  takes(shape) {
    try {
      return JSON.stringify(JSON.parse(this.app.state.settings.spec).input) === JSON.stringify(shape);
    } catch {
      return false;
    }
  }

  /** The preset `name` for the loaded data (its input shaped by the feature settings). */
  async applyPreset(name) {
    const { engine, state } = this.app;
    state.settings.preset = name;
    state.settings.startFrom = 'random';
    $('start-from').value = 'random';
    $('start-from-info').textContent = '';
    const { spec } = await engine.request('preset', {
      name,
      features: featureRequest(state.settings.features, state.dataset),
    });
    state.settings.spec = spec;
    state.settings.layerOptions = [];
    $('spec').value = spec;
    this.app.save();
    this.hooks.changed();
    await this.renderSummary();
  }

  /** The layer editor for the current spec, or (when the JSON does not parse) the reason. */
  async renderSummary() {
    const { engine, state } = this.app;
    const table = $('summary');
    let summary = null;
    let error = null;
    try {
      ({ summary } = await engine.request('summarize', { spec: state.settings.spec }));
    } catch (err) {
      error = err.message;
    }
    let spec;
    try {
      spec = JSON.parse(state.settings.spec);
    } catch {
      spec = null;
    }
    if (!Array.isArray(spec?.layers) || !Array.isArray(spec?.input)) {
      table.replaceChildren(
        element('tr', { className: 'error' }, element('td', { colSpan: 5, textContent: error ?? 'no layers' })),
      );
      table.classList.add('invalid');
      return false;
    }
    if (state.settings.layerOptions?.length !== spec.layers.length)
      state.settings.layerOptions = spec.layers.map(() => ({}));
    renderLayerTable(table, spec, summary, error, state.settings.layerOptions, (layers, options) => {
      state.settings.spec = JSON.stringify({ ...spec, layers }, null, 2);
      state.settings.layerOptions = options;
      $('spec').value = state.settings.spec;
      this.app.save();
      this.renderSummary();
    });
    return summary !== null;
  }
}
