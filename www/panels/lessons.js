// The lessons. Each sets up a seeded experiment on built-in data, trains the "without" and
// "with" variants side by side in two workers, plots both curves as they are measured, and states
// the measured difference. Nothing on screen is written in: every number comes from the runs.
import { TrialPool, loadInto } from '../engine/pool.js';
import { applyTrial } from '../state/request.js';
import { LiveChart } from '../ui/charts.js';
import { $, element as el } from '../ui/dom.js';
import { LESSONS } from './lesson-plans.js';

export class Lessons {
  /** `hooks`: `notify(message, kind)`. */
  constructor(hooks) {
    this.hooks = hooks;
    this.current = LESSONS[0];
    this.chart = new LiveChart($('lesson-chart'), 'Lesson', ['without', 'with'], { percent: true });
    this.renderList();
    this.show(LESSONS[0]);
    $('lesson-run').addEventListener('click', () =>
      this.run().catch((err) => {
        $('lesson-result').textContent = '';
        this.hooks.notify(err.message);
      }),
    );
  }

  /** Each lesson is a link to its own address, where it shows alone. */
  renderList() {
    $('lesson-list').replaceChildren(
      ...LESSONS.map((l) => {
        const link = el('a', { href: `#/lessons/${l.id}` }, `${l.strategy}: ${l.title}`);
        link.dataset.lesson = l.id;
        return el('li', {}, link);
      }),
    );
  }

  /** Shows lesson `id` alone, for a projector (no id: the list of lessons). */
  present(id) {
    if (!id) return;
    const lesson = LESSONS.find((l) => l.id === id);
    if (!lesson) {
      this.hooks.notify(`There is no lesson “${id}”; the lessons are ${LESSONS.map((l) => l.id).join(', ')}.`);
      return;
    }
    if (lesson !== this.current) this.show(lesson);
  }

  show(lesson) {
    this.current = lesson;
    $('lesson-strategy').textContent = lesson.strategy;
    $('lesson-title').textContent = lesson.title;
    $('lesson-alone').href = `#/lessons/${lesson.id}`;
    $('lesson-next').href = `#/lessons/${LESSONS[(LESSONS.indexOf(lesson) + 1) % LESSONS.length].id}`;
    for (const link of $('lesson-list').querySelectorAll('a')) {
      if (link.dataset.lesson === lesson.id) link.setAttribute('aria-current', 'true');
      else link.removeAttribute('aria-current');
    }
    $('lesson-intro').textContent = lesson.intro;
    $('lesson-result').textContent = '';
    const labels = lesson.variants.map((v) => v.label);
    const percent = lesson.metric === 'val_accuracy';
    this.chart.element.replaceChildren();
    const title =
      { trial: 'Best held-out accuracy so far', stream: 'Accuracy on the stream (last 50 inputs)' }[lesson.x] ??
      (percent ? 'Held-out accuracy' : 'Held-out loss');
    this.chart = new LiveChart(this.chart.element, title, labels, {
      percent,
      xLabel: lesson.x ?? 'epoch',
      large: true,
    });
    document.body.dataset.lessonShown = lesson.id;
  }

  /** The training request of one variant on the data loaded in `engine`. */
  async request(engine, lesson, variant) {
    let spec = variant.model;
    const pretrained = variant.model === 'pretrained';
    if (pretrained || variant.model === 'pretrained-shape') {
      spec = (await engine.request('pretrained-spec')).spec;
    } else if (!variant.model.startsWith('{')) {
      spec = (await engine.request('preset', { name: variant.model })).spec;
    }
    const { epochs, batch, optimizer, samples, heldOut } = lesson.base;
    const config = { epochs, batch_size: batch, optimizer, seed: 1, ...variant.config };
    return { spec, config, samples, heldOut, backend: 'cpu', pretrained };
  }

  /** Runs the variants side by side (by default: trains each and follows its validation curve)
   * and states the measured difference. */
  async run() {
    const lesson = this.current;
    const button = $('lesson-run');
    button.disabled = true;
    document.body.dataset.lesson = '';
    $('lesson-result').textContent = `Running the ${lesson.variants.length} variants side by side…`;
    // A lesson with its own procedure makes its own workers.
    const pool = lesson.run ? null : new TrialPool(lesson.variants.length);
    const data = { key: `lesson:${lesson.id}`, ...lesson.data };
    const runs = lesson.variants.map(() => ({ epochs: [], points: [], best: 0 }));
    const span = lesson.x === 'trial' ? lesson.budget : lesson.x === 'stream' ? 600 : lesson.base.epochs;
    const redraw = () => {
      const xs = [...new Set(runs.flatMap((r) => r.points.map(([x]) => x)))].sort((p, q) => p - q);
      this.chart.setColumns(
        [xs, ...runs.map((r) => xs.map((x) => r.points.find(([px]) => px === x)?.[1] ?? null))],
        span,
      );
    };
    this.chart.reset(span);
    try {
      if (lesson.run) {
        const values = await lesson.run({ lessons: this, lesson, pool, data, runs, redraw });
        runs.forEach((r, k) => {
          r.value = values[k];
        });
      } else {
        await Promise.all(
          pool.slots.map(async (slot, k) => {
            await loadInto(slot.engine, data);
            slot.loaded = data.key;
            const request = await this.request(slot.engine, lesson, lesson.variants[k]);
            await pool.run(slot, request, data, (e) => {
              runs[k].epochs.push(e);
              runs[k].points.push([e.epoch, e[lesson.metric]]);
              redraw();
            });
            if (lesson.score) runs[k].report = await lesson.score(slot);
          }),
        );
        runs.forEach((r, k) => {
          r.value = lesson.value ? lesson.value(r.report) : this.kept(lesson, r, k);
        });
      }
    } finally {
      pool?.close();
      button.disabled = false;
    }
    const values = runs.map((r) => r.value);
    const [a, b] = values;
    if (lesson.variants[1].config?.early_stopping)
      this.chart.mark(runs[1].epochs.length, `stopped (best: epoch ${runs[1].best})`, '#dc2626');
    $('lesson-result').textContent = lesson.verdict(a, b, runs, lesson);
    document.body.dataset.lesson = JSON.stringify({ id: lesson.id, without: a, with: b, values });
  }

  /** The number a trained model ends with: its last epoch's accuracy, or (for the loss) the loss
   * of the weights it keeps — the best epoch's when early stopping restored it. */
  kept(lesson, run, k) {
    if (lesson.metric === 'val_accuracy') return run.epochs.at(-1).val_accuracy;
    const losses = run.epochs.map((e) => e.val_loss);
    const stopped = lesson.variants[k].config.early_stopping;
    run.best = stopped ? losses.indexOf(Math.min(...losses)) + 1 : run.epochs.length;
    return stopped ? Math.min(...losses) : losses.at(-1);
  }

  /** The tuning lesson: random and Bayesian searches of the same space and budget (one worker
   * each, trial after trial, once per search seed); plots the mean best score so far per trial. */
  async search({ lesson, data, runs, redraw }) {
    const pool = new TrialPool(2);
    const params = [
      { type: 'float', name: 'lr', low: 1e-4, high: 10, log: true },
      { type: 'int', name: 'units', low: 2, high: 64, log: true },
    ];
    try {
      return await Promise.all(
        pool.slots.map(async (slot, k) => {
          await loadInto(slot.engine, data);
          slot.loaded = data.key;
          const base = await this.request(slot.engine, lesson, { model: 'toy', config: {} });
          const bests = [];
          // Scores of the trials after the first four (Bayesian search's random start).
          const guided = [];
          for (const [s, seed] of lesson.seeds.entries()) {
            const strategy = { type: lesson.variants[k].strategy };
            await slot.engine.request('search-start', {
              spec: { params, strategy, budget: lesson.budget, seed, maximize: true },
            });
            let best = 0;
            for (let n = 1; ; n++) {
              const { ask } = await slot.engine.request('search-ask');
              if (ask.type !== 'run') break;
              try {
                const last = await pool.run(
                  slot,
                  await applyTrial(slot.engine, base, ask.trial.config),
                  data,
                  () => {},
                );
                await slot.engine.request('search-tell', { trial: ask.trial.id, score: last.val_accuracy });
                best = Math.max(best, last.val_accuracy);
                if (n > 4) guided.push(last.val_accuracy);
              } catch (err) {
                await slot.engine.request('search-fail', { trial: ask.trial.id, reason: err.message });
                // A diverged trial scores nothing.
                if (n > 4) guided.push(0);
              }
              // The mean over the searches so far, each at its best after n trials.
              bests[n - 1] ??= [];
              bests[n - 1].push(best);
              const mean = bests[n - 1].reduce((a, b) => a + b, 0) / bests[n - 1].length;
              const at = runs[k].points.findIndex(([x]) => x === n);
              if (at >= 0) runs[k].points[at] = [n, mean];
              else runs[k].points.push([n, mean]);
              redraw();
            }
            $('lesson-result').textContent = `Search ${s + 1} of ${lesson.seeds.length} done…`;
          }
          const finals = bests.at(-1);
          runs[k].best = finals.reduce((a, b) => a + b, 0) / finals.length;
          return guided.reduce((a, b) => a + b, 0) / guided.length;
        }),
      );
    } finally {
      pool.close();
    }
  }

  /** The continuous-learning lesson: trains and deploys an MLP, plays the rotating stream through
   * it, fine-tunes it on the first 480 answers plus a replay, and scores both on the last 120. */
  async drift({ lesson, data, runs, redraw }) {
    const pool = new TrialPool(2);
    const [main, helper] = pool.slots;
    const { samples, heldOut } = lesson.base;
    try {
      await Promise.all(
        pool.slots.map(async (slot) => {
          await loadInto(slot.engine, data);
          slot.loaded = data.key;
        }),
      );
      const request = await this.request(main.engine, lesson, { model: 'mlp', config: {} });
      await pool.run(main, request, data, () => {});
      const { bytes } = await main.engine.request('save-model', { history: '' });
      await main.engine.request('stream-start', { samples, heldOut, seed: 1, count: 600, maxDegrees: 90 });
      const stream = await main.engine.request('stream-take', { start: 0, count: 600 });
      const width = stream.features.length / 600;
      // Rolling accuracy (last 50) of a model over the whole stream.
      const follow = async (modelBytes, k) => {
        await main.engine.request('load-model', {
          bytes: modelBytes,
          config: request.config,
          samples,
          heldOut,
          backend: 'cpu',
        });
        const { probs } = await main.engine.request('predict', { features: stream.features });
        const classes = probs.length / 600;
        const right = Array.from({ length: 600 }, (_, i) => {
          const row = probs.subarray(i * classes, (i + 1) * classes);
          return row.indexOf(Math.max(...row)) === stream.labels[i];
        });
        for (let i = 50; i <= 600; i += 10)
          runs[k].points.push([i, right.slice(i - 50, i).filter(Boolean).length / 50]);
        redraw();
      };
      await follow(bytes, 0);
      const feedback = { features: stream.features.slice(0, 480 * width), labels: stream.labels.slice(0, 480) };
      const { length } = await helper.engine.request('use-replay', {
        ...feedback,
        replay: 500,
        samples,
        heldOut,
        seed: 1,
      });
      helper.loaded = 'replay';
      const retrain = {
        ...request,
        config: { ...request.config, epochs: 4 },
        samples: length,
        heldOut: Math.round(length / 5),
        initial: bytes,
      };
      await pool.run(helper, retrain, { key: 'replay' }, () => {});
      const retrained = (await helper.engine.request('save-model', { history: '' })).bytes;
      await follow(retrained, 1);
      const score = async (modelBytes) =>
        (await main.engine.request('score', { bytes: modelBytes, set: 'stream', start: 480, count: 120 })).score
          .accuracy;
      return [await score(bytes), await score(retrained)];
    } finally {
      pool.close();
    }
  }
}
