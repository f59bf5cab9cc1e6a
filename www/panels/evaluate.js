// Evaluation on the held-out split: the confusion matrix as a heat map (counts or each true class's
// shares; a decision threshold for two classes), the metrics, per-class precision, recall, F1 and
// AUC, ROC, precision-recall and reliability plots, and the samples of a cell or the most confident
// mistakes.
import { catalogue, formatValue } from '../state/catalogue.js';
import { $ } from '../ui/dom.js';
import { colourOf, plotUnitCurves } from '../ui/curves.js';
import { sampleFigure } from '../ui/samples.js';

const GALLERY_LIMIT = 24;
const fixed = (v) => formatValue(v, { digits: 3 });

export class EvaluatePanel {
  /** `app`: the engine, the state and `notify`. */
  constructor(app) {
    this.app = app;
    this.report = null;
    this.timer = 0;
    $('normalise').addEventListener('change', () => {
      if (this.report) this.render(this.report);
    });
    $('threshold').addEventListener('input', () => {
      $('threshold-value').textContent = Number($('threshold').value).toFixed(2);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.refresh(), 30);
    });
  }

  /** The last report again, fitted to the view's width. */
  redraw() {
    if (this.report && !$('evaluation').hidden) this.render(this.report);
  }

  /** New data: no model has been evaluated on it yet. */
  showData() {
    this.hide();
  }

  /** No model to evaluate (new data, a new run starting). */
  hide() {
    $('evaluation').hidden = true;
  }

  /** A new run: the threshold starts at one half again. */
  reset() {
    this.hide();
    $('threshold').value = '0.5';
  }

  /** The confusion matrix as a heat map (shade: the share of the true class), and the metrics. */
  render(report) {
    this.report = report;
    const classes = this.app.state.dataset.classes;
    $('threshold-row').hidden = classes.length !== 2;
    $('threshold-class').textContent = classes[1];
    const share = $('normalise').checked;
    const cell = (tag, text, style = '') => Object.assign(document.createElement(tag), { textContent: text, style });
    const caption = Object.assign(document.createElement('caption'), {
      textContent: 'rows: true class · columns: predicted',
    });
    const head = document.createElement('tr');
    head.append(cell('th', ''), ...classes.map((c) => cell('th', c)));
    const rows = report.confusion.map((row, t) => {
      const total = row.reduce((a, b) => a + b, 0);
      const tr = document.createElement('tr');
      tr.append(
        cell('th', classes[t]),
        ...row.map((count, p) => {
          const f = total ? count / total : 0;
          const colour = t === p ? '5, 150, 105' : '220, 38, 38';
          const td = cell(
            'td',
            share ? `${Math.round(f * 100)}` : String(count),
            `background: rgba(${colour}, ${(0.08 + 0.92 * f).toFixed(3)}); color: ${f > 0.5 ? '#fff' : 'inherit'}`,
          );
          td.title = `true ${classes[t]}, predicted ${classes[p]}: ${count} of ${total} (click for the samples)`;
          td.dataset.cell = `${t},${p}`;
          // A cell is a button: a click, Enter or Space shows its samples.
          td.tabIndex = 0;
          td.setAttribute('role', 'button');
          td.addEventListener('click', () => this.showExamples(t, p));
          td.addEventListener('keydown', (e) => {
            if (e.key !== 'Enter' && e.key !== ' ') return;
            e.preventDefault();
            this.showExamples(t, p);
          });
          return td;
        }),
      );
      return tr;
    });
    $('confusion').replaceChildren(caption, head, ...rows);
    // The summary's lines as the core's catalogue lists them, each value found by its path.
    const at = (path) => path.split('.').reduce((part, key) => part?.[key], report);
    $('metrics').replaceChildren(
      ...catalogue.metrics.summary.map(({ label, doc, paths, format }) => {
        const tr = document.createElement('tr');
        tr.title = doc;
        tr.append(cell('td', label), cell('td', paths.map((p) => formatValue(at(p), format)).join(' / ')));
        return tr;
      }),
    );
    const perClassHead = document.createElement('tr');
    perClassHead.append(...['class', 'precision', 'recall', 'F1', 'AUC', 'support'].map((h) => cell('th', h)));
    $('per-class').replaceChildren(
      perClassHead,
      ...classes.map((c, k) => {
        const tr = document.createElement('tr');
        const name = cell('td', c, `color: ${colourOf(k)}; font-weight: 600`);
        tr.append(
          name,
          cell('td', report.precision[k].toFixed(3)),
          cell('td', report.recall[k].toFixed(3)),
          cell('td', report.f1[k].toFixed(3)),
          cell('td', fixed(report.ranking.roc[k]?.area)),
          cell('td', String(report.support[k])),
        );
        return tr;
      }),
    );
    // A binary task's curves are those of its second class; otherwise one per class.
    const shown = classes.length === 2 ? [1] : classes.map((_, k) => k);
    const curves = (key) =>
      shown.flatMap((k) => (report.ranking[key][k] ? [{ ...report.ranking[key][k], colour: colourOf(k) }] : []));
    plotUnitCurves($('roc'), curves('roc'), {
      title: 'ROC',
      xLabel: 'false-positive rate',
      yLabel: 'true-positive rate',
      diagonal: true,
    });
    plotUnitCurves($('pr'), curves('pr'), { title: 'Precision-recall', xLabel: 'recall', yLabel: 'precision' });
    const cal = report.calibration;
    plotUnitCurves($('reliability'), [{ x: cal.confidence, y: cal.accuracy, colour: '#2563eb' }], {
      title: `Reliability (ECE ${cal.ece.toFixed(3)})`,
      xLabel: 'confidence',
      yLabel: 'accuracy',
      diagonal: true,
      points: true,
    });
    $('evaluation').hidden = false;
  }

  /** The held-out samples of a confusion-matrix cell, or (no cell) the most confident mistakes. */
  async showExamples(trueClass, predicted) {
    const { engine, state } = this.app;
    const classes = state.dataset.classes;
    try {
      const { examples, features, texts } = await engine.request('examples', {
        threshold: classes.length === 2 ? Number($('threshold').value) : undefined,
        trueClass,
        predicted,
        limit: GALLERY_LIMIT,
      });
      const cell = trueClass !== undefined;
      for (const td of document.querySelectorAll('#confusion td'))
        td.classList.toggle('chosen', cell && td.dataset.cell === `${trueClass},${predicted}`);
      $('gallery-title').textContent = cell
        ? `True ${classes[trueClass]}, predicted ${classes[predicted]}: ${examples.length ? `the ${examples.length} most confident` : 'none'}.`
        : examples.length
          ? `The ${examples.length} most confident mistakes (click a cell for its samples):`
          : 'No mistakes on the held-out split.';
      const shape = state.dataset.shape;
      const width = shape.reduce((a, b) => a * b, 1);
      $('gallery').replaceChildren(
        ...examples.map((e, i) => {
          const values = features.subarray(i * width, (i + 1) * width);
          const figure = sampleFigure(
            values,
            shape,
            `${classes[e.label]}→${classes[e.predicted]} ${Math.round(e.confidence * 100)}%`,
            texts?.[i],
          );
          figure.dataset.label = e.label;
          figure.dataset.predicted = e.predicted;
          return figure;
        }),
      );
    } catch (err) {
      this.app.notify(err.message);
    }
  }

  /** The report of the model as it now is, on the held-out split. */
  async refresh() {
    const { engine, state } = this.app;
    try {
      const binary = state.dataset.classes.length === 2;
      $('threshold-value').textContent = Number($('threshold').value).toFixed(2);
      const { report } = await engine.request('report', {
        threshold: binary ? Number($('threshold').value) : undefined,
      });
      this.render(report);
      await this.showExamples();
    } catch (err) {
      this.app.notify(err.message);
    }
  }
}
