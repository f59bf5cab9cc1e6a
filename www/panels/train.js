// The training settings (epochs, batch, rate, optimiser, penalties, schedule and warm-up, clipping,
// early stopping, device and threads, class balance, split), each field writing into the state; and the planned
// learning rate of every step drawn before the run, with the actual rate and the gradient norm of
// every step drawn as the run reports them.
import { plannedStepsPerEpoch, plotStride } from '../state/request.js';
import { catalogue, entryOf } from '../state/catalogue.js';
import { PLAN_SETTINGS } from '../state/settings.js';
import { LiveChart } from '../ui/charts.js';
import { $, element } from '../ui/dom.js';
import { bindFields, fillMenu, renderFields } from '../ui/fields.js';

/** Settings whose field writes straight into the state. */
const FIELDS = [
  'epochs',
  'batch',
  'lr',
  'optimizer',
  'seed',
  'l1',
  'l2',
  'patience',
  'schedule',
  'warmup',
  'clipNorm',
  'clipValue',
  'samples',
  'heldOut',
  'device',
  'threads',
  'rebalance',
];

export class TrainPanel {
  /** `app`: the engine, the state, `save()` and `request()` (the training request of the settings). */
  constructor(app) {
    this.app = app;
    this.planTimer = 0;
    // The charts plot every `stride`-th step (more than one on a long run).
    this.stride = 1;
    this.rates = new LiveChart($('lr-chart'), 'Learning rate', ['planned', 'actual'], { dashed: ['planned'] });
    this.norms = new LiveChart($('norm-chart'), 'Gradient norm (before clipping)', ['gradient norm', 'clip limit'], {
      dashed: ['clip limit'],
    });
    bindFields(
      FIELDS,
      () => app.state.settings,
      (name) => {
        app.save();
        if (name === 'schedule') this.renderScheduleParams();
        if (PLAN_SETTINGS.includes(name)) this.plan();
      },
    );
  }

  /** The fields from the state; the optimiser and schedule menus from the core's catalogue. */
  render() {
    fillMenu('optimizer', catalogue.optimizers);
    fillMenu('schedule', catalogue.schedules);
    renderFields(FIELDS, this.app.state.settings);
    this.renderScheduleParams();
  }

  /** One field per setting of the chosen schedule, filled from the state. */
  renderScheduleParams() {
    const { state } = this.app;
    const type = state.settings.schedule;
    const saved = state.settings.scheduleParams[type] ?? {};
    $('schedule-params').replaceChildren(
      ...entryOf('schedules', type, 'schedule').fields.map(({ name: key, label, default: fallback }) => {
        const input = element('input', { id: `schedule-${key}`, type: 'text', value: saved[key] ?? fallback });
        input.addEventListener('input', () => {
          state.settings.scheduleParams[type] = { ...state.settings.scheduleParams[type], [key]: input.value };
          this.app.save();
          this.plan();
        });
        return element('label', {}, `${label} `, input);
      }),
    );
  }

  /** A data set with its own test split (the shapes) is always evaluated on all of it. */
  showData(info) {
    const { settings } = this.app.state;
    const field = $('heldout');
    field.disabled = info.testLength > 0;
    field.title = info.testLength > 0 ? `this data set brings its own test split of ${info.testLength} samples` : '';
    if (info.testLength > 0) field.value = settings.heldOut = info.testLength;
  }

  /** Draws the planned learning rate of every step: for the settings as they stand, or (given its
   * steps per epoch) for the run in progress, with the rates and norms its steps have reported. */
  plan(stepsPerEpoch) {
    const { engine, state } = this.app;
    clearTimeout(this.planTimer);
    this.planTimer = setTimeout(
      async () => {
        const info = $('schedule-info');
        try {
          const { config, ...request } = this.app.request();
          const spe = stepsPerEpoch ?? plannedStepsPerEpoch({ ...request, config }, state.dataset?.length);
          const { rates } = await engine.request('schedule', { config, stepsPerEpoch: spe });
          // A long run's charts plot every `stride`-th step.
          const stride = plotStride(rates.length);
          this.stride = stride;
          const plotted = Array.from({ length: Math.ceil(rates.length / stride) }, (_, i) => i * stride);
          const xs = plotted.map((step) => (step + 1) / spe);
          const seen = stepsPerEpoch ? state.run : { lrs: [], norms: [] };
          this.rates.setColumns(
            [xs, plotted.map((step) => rates[step]), xs.map((_, i) => seen.lrs[i] ?? null)],
            config.epochs,
          );
          this.norms.setColumns(
            [xs, xs.map((_, i) => seen.norms[i] ?? null), xs.map(() => config.clip_norm ?? null)],
            config.epochs,
          );
          const low = rates.reduce((a, b) => Math.min(a, b));
          const high = rates.reduce((a, b) => Math.max(a, b));
          info.classList.remove('invalid');
          info.textContent =
            config.schedule.type === 'reduce_on_plateau'
              ? `The rate starts at ${config.optimizer.lr} and is cut when the validation loss stalls; the solid line shows the cuts as they happen.`
              : `Planned: ${rates.length.toLocaleString()} steps (${spe} per epoch), rate between ${low.toPrecision(3)} and ${high.toPrecision(3)}.`;
        } catch (err) {
          info.classList.add('invalid');
          info.textContent = `Learning-rate plan: ${err.message}`;
        }
      },
      stepsPerEpoch ? 0 : 150,
    );
  }

  /** A chunk of steps of the run: their rates and gradient norms, from step `first` of the run. */
  steps(first, e) {
    for (const [i, lr] of e.lrs.entries()) {
      const k = (first + i) / this.stride;
      if (Number.isInteger(k) && k < this.rates.columns[2].length) {
        this.rates.columns[2][k] = lr;
        this.norms.columns[1][k] = e.grad_norms[i];
      }
    }
    this.rates.update();
    this.norms.update();
  }
}
