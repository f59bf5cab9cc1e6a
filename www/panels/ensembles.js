// Ensembles on the page: members from bagging (trained side by side on bootstrap resamples), from
// one cosine-restart run's snapshots, from a search's best trials and from saved models; then each
// member and the ensembles compared on the test half of the held-out split (the core fits the
// weighted average on the other half), the pairs of members that disagree, and where they do.
import { TrialPool, loadInto } from '../engine/pool.js';
import { getModel } from '../engine/store.js';
import { splitKey } from '../state/request.js';
import { $, element as el } from '../ui/dom.js';
import { sampleFigure } from '../ui/samples.js';

const percent = (v) => `${(v * 100).toFixed(1)} %`;

export class Ensembler {
  /**
   * `app`: the page's engine, state, `request()`, `data()` and `notify`. `hooks`: `runSplit()`
   * (the split key of the page's last run), `shape()` (the data's sample shape), `workers()`,
   * `bestTrials(count)` and `savedModels()` (names).
   */
  constructor(app, hooks) {
    this.app = app;
    this.hooks = hooks;
    this.members = [];
    this.busy = false;
    $('ensemble-bag').addEventListener('click', () => this.guard(() => this.bagging()));
    $('ensemble-snapshots').addEventListener('click', () => this.guard(() => this.snapshots()));
    $('ensemble-trials').addEventListener('click', () => this.guard(() => this.trials()));
    $('ensemble-saved').addEventListener('click', () => this.guard(() => this.saved()));
    $('ensemble-clear').addEventListener('click', () => {
      this.members = [];
      this.comparison = null;
      this.render();
    });
    $('ensemble-compare').addEventListener('click', () => this.guard(() => this.compare()));
    this.render();
  }

  /** Runs one action at a time; its error becomes a notice and changes nothing. */
  async guard(action) {
    if (this.busy) return;
    this.busy = true;
    try {
      this.render();
      await action();
    } catch (err) {
      this.app.notify(err.message);
    } finally {
      this.busy = false;
      this.render();
    }
  }

  /** Adds members scored on the same held-out split, with the same classes, as those already in. */
  add(members) {
    for (const m of members) {
      const first = this.members[0];
      if (first && m.split !== first.split) {
        throw new Error(
          `“${m.name}” was scored on another held-out split (data, samples, held out or seed differ) than “${first.name}”; clear the members or change the settings back`,
        );
      }
      if (first && m.classes.join('\u0000') !== first.classes.join('\u0000')) {
        throw new Error(
          `“${m.name}” predicts the classes [${m.classes.join(', ')}], but “${first.name}” predicts [${first.classes.join(', ')}]; every member must know the same classes`,
        );
      }
      this.members.push(m);
    }
    this.comparison = null;
  }

  /** Trains members on bootstrap resamples of the training split, side by side in workers. */
  async bagging() {
    const count = Number($('ensemble-bag-count').value);
    if (!Number.isInteger(count) || count < 2)
      throw new Error(`bagging needs at least 2 members, got "${$('ensemble-bag-count').value}"`);
    const request = this.app.request();
    const data = this.app.data();
    const split = splitKey(data.name, request);
    const pool = new TrialPool(Math.min(count, this.hooks.workers()));
    const trained = [];
    let next = 0;
    let done = 0;
    const progress = () => {
      $('ensemble-info').textContent = `Bagging: ${done} of ${count} members trained.`;
    };
    progress();
    try {
      await Promise.all(
        pool.slots.map(async (slot) => {
          while (next < count) {
            const i = next++;
            const member = { ...request, config: { ...request.config, bootstrap: i + 1 } };
            await pool.run(slot, member, data, () => {});
            const { probs, labels, classes } = await slot.engine.request('held-out');
            trained[i] = { name: `bagging ${i + 1}`, probs, labels, classes, split };
            done++;
            progress();
          }
        }),
      );
    } finally {
      pool.close();
    }
    this.add(trained);
  }

  async snapshots() {
    const { snapshots, labels, classes } = await this.app.engine.request('snapshots');
    if (snapshots.length < 2) {
      throw new Error(
        `the last run left ${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'}; a snapshot ensemble takes one at the end of each cosine-restart cycle, so train with the “Cosine with restarts” schedule over at least two cycles`,
      );
    }
    const split = this.hooks.runSplit();
    this.add(snapshots.map((s) => ({ name: `snapshot at epoch ${s.epoch}`, probs: s.probs, labels, classes, split })));
  }

  trials() {
    const count = Number($('ensemble-trial-count').value);
    const best = this.hooks.bestTrials(Number.isInteger(count) && count > 0 ? count : 3);
    if (best.length < 1)
      throw new Error('no finished trial of a search in this page has its held-out predictions; run a search first');
    this.add(best);
  }

  /** The saved models ticked in the list, each evaluated on the current data's held-out split. */
  async saved() {
    const names = this.hooks.savedModels();
    if (!names.length) throw new Error('tick the saved models to add in the list of saved models first');
    const request = this.app.request();
    const data = this.app.data();
    const pool = new TrialPool(1);
    const slot = pool.slots[0];
    const found = [];
    try {
      await loadInto(slot.engine, data);
      for (const name of names) {
        const record = await getModel(name);
        if (!record) throw new Error(`“${name}” is no longer saved in this browser`);
        try {
          await slot.engine.request('load-model', {
            bytes: new Uint8Array(record.bytes),
            config: request.config,
            samples: request.samples,
            heldOut: request.heldOut,
            backend: 'cpu',
          });
        } catch (err) {
          throw new Error(`“${name}” cannot join the ensemble: ${err.message}`);
        }
        const { probs, labels, classes } = await slot.engine.request('held-out');
        found.push({ name, probs, labels, classes, split: splitKey(data.name, request) });
      }
    } finally {
      slot.engine.terminate();
    }
    this.add(found);
  }

  async compare() {
    if (this.members.length < 2)
      throw new Error(
        `an ensemble needs at least two members, and there ${this.members.length === 1 ? 'is one' : 'are none'}`,
      );
    const first = this.members[0];
    const probs = new Float32Array(this.members.reduce((n, m) => n + m.probs.length, 0));
    let at = 0;
    for (const m of this.members) {
      probs.set(m.probs, at);
      at += m.probs.length;
    }
    const { comparison } = await this.app.engine.request('compare-ensemble', {
      members: this.members.map((m) => ({ name: m.name, classes: m.classes })),
      probs,
      labels: first.labels,
      classes: first.classes,
    });
    this.comparison = comparison;
    const [, samples, heldOut, seed] = first.split.split('|');
    const shown = comparison.disagreements.slice(0, 12);
    const { features } = await this.app.engine.request('held-out-features', {
      samples: Number(samples),
      heldOut: Number(heldOut),
      seed: Number(seed),
      indices: shown.map((d) => d.index),
    });
    this.shownFeatures = features;
  }

  render() {
    for (const id of [
      'ensemble-bag',
      'ensemble-snapshots',
      'ensemble-trials',
      'ensemble-saved',
      'ensemble-compare',
      'ensemble-clear',
    ])
      $(id).disabled = this.busy;
    $('ensemble-members').replaceChildren(
      ...this.members.map((m, i) => {
        const remove = el('button', { textContent: '✕', className: 'icon', title: 'Remove this member' });
        remove.addEventListener('click', () => {
          this.members.splice(i, 1);
          this.comparison = null;
          this.render();
        });
        return el('li', {}, el('span', { className: 'name', textContent: m.name }), remove);
      }),
    );
    const c = this.comparison;
    $('ensemble-results').hidden = !c;
    if (!c) return;
    const bestAccuracy = Math.max(...c.ensembles.map((e) => e.accuracy), ...c.members.map((m) => m.accuracy));
    const row = (s, weight, kind) => {
      const tr = el(
        'tr',
        { className: kind },
        el('td', { textContent: s.name }),
        el('td', { textContent: weight ?? '' }),
        el('td', { textContent: percent(s.accuracy) }),
        el('td', { textContent: s.log_loss.toFixed(4) }),
        el('td', { textContent: s.ece.toFixed(3) }),
      );
      if (s.accuracy === bestAccuracy) tr.classList.add('top');
      return tr;
    };
    $('ensemble-table').replaceChildren(
      el(
        'tr',
        {},
        ...['', 'weight', 'accuracy', 'log-loss', 'calibration error'].map((h) => el('th', { textContent: h })),
      ),
      ...c.members.map((m, i) => row(m, c.weights[i].toFixed(2), 'member')),
      row(c.mean_member, '', 'mean'),
      ...c.ensembles.map((e) => row(e, '', 'ensemble')),
    );
    $('ensemble-summary').textContent =
      `Weights fitted on ${c.fit_samples} held-out samples; every number measured on the other ${c.test_samples}. The members disagree on ${percent(c.disagreement)} of them.`;
    const names = c.members.map((m) => m.name);
    $('ensemble-pairwise').replaceChildren(
      el('tr', {}, el('th'), ...names.map((_, j) => el('th', { textContent: String(j + 1), title: names[j] }))),
      ...c.pairwise.map((r, i) =>
        el(
          'tr',
          {},
          el('th', { textContent: `${i + 1} ${names[i]}` }),
          ...r.map((v, j) => {
            const td = el('td', { textContent: i === j ? '' : percent(v) });
            td.style.background = `rgba(220, 38, 38, ${Math.min(1, v * 3)})`;
            return td;
          }),
        ),
      ),
    );
    const shape = this.hooks.shape();
    const width = shape.reduce((a, b) => a * b, 1);
    const classes = this.members[0].classes;
    $('ensemble-disagreements').replaceChildren(
      ...c.disagreements.slice(0, 12).map((d, i) => {
        const votes = d.predictions.map((p) => classes[p]).join(' ');
        const figure = sampleFigure(
          this.shownFeatures.subarray(i * width, (i + 1) * width),
          shape,
          `${classes[d.label]}: ${votes}`,
        );
        figure.title = `true class ${classes[d.label]}; the members vote ${votes}`;
        return figure;
      }),
    );
  }
}
