// Feature engineering: the editor of the transforms for the loaded data (for tables: the fill rule,
// scaling, one-hot codes, logs, squares and products; for images: grayscale, an edge channel,
// normalisation), what sample shape they give, and a comparison with and without them trained side
// by side in two workers.
import { TrialPool } from '../engine/pool.js';
import { anyFeatures, featureRequest } from '../state/request.js';
import { LiveChart } from '../ui/charts.js';
import { $ } from '../ui/dom.js';

/** The editor's controls for the loaded data; `onChange(settings)` after every edit. */
function renderFeatureEditor(info, settings, onChange) {
  const box = $('feature-controls');
  const f = { ...(settings ?? {}) };
  const changed = () => onChange({ ...f });
  const select = (key, label, options, fallback) => {
    const s = Object.assign(document.createElement('select'), { id: `feature-${key}` });
    s.append(...options.map(([value, text]) => new Option(text, value)));
    s.value = f[key] ?? fallback;
    s.addEventListener('change', () => {
      f[key] = s.value;
      changed();
    });
    const l = document.createElement('label');
    l.append(`${label} `, s);
    return l;
  };
  const check = (key, label, title) => {
    const c = Object.assign(document.createElement('input'), {
      type: 'checkbox',
      id: `feature-${key}`,
      checked: Boolean(f[key]),
    });
    c.addEventListener('change', () => {
      f[key] = c.checked;
      changed();
    });
    const l = Object.assign(document.createElement('label'), { className: 'inline', title: title ?? '' });
    l.append(c, ` ${label}`);
    return l;
  };
  const items = [];
  if (info.columns?.length) {
    items.push(
      select(
        'impute',
        'Fill missing values with',
        [
          ['mean', 'the mean'],
          ['median', 'the median'],
          ['mode', 'the most frequent value'],
          ['constant', 'a constant'],
        ],
        'mean',
      ),
    );
    const fill = Object.assign(document.createElement('input'), {
      type: 'text',
      id: 'feature-fill',
      value: f.fill ?? '0',
      className: 'small',
    });
    fill.addEventListener('change', () => {
      f.fill = fill.value;
      changed();
    });
    const fillLabel = document.createElement('label');
    fillLabel.append('Constant ', fill);
    items.push(fillLabel);
    items.push(
      select(
        'scale',
        'Scale numbers',
        [
          ['none', 'as they are'],
          ['standardize', 'standardise (mean 0, deviation 1)'],
          ['min_max', 'min-max to [0, 1]'],
        ],
        'none',
      ),
    );
    items.push(
      check('one_hot', 'one-hot codes for categories', 'one 0/1 feature per category instead of the category’s number'),
    );
    items.push(check('polynomial', 'squares and products', 'adds x², y², x·y, … of the numeric columns'));
    const numeric = info.columns.filter((c) => !c.categories);
    if (numeric.length) {
      const logs = Object.assign(document.createElement('div'), { className: 'log-columns' });
      logs.append('Log transform: ');
      for (const c of numeric) {
        const box2 = Object.assign(document.createElement('input'), {
          type: 'checkbox',
          checked: (f.log ?? []).includes(c.name),
        });
        box2.dataset.column = c.name;
        box2.addEventListener('change', () => {
          const set = new Set(f.log ?? []);
          box2.checked ? set.add(c.name) : set.delete(c.name);
          f.log = [...set];
          changed();
        });
        const l = Object.assign(document.createElement('label'), { className: 'inline' });
        l.append(box2, ` ${c.name}`);
        logs.append(l);
      }
      items.push(logs);
    }
  } else if (info.shape.length === 3) {
    items.push(check('grayscale', 'grayscale', 'one channel of luminance instead of the colours'));
    items.push(check('edges', 'edge channel', 'adds the Sobel edge strength as one more channel'));
    items.push(
      check(
        'normalize',
        'normalise each channel',
        'subtracts the training split’s mean and divides by its deviation, per channel',
      ),
    );
  }
  box.replaceChildren(...items);
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
