// Hyper-parameter search on the page: the search space editor, the pool of trial workers (each
// its own worker with its own wasm instance), the live trial table, the best-so-far curve and one
// scatter plot per parameter against the score. The search itself (which trial next) runs in the
// core, in the page's main worker; it is saved after every result so that a reload can resume it.
import { TrialPool } from '../engine/pool.js';
import { catalogue, formatValue, scoreEntry } from '../state/catalogue.js';
import { KEYS } from '../state/project.js';
import { applyTrial, splitKey } from '../state/request.js';
import { labelOf, searchable, searchRequest, searchWorkers, spaceRow } from '../state/search.js';
import { LiveChart } from '../ui/charts.js';
import { $, element as el } from '../ui/dom.js';
import { bindFields, fillMenu, renderFields } from '../ui/fields.js';
import { drawScatter } from '../ui/scatter.js';
import { renderTrials } from './trials.js';

const SAVED_KEY = KEYS.search;

/** Search settings whose field writes straight into the state. */
const FIELDS = [
  'searchStrategy',
  'searchBudget',
  'searchPoints',
  'searchMinEpochs',
  'searchMaxEpochs',
  'searchObjective',
  'searchSeed',
  'searchWorkers',
];

export class Tuner {
  /**
   * `app`: the page's engine (it keeps the search), state (the search's settings live there),
   * `save()`, `request()` (the training request a trial starts from), `data()` and `notify`.
   * `hooks`: `useDataset(name)` (switches the page to a saved search's data), `trainBest(values)`.
   */
  constructor(app, hooks) {
    this.app = app;
    this.hooks = hooks;
    this.status = 'idle';
    this.trials = [];
    this.best = null;
    this.progress = new Map();
    // Each finished trial's held-out probabilities, for an ensemble of the best trials.
    this.heldOut = new Map();
    this.sort = { key: 'id', descending: false };
    this.pool = null;
    this.chart = new LiveChart($('tune-best-chart'), 'Best score so far', ['best so far', 'trial score'], {
      xLabel: 'trial',
      pointsOnly: ['trial score'],
    });
    bindFields(
      FIELDS,
      () => app.state.settings,
      (name) => {
        app.save();
        if (name === 'searchStrategy') this.renderStrategy();
      },
    );
    $('tune-space').addEventListener('input', (e) => this.edit(e.target));
    $('tune-space').addEventListener('change', (e) => this.edit(e.target));
    // Start and Resume wait for the page's start-up (the catalogue, the data): see `ready`.
    this.started = false;
    this.render();
    this.wire();
    this.renderButtons();
  }

  /** Start-up is done: a search can start, and a stopped one is offered to resume. */
  ready() {
    this.started = true;
    this.renderButtons();
    this.showSaved();
  }

  /** The search settings from the state. */
  render() {
    fillMenu('tune-objective', catalogue.metrics.scores, (s) => {
      const label = s.label[0].toUpperCase() + s.label.slice(1);
      return `${label} (${s.maximize ? 'higher' : 'lower'} is better)`;
    });
    renderFields(FIELDS, this.app.state.settings);
    this.renderStrategy();
    this.renderSpace();
  }

  /** One row per searchable setting: whether it is searched, and its range or choices. */
  renderSpace() {
    const settings = this.app.state.settings;
    const rows = Object.entries(searchable()).map(([key, p]) => {
      const s = spaceRow(settings, key);
      const field = (input, name, label) => {
        input.dataset.param = key;
        input.dataset.field = name;
        input.setAttribute('aria-label', `${p.label}: ${label}`);
        return input;
      };
      const on = field(el('input', { type: 'checkbox', checked: s.on }), 'on', 'search it');
      const cells = [el('td', {}, el('label', { className: 'inline' }, on, ` ${p.label}`))];
      if (p.type === 'choice') {
        const values = el('input', { type: 'text', value: [s.values].flat().join(', ') });
        cells.push(el('td', { colSpan: 3 }, field(values, 'values', 'choices, separated by commas')));
      } else {
        for (const [name, label] of [
          ['low', 'from'],
          ['high', 'to'],
        ]) {
          cells.push(
            el('td', {}, field(el('input', { type: 'text', value: s[name], className: 'small' }), name, label)),
          );
        }
        const log = field(el('input', { type: 'checkbox', checked: s.log }), 'log', 'log scale');
        cells.push(el('td', {}, el('label', { className: 'inline' }, log, ' log')));
      }
      cells[0].title = p.doc;
      return el('tr', {}, ...cells);
    });
    $('tune-space').replaceChildren(
      el('tr', {}, ...['setting', 'from', 'to', 'scale'].map((h) => el('th', { textContent: h }))),
      ...rows,
    );
  }

  /** A field of the space editor changed: its value goes into the state as typed. */
  edit(input) {
    const { param, field } = input.dataset;
    if (!param) return;
    const settings = this.app.state.settings;
    const value = input.type === 'checkbox' ? input.checked : input.value;
    settings.searchSpace = { ...settings.searchSpace, [param]: { ...settings.searchSpace?.[param], [field]: value } };
    this.app.save();
  }

  wire() {
    $('tune-start').addEventListener(
      'click',
      this.app.guard(() => this.start()),
    );
    $('tune-stop').addEventListener('click', () => this.stop());
    $('tune-resume').addEventListener(
      'click',
      this.app.guard(() => this.resume()),
    );
    $('tune-train-best').addEventListener('click', () => this.best && this.hooks.trainBest(this.best.config));
  }

  renderStrategy() {
    const type = this.app.state.settings.searchStrategy;
    $('tune-grid-fields').hidden = type !== 'grid';
    $('tune-halving-fields').hidden = type !== 'halving';
  }

  workers() {
    return searchWorkers(this.app.state.settings);
  }

  async start() {
    if (this.status === 'running') return;
    const settings = this.app.state.settings;
    const spec = searchRequest(settings);
    const base = this.app.request();
    const objective = settings.searchObjective;
    const state = await this.app.engine.request('search-start', { spec });
    // A trial's request is made the same way: a setting that cannot be searched here fails now.
    await applyTrial(
      this.app.engine,
      base,
      Object.fromEntries(spec.params.map((p) => [p.name, p.type === 'choice' ? p.values[0] : p.low])),
    );
    this.heldOut.clear();
    this.session = {
      base,
      objective,
      dataset: this.app.data().name,
      budget: spec.budget,
      strategy: spec.strategy.type,
      params: spec.params,
    };
    this.run(state);
  }

  /** Picks up the search saved in this browser, on the data it was started on. */
  async resume() {
    const saved = this.saved();
    if (!saved) throw new Error('there is no stopped search to resume');
    if (this.app.data().name !== saved.session.dataset) await this.hooks.useDataset(saved.session.dataset);
    const state = await this.app.engine.request('search-start', { saved: saved.search });
    this.session = saved.session;
    this.run(state);
  }

  run(state) {
    this.pool?.close();
    this.pool = new TrialPool(this.workers());
    this.status = 'running';
    this.progress.clear();
    this.update(state);
    this.renderButtons();
    this.app.notify(
      `Searching: ${this.pool.slots.length} trial${this.pool.slots.length > 1 ? 's' : ''} at a time.`,
      'info',
    );
    this.pump();
  }

  stop() {
    if (this.status !== 'running') return;
    this.status = 'stopping';
    this.pool.stop();
    this.renderButtons();
  }

  /** Hands trials to idle workers while the search proposes them. */
  async pump() {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.status === 'running') {
        const slot = this.pool.idle();
        if (!slot) break;
        const { ask } = await this.app.engine.request('search-ask');
        if (ask.type === 'run') {
          this.launch(slot, ask.trial);
        } else {
          if (ask.type === 'finished' && this.pool.running === 0) this.finish('finished');
          break;
        }
      }
    } catch (err) {
      this.app.notify(err.message);
      this.finish('stopped');
    } finally {
      this.pumping = false;
    }
  }

  launch(slot, trial) {
    slot.busy = true;
    const started = performance.now();
    let request;
    applyTrial(slot.engine, this.session.base, trial.config, { epochs: trial.epochs })
      .then((made) => {
        request = made;
        this.progress.set(trial.id, { epoch: 0, epochs: request.config.epochs, started });
        this.renderTable();
        return this.pool.run(slot, request, this.app.data(), (e) => {
          this.progress.set(trial.id, { epoch: e.epoch, epochs: request.config.epochs, started });
          this.renderTable();
        });
      })
      .then(async (last) => {
        const { probs, labels, classes } = await slot.engine.request('held-out');
        this.heldOut.set(trial.id, { probs, labels, classes, split: splitKey(this.session.dataset, request) });
        return this.app.engine.request('search-tell', {
          trial: trial.id,
          score: last[this.session.objective],
        });
      })
      .catch((err) =>
        err.stopped ? null : this.app.engine.request('search-fail', { trial: trial.id, reason: err.message }),
      )
      .then((state) => {
        const p = this.progress.get(trial.id);
        if (p) p.seconds = (performance.now() - started) / 1000;
        if (state) this.update(state);
      })
      .catch((err) => this.app.notify(err.message))
      .finally(() => {
        slot.busy = false;
        if (this.status === 'stopping' && this.pool.running === 0) this.finish('stopped');
        else this.pump();
      });
  }

  /** The `count` best finished trials whose held-out probabilities this page still holds, as
   * ensemble members. */
  bestTrials(count) {
    const sign = this.score.maximize ? -1 : 1;
    return this.trials
      .filter((t) => t.outcome.state === 'done' && this.heldOut.has(t.id))
      .sort((a, b) => sign * (a.outcome.score - b.outcome.score))
      .slice(0, count)
      .map((t) => ({ name: `trial #${t.id + 1}`, ...this.heldOut.get(t.id) }));
  }

  finish(status) {
    this.status = status === 'finished' ? 'finished' : 'idle';
    this.pool?.close();
    this.pool = null;
    if (status === 'finished') {
      localStorage.removeItem(SAVED_KEY);
      const failed = this.trials.filter((t) => t.outcome.state === 'failed').length;
      const best = this.best
        ? `the best, trial #${this.best.id + 1}, scored ${this.formatScore(this.best.outcome.score)}`
        : 'no trial succeeded';
      const message = `Search finished: ${this.trials.length} trials${failed ? ` (${failed} failed)` : ''}; ${best}.`;
      $('tune-info').textContent = message;
      this.app.notify(message, 'info');
    }
    this.renderButtons();
    this.showSaved();
  }

  update({ trials, best, saved }) {
    this.trials = trials;
    this.best = best ?? null;
    if (this.status === 'running' || this.status === 'stopping')
      localStorage.setItem(SAVED_KEY, JSON.stringify({ search: saved, session: this.session }));
    this.renderTable();
    this.renderCharts();
    this.renderButtons();
  }

  /** The stopped search kept in this browser with its count of finished trials, or null; one that
   * does not read is dropped, and said so. */
  saved() {
    const text = localStorage.getItem(SAVED_KEY);
    if (text === null) return null;
    try {
      const saved = JSON.parse(text);
      const done = JSON.parse(saved.search).trials.filter((t) => t.outcome.state !== 'pending').length;
      if (typeof saved.session?.strategy !== 'string') throw new Error('no session');
      return { ...saved, done };
    } catch {
      localStorage.removeItem(SAVED_KEY);
      this.app.notify('The stopped search kept in this browser could not be read, so it was dropped.');
      return null;
    }
  }

  showSaved() {
    const saved = this.started ? this.saved() : null;
    const resumable = saved && this.status !== 'running';
    $('tune-resume').hidden = !resumable;
    if (resumable) {
      const { done } = saved;
      // Its trials show at once, as they were when it stopped.
      if (this.status === 'idle' && !this.trials.length) {
        this.session = saved.session;
        this.trials = JSON.parse(saved.search).trials;
        const sign = this.score.maximize ? 1 : -1;
        this.best = this.trials
          .filter((t) => t.outcome.state === 'done')
          .reduce((best, t) => (!best || sign * (t.outcome.score - best.outcome.score) > 0 ? t : best), null);
        this.renderTable();
        this.renderCharts();
        this.renderButtons();
      }
      $('tune-info').textContent =
        `A ${saved.session.strategy} search on “${saved.session.dataset}” was stopped with ${done} trial${done === 1 ? '' : 's'} done; Resume carries on.`;
    }
  }

  renderButtons() {
    const running = this.status === 'running' || this.status === 'stopping';
    $('tune-start').disabled = running || !this.started;
    $('tune-stop').disabled = this.status !== 'running';
    $('tune-train-best').disabled = running || !this.best;
    document.body.dataset.search = this.status;
    if (running) {
      const done = this.trials.filter((t) => t.outcome.state !== 'pending').length;
      $('tune-info').textContent =
        `${done} of ${this.session.strategy === 'halving' ? 'the' : this.session.budget} trials done, ${this.pool?.running ?? 0} running.`;
    }
  }

  /** The score this search judges trials by (the core's catalogue). */
  get score() {
    return scoreEntry(this.session?.objective ?? this.app.state.settings.searchObjective);
  }

  formatScore(v) {
    return formatValue(v, this.score.format);
  }

  /** The trials as a table sorted by the chosen column. */
  renderTable() {
    renderTrials(this);
  }

  renderCharts() {
    const { maximize } = this.score;
    const xs = [];
    const bests = [];
    const scores = [];
    let best = null;
    for (const t of this.trials) {
      const score = t.outcome.state === 'done' ? t.outcome.score : null;
      if (score !== null && (best === null || (maximize ? score > best : score < best))) best = score;
      xs.push(t.id + 1);
      bests.push(best);
      scores.push(score);
    }
    this.chart.setColumns([xs, bests, scores], Math.max(xs.length, this.session?.budget ?? 1));
    const done = this.trials.filter((t) => t.outcome.state === 'done');
    $('tune-scatter').replaceChildren(
      ...(this.session?.params ?? []).map((p) => {
        const canvas = el('canvas', { width: 220, height: 160, className: 'scatter' });
        canvas.dataset.param = p.name;
        drawScatter(
          canvas,
          p,
          done.map((t) => [t.config[p.name], t.outcome.score, t.id === this.best?.id]),
          labelOf(p.name),
        );
        return canvas;
      }),
    );
  }
}
