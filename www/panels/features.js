// Feature engineering: the editor of the transforms for the loaded data (the core's catalogue: for
// tables the fill rule, scaling, one-hot codes, logs, squares and products; for images grayscale,
// an edge channel, normalisation), what sample shape they give, and a comparison with and without them trained side
// by side in two workers.
import { TrialPool } from '../engine/pool.js';
import { catalogue } from '../state/catalogue.js';
import { anyFeatures, featureRequest } from '../state/request.js';
import { LiveChart } from '../ui/charts.js';
import { $, element } from '../ui/dom.js';

/** One control for a feature transform `field` of the core's catalogue (a menu, a tick box, a
 * number, or one tick box per numeric column of `columns`), showing `f[field.name]`. */
function transformControl(field, f, columns, changed) {
  const { name, label, doc, kind } = field;
  const value = f[name] ?? field.default;
  const labelled = (className, ...parts) => element('label', { className, title: doc }, ...parts);
  if (kind === 'choice') {
    const s = element('select', { id: `feature-${name}` });
    s.append(...field.choices.map((c) => new Option(c.label, c.value)));
    s.value = value;
    s.addEventListener('change', () => changed(name, s.value));
    return labelled('', `${label} `, s);
  }
  if (kind === 'boolean') {
    const c = element('input', { type: 'checkbox', id: `feature-${name}`, checked: Boolean(value) });
    c.addEventListener('change', () => changed(name, c.checked));
    return labelled('inline', c, ` ${label}`);
  }
  if (kind === 'columns') {
    const numeric = columns.filter((c) => !c.categories);
    if (!numeric.length) return null;
    const chosen = new Set(value);
    const box = element('div', { className: 'feature-columns', title: doc }, `${label}: `);
    box.dataset.feature = name;
    for (const c of numeric) {
      const tick = element('input', { type: 'checkbox', checked: chosen.has(c.name) });
      tick.dataset.column = c.name;
      tick.addEventListener('change', () => {
        tick.checked ? chosen.add(c.name) : chosen.delete(c.name);
        changed(name, [...chosen]);
      });
      box.append(element('label', { className: 'inline' }, tick, ` ${c.name}`));
    }
    return box;
  }
  const input = element('input', { type: 'text', id: `feature-${name}`, value: String(value), className: 'small' });
  input.addEventListener('change', () => changed(name, input.value));
  return labelled('', `${label} `, input);
}

/** The editor's controls for the loaded data (a table's or an image set's transforms, from the
 * core's catalogue); `onChange(settings)` after every edit. */
function renderFeatureEditor(info, settings, onChange) {
  const f = { ...(settings ?? {}) };
  const changed = (name, value) => {
    f[name] = value;
    onChange({ ...f });
  };
  const fields = info.columns?.length
    ? catalogue.features.table
    : info.shape.length === 3
      ? catalogue.features.image
      : [];
  const items = fields.map((field) => transformControl(field, f, info.columns ?? [], changed)).filter(Boolean);
  $('feature-controls').replaceChildren(...items);
  $('features-editor').hidden = items.length === 0;
}

/** Trains `withRequest` and `withoutRequest` side by side in two workers, plotting each one's
 * validation accuracy per epoch on `chart`; resolves to both outcomes ({status: 'fulfilled', value:
 * last epoch} or {status: 'rejected', reason}: a run that diverges is a result too). */
async function compareFeatures(withRequest, withoutRequest, data, chart) {
  const pool = new TrialPool(2);
  const epochs = withRequest.config.epochs;
  const curves = [[], []];
  const redraw = () => {
    const xs = Array.from({ length: Math.max(curves[0].length, curves[1].length) }, (_, i) => i + 1);
    chart.setColumns([xs, ...curves.map((c) => xs.map((_, i) => c[i] ?? null))], epochs);
  };
  chart.reset(epochs);
  try {
    return await Promise.allSettled(
      [withRequest, withoutRequest].map((request, k) =>
        pool.run(pool.slots[k], request, data, (e) => {
          curves[k][e.epoch - 1] = e.val_accuracy;
          redraw();
        }),
      ),
    );
  } finally {
    pool.close();
  }
}

export class FeaturesPanel {
  /**
   * `app`: the engine, the state, `save()`, `notify`, `queue(task)`, `request()` (the training
   * request of the settings) and `data()` (the loaded data as another worker loads it). `hooks`:
   * `reshaped(shape)` (the samples the model takes are now of `shape`).
   */
  constructor(app, hooks) {
    this.app = app;
    this.hooks = hooks;
    this.chart = new LiveChart($('feature-compare-chart'), 'Validation accuracy', ['with the features', 'without'], {
      percent: true,
    });
    $('feature-compare').addEventListener('click', () =>
      this.compare().catch((err) => {
        $('feature-compare-result').textContent = '';
        app.notify(err.message);
      }),
    );
  }

  /** New data: the editor for it. */
  showData() {
    this.render();
  }

  /** The editor for the loaded data, from the state (`open`: shown unfolded). */
  render(open = false) {
    const { state } = this.app;
    renderFeatureEditor(state.dataset, state.settings.features, (features) => this.change(features));
    if (open) $('features-editor').open = true;
    this.describe();
  }

  lock(busy) {
    $('feature-compare').disabled = busy;
  }

  /** Feature settings changed: say what they give, and rebuild the preset if the shape changed. */
  async change(features) {
    const { state } = this.app;
    state.settings.features = features;
    this.app.save();
    const shape = await this.describe();
    if (shape) await this.hooks.reshaped(shape);
  }

  /** Shows the sample shape (and a table's feature names) the feature settings give; returns the shape. */
  async describe() {
    const { engine, state } = this.app;
    if ($('features-editor').hidden) return null;
    try {
      const { transformed } = await engine.request('transformed', {
        features: featureRequest(state.settings.features, state.dataset),
      });
      const names = transformed.names.length
        ? `: ${transformed.names.slice(0, 24).join(', ')}${transformed.names.length > 24 ? ', …' : ''}`
        : '';
      $('feature-info').textContent = `The model takes samples of ${transformed.shape.join(' × ')}${names}.`;
      return transformed.shape;
    } catch (err) {
      $('feature-info').textContent = `Feature engineering: ${err.message}`;
      return null;
    }
  }

  /** Trains the chosen model with and without the feature settings, side by side. */
  async compare() {
    const { engine, state } = this.app;
    const request = this.app.request();
    if (!anyFeatures(request.config.features ?? {}))
      throw new Error('choose a feature transform first: the comparison is with it and without it');
    const plain = featureRequest(
      { impute: state.settings.features.impute, fill: state.settings.features.fill },
      state.dataset,
    );
    const preset = state.settings.preset;
    const { spec } = await engine.request('preset', { name: preset, features: plain });
    const without = { ...request, spec, config: { ...request.config, features: plain } };
    const withSpec = (await engine.request('preset', { name: preset, features: request.config.features })).spec;
    $('feature-compare').disabled = true;
    $('feature-compare-result').textContent = 'Training both…';
    try {
      const outcomes = await compareFeatures({ ...request, spec: withSpec }, without, this.app.data(), this.chart);
      const said = outcomes.map((o) =>
        o.status === 'fulfilled'
          ? `${(o.value.val_accuracy * 100).toFixed(1)} % after ${o.value.epoch} epochs`
          : `no model (${o.reason.message})`,
      );
      $('feature-compare-result').textContent =
        `Validation accuracy with the features: ${said[0]}; without: ${said[1]}. The ${preset} preset both times.`;
      const accuracy = (o) => (o.status === 'fulfilled' ? o.value.val_accuracy : null);
      document.body.dataset.featureCompare = JSON.stringify({
        with: accuracy(outcomes[0]),
        without: accuracy(outcomes[1]),
      });
    } finally {
      $('feature-compare').disabled = false;
    }
  }
}
