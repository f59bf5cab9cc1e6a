// A run that a reload or a closed tab interrupted. After every epoch the whole run (its checkpoint:
// weights, optimiser state, random stream, the order of the next samples) is kept in the browser
// with its settings and history; the next visit offers to resume it — to the same end as if it had
// never stopped — to keep the model it had reached, or to let it go.
import { deleteRun, getRun, putRun } from '../engine/store.js';
import { historyCsv } from './run.js';
import { $ } from '../ui/dom.js';

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
      at: Date.now(),
      epoch,
      bytes,
      dataset: settings.dataset,
      request: run.request,
      history: run.history.slice(0, epoch),
      label: run.label,
      taken: run.taken,
    }).catch((err) => this.app.notify(`The run cannot be kept across a reload: ${err.message}`));
  }

  /** The run ended (finished, stopped or failed): there is nothing to resume. */
  forget() {
    this.kept = null;
    $('run-kept').hidden = true;
    return deleteRun().catch(() => {});
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

  async resume() {
    const kept = this.kept;
    if (!kept) throw new Error('there is no interrupted run to resume');
    if (this.app.state.settings.dataset !== kept.dataset) await this.hooks.useDataset(kept.dataset);
    await this.hooks.resume(kept);
    // A run that could not go on (its message is beside Train) stays on offer.
    $('run-kept').hidden = this.app.state.run.status === 'running';
  }

  async keepModel() {
    const kept = this.kept;
    if (!kept) throw new Error('there is no interrupted run');
    if (this.app.state.settings.dataset !== kept.dataset) await this.hooks.useDataset(kept.dataset);
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
