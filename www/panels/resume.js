// A run that a reload or a closed tab interrupted. After every epoch the whole run (its checkpoint:
// weights, optimiser state, random stream, the order of the next samples) is kept in the browser
// with its settings and history; the next visit offers to resume it — to the same end as if it had
// never stopped — to keep the model it had reached, or to let it go.
import { deleteRun, getRun, putRun } from '../engine/store.js';
import { historyCsv } from './run.js';
import { $ } from '../ui/dom.js';

/** This tab, among the page's tabs: a kept run names the tab that trains it, so that a tab forgets
 * only its own run (or the one it offered). */
const TAB = `run-${globalThis.crypto?.randomUUID?.() ?? Math.random().toString(36).slice(2)}`;

export class RunKeeper {
  /**
   * `app`: the state, `notify`, `guard`, `queue` and `engine`. `hooks`: `resume(kept)` (goes on
   * with the run), `useDataset(name)` (switches to the run's data), `keepModel(bytes)` (makes a
   * model file the current model).
   */
  constructor(app, hooks) {
    this.app = app;
    this.hooks = hooks;
    $('run-kept-resume').addEventListener(
      'click',
      app.guard(() => this.resume()),
    );
    $('run-kept-model').addEventListener(
      'click',
      app.guard(() => this.keepModel()),
    );
    $('run-kept-drop').addEventListener(
      'click',
      app.guard(() => this.drop()),
    );
  }

  /** A checkpoint from the worker: kept with what the page knows of the run. */
  keep({ epoch, bytes }) {
    const { settings, run } = this.app.state;
    putRun({
      tab: TAB,
      at: Date.now(),
      epoch,
      bytes,
      dataset: settings.dataset,
      fixes: structuredClone(this.app.state.fixes),
      request: run.request,
      history: run.history.slice(0, epoch),
      label: run.label,
      taken: run.taken,
    }).catch((err) => this.app.notify(`The run cannot be kept across a reload: ${err.message}`));
  }

  /** This tab's run ended (finished, stopped or failed), or its offer was taken or let go: there is
   * nothing to resume. A run another tab keeps is left alone. */
  async forget() {
    const offered = this.kept;
    this.kept = null;
    $('run-kept').hidden = true;
    const kept = await getRun().catch(() => null);
    if (kept && (kept.tab === TAB || kept.tab === offered?.tab)) await deleteRun().catch(() => {});
  }

  /** At start-up: says so if a run was interrupted, with what can be done about it. */
  async offer() {
    this.kept = await getRun().catch(() => null);
    const kept = this.kept;
    $('run-kept').hidden = !kept;
    if (!kept) return;
    const epochs = kept.request.config.epochs;
    const data = [...$('dataset').options].find((o) => o.value === kept.dataset)?.textContent ?? kept.dataset;
    $('run-kept-info').textContent =
      `A run on “${data}” stopped after epoch ${kept.epoch} of ${epochs} when the page was closed or reloaded.`;
  }

  /** The run's data as it was: its data set, with the quality fixes applied to it before the run. */
  async useRunData(kept) {
    const { state, engine } = this.app;
    const fixes = kept.fixes ?? [];
    if (state.settings.dataset === kept.dataset && JSON.stringify(state.fixes) === JSON.stringify(fixes)) return;
    await this.hooks.useDataset(kept.dataset);
    for (const f of fixes) {
      const { length, shape, columns, rows, rowLabels } = await engine.request('fix', f);
      Object.assign(state.dataset, { length, shape, columns, rows, rowLabels });
    }
    state.fixes = structuredClone(fixes);
  }

  async resume() {
    const kept = this.kept;
    if (!kept) throw new Error('there is no interrupted run to resume');
    await this.useRunData(kept);
    await this.hooks.resume(kept);
    // A run that could not go on (its message is beside Train) stays on offer.
    $('run-kept').hidden = this.app.state.run.status === 'running';
  }

  async keepModel() {
    const kept = this.kept;
    if (!kept) throw new Error('there is no interrupted run');
    await this.useRunData(kept);
    const { bytes } = await this.app.engine.request('checkpoint-model', {
      request: { ...kept.request, resume: kept.bytes },
      history: historyCsv(kept.history),
    });
    await this.hooks.keepModel(bytes);
    await this.forget();
  }

  async drop() {
    await this.forget();
    this.app.notify('The interrupted run was let go.', 'info');
  }
}
