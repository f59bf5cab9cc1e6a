// Hyper-parameter search on the page: the search space editor, the pool of trial workers (each
// its own worker with its own wasm instance), the live trial table, the best-so-far curve and one
// scatter plot per parameter against the score. The search itself (which trial next) runs in the
// core, in the page's main worker; it is saved after every result so that a reload can resume it.
import { TrialPool } from '../engine/pool.js';
import { applyTrial, optimizerConfig, splitKey } from '../state/request.js';
import { LiveChart } from '../ui/charts.js';
import { $, element as el } from '../ui/dom.js';

const SAVED_KEY = 'whetstone.search.v1';

/** What can be searched, with the range offered first. */
export const SEARCHABLE = {
  lr: { label: 'learning rate', type: 'float', low: 0.0003, high: 0.03, log: true },
  batch: { label: 'batch size', type: 'int', low: 16, high: 256, log: true },
  units: {
    label: 'hidden width',
    type: 'int',
    low: 8,
    high: 128,
    log: true,
    hint: 'units of every dense layer but the output, and of recurrent layers',
  },
  dropout: {
    label: 'dropout',
    type: 'float',
    low: 0,
    high: 0.5,
    log: false,
    hint: 'rate of every dropout layer (one is added before the output layer if there is none)',
  },
  weight_decay: { label: 'weight decay (L2)', type: 'float', low: 0.00001, high: 0.01, log: true },
  optimizer: { label: 'optimiser', type: 'choice', values: ['adam', 'rmsprop', 'momentum'] },
  epochs: { label: 'epochs', type: 'int', low: 1, high: 6, log: false },
  augmentation: {
    label: 'augmentation strength',
    type: 'float',
    low: 0,
    high: 1,
    log: false,
    hint: 'a factor on the strength of every augmentation chosen under Training (images only)',
  },
};

/** The score of a finished trial: the last epoch's validation accuracy or loss. */
const scoreOf = (epoch, objective) => (objective === 'val_loss' ? epoch.val_loss : epoch.val_accuracy);

export class Tuner {
  /**
   * `main` is the page's engine (it keeps the search); `hooks` gives `base()` (the training
   * request and data of the current settings), `dataset()` ({key, name, upload}), `useDataset(name)`
   * (switches the page to a saved search's data), `trainBest(values)` and `notify(message, kind)`.
   */
  constructor(main, hooks) {
    this.main = main;
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
    // One trial per core (the page's own worker is idle while a search runs), at most 8.
    $('tune-workers').value = String(Math.min(8, Math.max(1, navigator.hardwareConcurrency ?? 2)));
    this.renderSpace();
    this.wire();
    this.showSaved();
  }

  /** One row per searchable setting: whether it is searched, and its range or choices. */
  renderSpace() {
    const saved = this.uiState().space ?? {};
    const rows = Object.entries(SEARCHABLE).map(([key, p]) => {
      const s = { on: ['lr', 'units'].includes(key), ...p, ...(saved[key] ?? {}) };
      const on = el('input', { type: 'checkbox', checked: s.on, title: `search the ${p.label}` });
      on.dataset.param = key;
      on.dataset.field = 'on';
      const cells = [el('td', {}, el('label', { className: 'inline' }, on, ` ${p.label}`))];
      if (p.type === 'choice') {
        const values = el('input', { type: 'text', value: s.values.join(', '), title: 'choices, separated by commas' });
        values.dataset.param = key;
        values.dataset.field = 'values';
        cells.push(el('td', { colSpan: 3 }, values));
      } else {
        for (const field of ['low', 'high']) {
          const input = el('input', { type: 'text', value: s[field], className: 'small', title: field });
          input.dataset.param = key;
          input.dataset.field = field;
          cells.push(el('td', {}, input));
        }
        const log = el('input', { type: 'checkbox', checked: s.log, title: 'log scale' });
        log.dataset.param = key;
        log.dataset.field = 'log';
        cells.push(el('td', {}, el('label', { className: 'inline' }, log, ' log')));
      }
      if (p.hint) cells[0].title = p.hint;
      return el('tr', {}, ...cells);
    });
    $('tune-space').replaceChildren(
      el('tr', {}, ...['setting', 'from', 'to', 'scale'].map((h) => el('th', { textContent: h }))),
      ...rows,
    );
    $('tune-space').addEventListener('change', () => this.saveUi());
  }

  uiState() {
    try {
      return JSON.parse(localStorage.getItem(`${SAVED_KEY}.ui`) ?? '{}');
    } catch {
      return {};
    }
  }

  saveUi() {
    const space = {};
    for (const input of $('tune-space').querySelectorAll('input')) {
      const { param, field } = input.dataset;
      space[param] ??= {};
      space[param][field] =
        input.type === 'checkbox'
          ? input.checked
          : field === 'values'
            ? input.value.split(',').map((v) => v.trim())
            : input.value;
    }
    localStorage.setItem(`${SAVED_KEY}.ui`, JSON.stringify({ space }));
  }

  /** The search settings from the form; values that are not numbers are reported by name. */
  readSpec() {
    const params = [];
    const number = (text, what) => {
      const v = Number(String(text).trim());
      if (String(text).trim() === '' || !Number.isFinite(v)) throw new Error(`${what} must be a number, got "${text}"`);
      return v;
    };
    for (const [key, p] of Object.entries(SEARCHABLE)) {
      const field = (f) => $('tune-space').querySelector(`[data-param="${key}"][data-field="${f}"]`);
      if (!field('on').checked) continue;
      if (p.type === 'choice') {
        const values = field('values')
          .value.split(',')
          .map((v) => v.trim())
          .filter(Boolean);
        for (const v of values) optimizerConfig(v, 0.01);
        params.push({ type: 'choice', name: key, values });
      } else {
        const low = number(field('low').value, `The lowest ${p.label}`);
        const high = number(field('high').value, `The highest ${p.label}`);
        if (p.type === 'int' && !(Number.isInteger(low) && Number.isInteger(high)))
          throw new Error(`the ${p.label} range takes whole numbers, got ${low} to ${high}`);
        params.push({ type: p.type, name: key, low, high, log: field('log').checked });
      }
    }
    const strategyType = $('tune-strategy').value;
    const strategy = { type: strategyType };
    if (strategyType === 'grid') strategy.points = number($('tune-points').value, 'Grid points per range');
    if (strategyType === 'halving') {
      strategy.eta = 3;
      strategy.min_epochs = number($('tune-min-epochs').value, "The first rung's epochs");
      strategy.max_epochs = number($('tune-max-epochs').value, 'The most epochs');
    }
    const budget = number($('tune-budget').value, 'The budget');
    const seed = number($('tune-seed').value, 'The seed');
    const objective = $('tune-objective').value;
    return { params, strategy, budget, seed, maximize: objective === 'val_accuracy' };
  }

  wire() {
    $('tune-start').addEventListener('click', () => this.start().catch((err) => this.hooks.notify(err.message)));
    $('tune-stop').addEventListener('click', () => this.stop());
    $('tune-resume').addEventListener('click', () => this.resume().catch((err) => this.hooks.notify(err.message)));
    $('tune-train-best').addEventListener('click', () => this.best && this.hooks.trainBest(this.best.config));
    $('tune-strategy').addEventListener('change', () => this.renderStrategy());
    this.renderStrategy();
  }

  renderStrategy() {
    const type = $('tune-strategy').value;
    $('tune-grid-fields').hidden = type !== 'grid';
    $('tune-halving-fields').hidden = type !== 'halving';
  }

  workers() {
    const n = Number($('tune-workers').value);
    return Number.isInteger(n) && n >= 1 ? Math.min(n, 16) : 1;
  }

  async start() {
    if (this.status === 'running') return;
    const spec = this.readSpec();
    const base = this.hooks.base();
    // A trial's request is made the same way: a setting that cannot be searched here fails now.
    applyTrial(base, Object.fromEntries(spec.params.map((p) => [p.name, p.type === 'choice' ? p.values[0] : p.low])));
    const objective = $('tune-objective').value;
    const state = await this.main.request('search-start', { spec });
    this.heldOut.clear();
    this.session = {
      base,
      objective,
      dataset: this.hooks.dataset().name,
      budget: spec.budget,
      strategy: spec.strategy.type,
      params: spec.params,
    };
    this.run(state);
  }

  /** Picks up the search saved in this browser, on the data it was started on. */
  async resume() {
    const saved = JSON.parse(localStorage.getItem(SAVED_KEY) ?? 'null');
    if (!saved) throw new Error('there is no stopped search to resume');
    if (this.hooks.dataset().name !== saved.session.dataset) await this.hooks.useDataset(saved.session.dataset);
    const state = await this.main.request('search-start', { saved: saved.search });
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
    this.hooks.notify(
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
        const { ask } = await this.main.request('search-ask');
        if (ask.type === 'run') {
          this.launch(slot, ask.trial);
        } else {
          if (ask.type === 'finished' && this.pool.running === 0) this.finish('finished');
          break;
        }
      }
    } catch (err) {
      this.hooks.notify(err.message);
      this.finish('stopped');
    } finally {
      this.pumping = false;
    }
  }

  launch(slot, trial) {
    slot.busy = true;
    const request = applyTrial(this.session.base, trial.config, { epochs: trial.epochs });
    const started = performance.now();
    this.progress.set(trial.id, { epoch: 0, epochs: request.config.epochs, started });
    this.renderTable();
    this.pool
      .run(slot, request, this.hooks.dataset(), (e) => {
        this.progress.set(trial.id, { epoch: e.epoch, epochs: request.config.epochs, started });
        this.renderTable();
      })
      .then(async (last) => {
        const { probs, labels, classes } = await slot.engine.request('held-out');
        this.heldOut.set(trial.id, { probs, labels, classes, split: splitKey(this.session.dataset, request) });
        return this.main.request('search-tell', { trial: trial.id, score: scoreOf(last, this.session.objective) });
      })
      .catch((err) => (err.stopped ? null : this.main.request('search-fail', { trial: trial.id, reason: err.message })))
      .then((state) => {
        const p = this.progress.get(trial.id);
        if (p) p.seconds = (performance.now() - started) / 1000;
        if (state) this.update(state);
      })
      .catch((err) => this.hooks.notify(err.message))
      .finally(() => {
        slot.busy = false;
        if (this.status === 'stopping' && this.pool.running === 0) this.finish('stopped');
        else this.pump();
      });
  }

  /** The `count` best finished trials whose held-out probabilities this page still holds, as
   * ensemble members. */
  bestTrials(count) {
    const sign = this.session?.objective === 'val_loss' ? 1 : -1;
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
      this.hooks.notify(message, 'info');
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

  showSaved() {
    const saved = JSON.parse(localStorage.getItem(SAVED_KEY) ?? 'null');
    const resumable = saved && this.status !== 'running';
    $('tune-resume').hidden = !resumable;
    if (resumable) {
      const done = JSON.parse(saved.search).trials.filter((t) => t.outcome.state !== 'pending').length;
      $('tune-info').textContent =
        `A ${saved.session.strategy} search on “${saved.session.dataset}” was stopped with ${done} trial${done === 1 ? '' : 's'} done; Resume carries on.`;
    }
  }

  renderButtons() {
    const running = this.status === 'running' || this.status === 'stopping';
    $('tune-start').disabled = running;
    $('tune-stop').disabled = this.status !== 'running';
    $('tune-train-best').disabled = running || !this.best;
    document.body.dataset.search = this.status;
    if (running) {
      const done = this.trials.filter((t) => t.outcome.state !== 'pending').length;
      $('tune-info').textContent =
        `${done} of ${this.session.strategy === 'halving' ? 'the' : this.session.budget} trials done, ${this.pool?.running ?? 0} running.`;
    }
  }

  formatScore(v) {
    return this.session?.objective === 'val_loss' ? v.toFixed(4) : `${(v * 100).toFixed(1)} %`;
  }

  /** The trials as a table sorted by the clicked column. */
  renderTable() {
    const params = this.session?.params.map((p) => p.name) ?? [];
    const columns = [
      ['id', '#'],
      ['status', 'status'],
      ...params.map((p) => [p, SEARCHABLE[p]?.label ?? p]),
      ['epochs', 'epochs'],
      ['score', this.session?.objective === 'val_loss' ? 'val. loss' : 'val. accuracy'],
      ['seconds', 's'],
    ];
    const rows = this.trials.map((t) => {
      const p = this.progress.get(t.id);
      const pending = t.outcome.state === 'pending';
      const running = pending && p && !p.seconds;
      return {
        id: t.id + 1,
        status: pending
          ? running
            ? `epoch ${p.epoch}/${p.epochs}`
            : 'waiting'
          : t.outcome.state === 'done'
            ? 'done'
            : `failed: ${t.outcome.reason}`,
        ...Object.fromEntries(params.map((k) => [k, t.config[k]])),
        epochs: t.epochs ?? t.config.epochs ?? this.session.base.config.epochs,
        score: t.outcome.state === 'done' ? t.outcome.score : null,
        seconds: p?.seconds ?? null,
        best: this.best?.id === t.id,
      };
    });
    const { key, descending } = this.sort;
    const cmp = (a, b) =>
      (a == null) - (b == null) || (typeof a === 'number' ? a - b : String(a).localeCompare(String(b)));
    rows.sort((a, b) => (descending ? -1 : 1) * cmp(a[key], b[key]));
    const format = (k, v) => {
      if (v == null) return '–';
      if (k === 'score') return this.formatScore(v);
      if (k === 'seconds') return v.toFixed(1);
      return typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(3) : String(v);
    };
    const head = el(
      'tr',
      {},
      ...columns.map(([k, label]) => {
        const th = el('th', {
          textContent: label + (k === key ? (descending ? ' ▼' : ' ▲') : ''),
          title: 'sort by this column',
        });
        th.dataset.sort = k;
        th.addEventListener('click', () => {
          this.sort = {
            key: k,
            descending:
              this.sort.key === k ? !this.sort.descending : k === 'score' && this.session?.objective !== 'val_loss',
          };
          this.renderTable();
        });
        return th;
      }),
    );
    $('tune-trials').replaceChildren(
      head,
      ...rows.map((r) => {
        const tr = el(
          'tr',
          { className: r.best ? 'best' : r.status.startsWith('failed') ? 'failed' : '' },
          ...columns.map(([k]) => el('td', { textContent: format(k, r[k]) })),
        );
        tr.dataset.trial = r.id;
        return tr;
      }),
    );
  }

  renderCharts() {
    const maximize = this.session?.objective !== 'val_loss';
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
          SEARCHABLE[p.name]?.label ?? p.name,
        );
        return canvas;
      }),
    );
  }
}

/** One parameter against the score: each finished trial a dot, the best one ringed. */
function drawScatter(canvas, param, points, label) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  const box = { left: 34, top: 16, right: width - 8, bottom: height - 26 };
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#1f2937';
  ctx.textAlign = 'center';
  ctx.fillText(`${label}${param.log ? ' (log)' : ''}`, width / 2, height - 6);
  ctx.strokeStyle = '#e5e7eb';
  ctx.strokeRect(box.left, box.top, box.right - box.left, box.bottom - box.top);
  if (!points.length) return;
  const position =
    param.type === 'choice'
      ? (v) => (param.values.indexOf(v) + 0.5) / param.values.length
      : param.log
        ? (v) => Math.log(v / param.low) / Math.log(param.high / param.low)
        : (v) => (v - param.low) / (param.high - param.low || 1);
  const ys = points.map((p) => p[1]);
  const [lo, hi] = [Math.min(...ys), Math.max(...ys)];
  const py = (y) => box.bottom - ((y - lo) / (hi - lo || 1)) * (box.bottom - box.top - 8) - 4;
  ctx.fillStyle = '#6b7280';
  ctx.textAlign = 'right';
  ctx.fillText(hi.toPrecision(3), box.left - 3, box.top + 8);
  ctx.fillText(lo.toPrecision(3), box.left - 3, box.bottom);
  if (param.type === 'choice') {
    ctx.textAlign = 'center';
    for (const [i, v] of param.values.entries()) {
      ctx.fillText(String(v), box.left + ((i + 0.5) / param.values.length) * (box.right - box.left), box.bottom + 11);
    }
  }
  for (const [x, y, best] of points) {
    const px = box.left + Math.min(1, Math.max(0, position(x))) * (box.right - box.left);
    ctx.fillStyle = best ? '#dc2626' : '#2563eb';
    ctx.beginPath();
    ctx.arc(px, py(y), best ? 4.5 : 3, 0, 2 * Math.PI);
    ctx.fill();
  }
}
