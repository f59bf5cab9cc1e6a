// Try it: draw a digit, draw or pick a sequence, type a text, or watch a toy set's decision
// regions, and see the model's class probabilities update as it trains.
import { isDigits } from '../state/datasets.js';
import { drawRegions, gridFeatures } from '../ui/boundary.js';
import { $, element } from '../ui/dom.js';
import { DrawingPad } from '../ui/draw.js';
import { renderAttention } from '../ui/attention.js';
import { SequencePad, plotSequence } from '../ui/sequence.js';

export class TryPanel {
  /** `app`: the engine, the state and `notify`. */
  constructor(app) {
    this.app = app;
    this.pad = new DrawingPad($('draw'), (pixels) => this.predictDrawing(pixels));
    this.wavePad = new SequencePad($('wave'), (values) => this.predictSequence(values));
    $('clear').addEventListener('click', () => {
      this.pad.clear();
      this.clearProbabilities();
    });
    $('clear-wave').addEventListener('click', () => {
      this.wavePad.clear();
      this.clearProbabilities();
    });
    $('try-text').addEventListener('input', (e) =>
      this.predictText(e.target.value).catch((err) => app.notify(err.message)),
    );
  }

  /** The drawing, for the deployed model (digits only). */
  drawing() {
    return isDigits(this.app.state.dataset?.name) ? this.pad.pixels() : null;
  }

  clearProbabilities() {
    // A reply still on its way is for what was there before.
    this.asked = (this.asked ?? 0) + 1;
    $('probs').replaceChildren();
    $('attention').replaceChildren();
    $('try-text-note').textContent = '';
    delete $('probs').dataset.prediction;
  }

  /** The pad, the sequences or the regions that fit the loaded data. */
  showData(info) {
    const sequence = info.shape.length === 2;
    const text = Boolean(info.vocabulary);
    $('draw-area').hidden = !isDigits(info.name);
    $('boundary-area').hidden = !info.points;
    $('try-none').hidden = isDigits(info.name) || Boolean(info.points) || sequence || text;
    $('sequence-area').hidden = !sequence;
    $('text-area').hidden = !text;
    $('try-text-label').textContent =
      `Type ${info.name === 'words' ? 'a word' : 'a text'}; the prediction updates as you type.`;
    $('try-text-note').textContent = '';
    this.clearProbabilities();
    if (info.points) drawRegions($('boundary'), null, info.classes.length, info.points, info.labels);
    if (sequence) this.showSequenceExamples(info);
  }

  /** One sequence of each class, and the pad for drawing one (single-feature sequences only). */
  showSequenceExamples(info) {
    const [steps, features] = info.shape;
    $('sequence-examples').replaceChildren(
      ...info.examples.map(({ label, values }) => {
        const canvas = element('canvas', { width: 160, height: 60 });
        plotSequence(canvas, values, features);
        const figure = element('figure', {}, canvas, element('figcaption', { textContent: info.classes[label] }));
        figure.addEventListener('click', () => {
          if (features === 1) this.wavePad.set(values);
        });
        return figure;
      }),
    );
    $('wave-pad').hidden = features !== 1;
    this.wavePad.setSteps(steps);
  }

  renderProbabilities(probs, classes) {
    const best = probs.indexOf(Math.max(...probs));
    $('probs').replaceChildren(
      ...classes.map((name, k) =>
        element(
          'li',
          { className: k === best ? 'best' : '' },
          element('span', { className: 'name', textContent: name }),
          element('span', { className: 'bar' }, element('span', { style: `width: ${(probs[k] * 100).toFixed(1)}%` })),
          element('span', { className: 'value', textContent: `${(probs[k] * 100).toFixed(1)} %` }),
        ),
      ),
    );
    $('probs').dataset.prediction = classes[best];
  }

  /** The model's probabilities for `features`, once a model has trained; with `tokens` (a
   * typed text's), its attention weights drawn over them. */
  async predict(features, untrained, tokens) {
    const { engine, state, notify } = this.app;
    if (!state.run.trained) {
      notify(untrained, 'info');
      return;
    }
    const asked = this.asked;
    try {
      const { probs, maps } = await engine.request('predict', { features, attention: Boolean(tokens) });
      if (asked !== this.asked) return;
      this.renderProbabilities(Array.from(probs), state.dataset.classes);
      if (tokens) renderAttention($('attention'), maps, tokens, features.length);
    } catch (err) {
      notify(err.message);
    }
  }

  /** The typed text's class probabilities (a text data set), said cut when it is too long. */
  async predictText(typed) {
    const { engine, state } = this.app;
    if (!state.dataset?.vocabulary || !typed) return this.clearProbabilities();
    // As the word list is written: composed accents (the core lower-cases).
    const text = typed.normalize('NFC');
    this.asked = (this.asked ?? 0) + 1;
    const asked = this.asked;
    const { ids, cut, tokens } = await engine.request('encode-text', { text });
    if (asked !== this.asked) return;
    const { maxLen, level } = state.dataset.vocabulary;
    $('try-text-note').textContent = cut ? `Only the first ${maxLen} ${level} are read.` : '';
    return this.predict(Float32Array.from(ids), 'Train a model first (at least one epoch), then type.', tokens);
  }

  predictSequence(values) {
    return this.predict(
      Float32Array.from(values),
      'Train a model first (at least one epoch), then draw or pick a sequence.',
    );
  }

  predictDrawing(pixels) {
    if (!pixels || !isDigits(this.app.state.dataset?.name)) return;
    return this.predict(pixels, 'Train a model first (at least one epoch), then draw.');
  }

  /** The prediction again, for the model as it now is. */
  async refresh() {
    const { engine, state } = this.app;
    const info = state.dataset;
    if (isDigits(info.name)) {
      if (!this.pad.empty) this.predictDrawing(this.pad.pixels());
      return;
    }
    if (info.shape.length === 2) {
      if (this.wavePad.complete) this.predictSequence(this.wavePad.values);
      return;
    }
    if (info.vocabulary) {
      this.predictText($('try-text').value).catch((err) => this.app.notify(err.message));
      return;
    }
    // 2-D points: the decision regions. Other data is tried in the evaluation view.
    if (!info.points) return;
    const { probs } = await engine.request('predict', { features: gridFeatures() });
    drawRegions($('boundary'), probs, info.classes.length, info.points, info.labels);
  }
}
