// The data-quality report of the loaded data on the current split: exact and near duplicates,
// conflicting labels, leakage, suspected label noise, missing values, outliers, imbalance and
// constant features, each with the fix a click applies; after a fix, what it changed.
import { read } from '../state/settings.js';
import { $, element } from '../ui/dom.js';

/** The counts a quality report is summed up by, for the before/after view. */
function qualityCounts(r) {
  return {
    samples: r.samples,
    'exact duplicates (extra copies)': r.exact_duplicates.reduce((n, g) => n + g.length - 1, 0),
    'conflicting labels (groups)': r.conflicting_labels.length,
    'near duplicates (groups)': r.near_duplicates.length,
    'leaked held-out samples': r.leakage.length,
    'suspected label noise': r.label_noise.length,
    'rows with missing values': r.rows_with_missing.length,
    'extreme outliers': r.outliers.reduce((n, o) => n + o.rows.length, 0),
    'constant features': r.constant_features.length,
    'texts of outlying length': r.text_lengths?.outliers.length ?? 0,
    'smallest class share': r.imbalance ? `${(r.imbalance.share * 100).toFixed(1)} %` : 'even',
  };
}

export class QualityPanel {
  /**
   * `app`: the engine, the state, `save()` and `notify`. `hooks`: `settingsChanged()`,
   * `featuresChanged()` (a fill rule was chosen), `reshaped()` (a fix dropped columns: the model
   * is built again) and `fixed(note)` (the data changed).
   */
  constructor(app, hooks) {
    this.app = app;
    this.hooks = hooks;
    $('quality-check').addEventListener(
      'click',
      app.guard(() => this.check()),
    );
  }

  /** A new data set: the last report no longer applies. */
  showData() {
    $('quality-findings').replaceChildren();
  }

  /** The quality report of the loaded data on the current split, each finding with its fix; after a
   * fix, `before` (the earlier counts) and these side by side. */
  async check(before) {
    const { engine, state } = this.app;
    const setting = (name) => read(state.settings, name);
    const { report: r } = await engine.request('quality', {
      samples: setting('samples'),
      heldOut: setting('heldOut'),
      seed: setting('seed'),
    });
    const classes = state.dataset.classes;
    const columns = state.dataset.columns ?? [];
    const table = columns.length > 0;
    // Texts: a finding names its samples by their text.
    const texts = new Map(r.text_lengths?.named ?? []);
    const sample = (i) => (texts.has(i) ? `“${texts.get(i)}”` : `#${i}`);
    const item = (text, ...fixes) => {
      const li = document.createElement('li');
      li.append(text);
      for (const [label, fix, extra] of fixes) {
        const b = Object.assign(document.createElement('button'), { textContent: label, className: 'small-button' });
        b.dataset.fix = fix;
        b.addEventListener('click', () =>
          this.fix(fix, qualityCounts(r), extra).catch((err) => this.app.notify(err.message)),
        );
        li.append(' ', b);
      }
      return li;
    };
    const extra = r.exact_duplicates.reduce((n, g) => n + g.length - 1, 0);
    const items = [
      item(`${r.samples.toLocaleString()} samples: ${classes.map((c, k) => `${c} ${r.class_counts[k]}`).join(', ')}.`),
    ];
    if (r.exact_duplicates.length)
      items.push(
        item(`${r.exact_duplicates.length} groups of exact duplicates (${extra} extra copies).`, [
          'Keep one of each',
          'duplicates',
        ]),
      );
    if (r.conflicting_labels.length)
      items.push(
        item(`${r.conflicting_labels.length} of them with different labels: suspected label noise.`, [
          'Drop them all',
          'conflicts',
        ]),
      );
    if (r.near_duplicates.length) {
      const how = table
        ? 'rows equal once numbers are rounded to 3 digits and categories compared without case'
        : texts.size
          ? 'texts equal but for case, spaces and punctuation'
          : 'images with the same 8×8 average hash';
      const shown = texts.size
        ? `: ${r.near_duplicates
            .slice(0, 4)
            .map((g) => g.map(sample).join(' = '))
            .join('; ')}${r.near_duplicates.length > 4 ? '; …' : ''}`
        : '';
      items.push(
        item(`${r.near_duplicates.length} groups of near duplicates (${how})${shown}.`, [
          'Keep one of each',
          'without',
          { indices: r.near_duplicates.flatMap((g) => g.slice(1)) },
        ]),
      );
    }
    if (r.leakage.length)
      items.push(
        item(`${r.leakage.length} held-out samples also appear in the training split: leakage.`, [
          'Keep one of each',
          'duplicates',
        ]),
      );
    if (r.label_noise.length) {
      const shown = r.label_noise
        .slice(0, 6)
        .map(
          (s) =>
            `${sample(s.index)} labelled ${classes[s.label]}, ${s.votes} of 10 neighbours say ${classes[s.suggested]}`,
        )
        .join('; ');
      const by = texts.size ? ' by their character n-grams' : '';
      items.push(
        item(
          `${r.label_noise.length} samples whose label disagrees with most of their nearest neighbours${by} (of the first ${r.label_noise_checked.toLocaleString()} checked): ${shown}${r.label_noise.length > 6 ? '; …' : ''}.`,
          [
            'Relabel as the neighbours say',
            'relabel',
            { indices: r.label_noise.map((s) => s.index), labels: r.label_noise.map((s) => s.suggested) },
          ],
          ['Drop them', 'without', { indices: r.label_noise.map((s) => s.index) }],
        ),
      );
    }
    if (r.missing.length) {
      const where = r.missing.map((m) => `${columns[m.column].name} ${m.count}`).join(', ');
      items.push(
        item(
          `Missing values: ${where} (${r.rows_with_missing.length} rows have some).`,
          ['Drop those rows', 'without', { indices: r.rows_with_missing }],
          ['Fill with the mean', 'impute', { impute: 'mean' }],
          ['the median', 'impute', { impute: 'median' }],
          ['the most frequent value', 'impute', { impute: 'mode' }],
          ['a constant', 'impute', { impute: 'constant' }],
        ),
      );
      const fill = { mean: 'the mean', median: 'the median', mode: 'the most frequent value', constant: 'a constant' }[
        state.settings.features.impute ?? 'mean'
      ];
      items.push(
        item(
          `Unless dropped, training fills them with ${fill} of the training split's column (categories: the most frequent): see “Feature engineering”.`,
        ),
      );
    }
    for (const o of r.outliers) {
      items.push(
        item(
          `${o.rows.length} extreme values in ${columns[o.column].name} (modified z-score over 3.5), rows ${o.rows.slice(0, 8).join(', ')}${o.rows.length > 8 ? ', …' : ''}.`,
          ['Drop those rows', 'without', { indices: o.rows }],
        ),
      );
    }
    const long = r.text_lengths?.outliers ?? [];
    if (long.length)
      items.push(
        item(
          `${long.length} texts of outlying length (the median is ${r.text_lengths.median} tokens, counted up to the ${state.dataset.vocabulary.maxLen} read; modified z-score over 3.5): ${long
            .slice(0, 5)
            .map(([i, n]) => `${sample(i)} (${n})`)
            .join(', ')}${long.length > 5 ? ', …' : ''}.`,
          ['Drop them', 'without', { indices: long.map(([i]) => i) }],
        ),
      );
    if (r.imbalance) {
      const { class: k, share, ratio } = r.imbalance;
      items.push(
        item(
          `Class ${classes[k]} is only ${(share * 100).toFixed(1)} % of the samples (the largest is ${ratio.toFixed(1)}× its size).`,
          ['Oversample', 'oversample'],
          ['Undersample', 'undersample'],
          ['Weight the loss', 'class_weights'],
        ),
      );
      const how = {
        oversample: 'oversample the training split',
        undersample: 'undersample the training split',
        class_weights: 'weight each class in the loss by its rarity',
      }[state.settings.rebalance];
      if (how) items.push(item(`Training will ${how} (never the held-out split): see “Class balance” under Training.`));
    }
    const name = (f) => (table ? columns[f].name : `feature ${f}`);
    const dropColumns = (indices) => (table ? [['Drop these columns', 'columns', { indices }]] : []);
    if (r.constant_features.length)
      items.push(
        item(
          `${r.constant_features.length} features have one value in every sample, so they carry nothing: ${r.constant_features.map(name).join(', ')}.`,
          ...dropColumns(r.constant_features),
        ),
      );
    if (r.near_constant_features.length)
      items.push(
        item(
          `Nearly constant (one value in 95 % of the rows or more): ${r.near_constant_features.map(name).join(', ')}.`,
          ...dropColumns(r.near_constant_features),
        ),
      );
    if (items.length === 1)
      items.push(
        item(
          `No duplicates, leakage, label noise, ${r.text_lengths ? 'texts of outlying length' : 'missing values, outliers'}, class imbalance or constant features found.`,
        ),
      );
    if (before) {
      const after = qualityCounts(r);
      const row = (tag, cells) => element('tr', {}, ...cells.map((text) => element(tag, { textContent: text })));
      const rows = Object.keys(after)
        .filter((k) => String(before[k]) !== String(after[k]) || k === 'samples')
        .map((k) => row('td', [k, before[k].toLocaleString(), after[k].toLocaleString()]));
      const table = element('table', { className: 'before-after' }, row('th', ['', 'before', 'after']), ...rows);
      table.setAttribute('aria-label', 'Before and after the fix');
      const view = element('li', {}, table);
      items.splice(1, 0, view);
    }
    $('quality-findings').replaceChildren(...items);
  }

  /** Applies a fix: a copy of the data without some samples or with some relabelled replaces the
   * loaded data; imbalance and missing values are handled in training, on the training split alone
   * (copies or statistics across both splits would leak). */
  async fix(fix, before, extra = {}) {
    const { engine, state } = this.app;
    if (fix === 'oversample' || fix === 'undersample' || fix === 'class_weights') {
      state.settings.rebalance = fix;
      this.app.save();
      this.hooks.settingsChanged();
      await this.check();
      return;
    }
    if (fix === 'impute') {
      state.settings.features = { ...state.settings.features, impute: extra.impute };
      this.app.save();
      this.hooks.featuresChanged();
      await this.check();
      return;
    }
    const applied = { fix, indices: extra.indices, labels: extra.labels };
    const { length, shape, columns, rows, rowLabels, vocabulary } = await engine.request('fix', applied);
    state.fixes = [...state.fixes, applied];
    const reshaped = shape.join() !== state.dataset.shape.join();
    Object.assign(state.dataset, { length, shape, columns, rows, rowLabels });
    if (vocabulary) state.dataset.vocabulary = vocabulary;
    state.run.trained = false;
    if (reshaped) await this.hooks.reshaped();
    // A fix changes the number of samples: use all of them, a fifth held out when that no longer fits.
    const s = state.settings;
    if (Number(s.samples) !== length) s.samples = length;
    if (!state.dataset.testLength && Number(s.heldOut) >= length) s.heldOut = Math.max(1, Math.round(length / 5));
    this.app.save();
    this.hooks.settingsChanged();
    this.hooks.fixed(` (fixed: ${fix})`);
    await this.check(before);
  }
}
