// The run: Train, Pause and Stop (buttons and T/P/S), the progress and the run's numbers, the live
// loss and accuracy curves (the previous run's stay dashed beside them), where training runs (the
// GPU, the CPU, a fall-back when the GPU is lost), and what the run says when it ends.
import { chosenBackend, plotStride, splitKey } from '../state/request.js';
import { LiveChart } from '../ui/charts.js';
import { $ } from '../ui/dom.js';

const BUSY = ['starting', 'running', 'paused'];
const HISTORY_COLUMNS = ['epoch', 'train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'lr', 'seconds'];

/** A run's history (one row per epoch) as CSV, as it is saved in a model file. */
export function historyCsv(history) {
  return `${[HISTORY_COLUMNS, ...history].map((row) => row.join(',')).join('\n')}\n`;
}

export const isBusy = (status) => BUSY.includes(status);

export class RunPanel {
  /**
   * `app`: the engine, the state and `notify`. `hooks`: `request()` (the training request of the
   * settings), `status(status, busy)` (told every change), `started(stepsPerEpoch)`, `steps(event)`
   * (a chunk of steps with their rates and gradient norms), `epoch()`, `checkpoint(msg)` (the run
   * between two epochs, whole), `ended(trained)`.
   */
  constructor(app, hooks) {
    this.app = app;
    this.hooks = hooks;
    this.loss = new LiveChart($('loss-chart'), 'Loss', ['train loss', 'validation loss']);
    this.accuracy = new LiveChart($('acc-chart'), 'Accuracy', ['train accuracy', 'validation accuracy'], {
      percent: true,
    });
    $('train').addEventListener('click', () => this.start());
    $('pause').addEventListener('click', async () => {
      const { state: s } = await app.engine.request(app.state.run.status === 'paused' ? 'resume' : 'pause');
      this.setStatus(s === 'paused' ? 'paused' : 'running');
    });
    $('stop').addEventListener('click', () => app.engine.request('stop'));
    document.addEventListener('keydown', (e) => this.shortcut(e));
    // Leaving the page while a run trains asks first (the run is kept as of its last epoch anyway).
    addEventListener('beforeunload', (e) => {
      if (isBusy(app.state.run.status)) e.preventDefault();
    });
  }

  /** Train, Pause and Stop from the keyboard (T, P, S), except while typing in a field. */
  shortcut(e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest?.('input, textarea, select, [contenteditable]')) return;
    const button = { t: 'train', p: 'pause', s: 'stop' }[e.key.toLowerCase()];
    if (!button || $(button).disabled) return;
    e.preventDefault();
    $(button).click();
  }

  setStatus(status) {
    const { state } = this.app;
    state.run.status = status;
    const busy = isBusy(status);
    $('train').disabled = busy;
    $('pause').disabled = !busy;
    $('stop').disabled = !busy;
    $('pause').textContent = status === 'paused' ? 'Resume' : 'Pause';
    document.body.dataset.status = status;
    $('header-progress').hidden = !busy;
    this.renderStatus();
    this.hooks.status(status, busy);
  }

  /** The header's account of the run: what it is doing, and how far it has got. */
  renderStatus() {
    const { status, epochs, trained } = this.app.state.run;
    const epoch = $('stat-epoch').textContent;
    const said = {
      starting: 'starting…',
      running: `training: epoch ${epoch}`,
      paused: `paused at epoch ${epoch}`,
      done: `trained: ${$('stat-val-acc').textContent} validation accuracy`,
      stopped: 'stopped',
      error: 'the run failed',
    }[status];
    $('run-status').textContent = said ?? (trained ? 'model loaded' : 'not trained yet');
    $('header-progress').value = $('progress').value;
    $('run-status').title = epochs ? `${epochs} epochs planned` : '';
  }

  /** Starts a run of the current settings, or (`kept`: a run's checkpoint, see resume.js) goes on
   * with a run where it stopped, its curves as they were. */
  async start(kept) {
    const { engine, state, notify } = this.app;
    notify('');
    const previous = state.run.status;
    this.setStatus('starting');
    try {
      const request = kept?.request ?? this.hooks.request();
      const started = await engine.request('train', kept ? { ...request, resume: kept.bytes } : request);
      this.keepForComparison();
      state.run = {
        request,
        status: 'running',
        epochs: request.config.epochs,
        stepsPerEpoch: started.stepsPerEpoch,
        stride: plotStride(request.config.epochs * started.stepsPerEpoch),
        trained: false,
        lrs: [],
        norms: [],
        history: kept ? [...kept.history] : [],
        label: kept?.label ?? (started.taken ? 'pretrained' : 'random weights'),
        taken: kept?.taken ?? started.taken,
        split: splitKey(state.settings.dataset, request),
      };
      this.reset(request.config.epochs);
      for (const [epoch, trainLoss, trainAcc, valLoss, valAcc] of state.run.history) {
        this.loss.push(epoch, [trainLoss, valLoss]);
        this.accuracy.push(epoch, [trainAcc, valAcc]);
      }
      this.hooks.started(started.stepsPerEpoch);
      this.showThreads(started);
      this.setStatus('running');
    } catch (err) {
      this.setStatus(previous);
      notify(err.message, 'error', { near: $('train'), field: err.control && $(err.control) });
    }
  }

  /** The badge says where the run trains, and on how many threads; under the threads field, why
   * a CPU run that could have more trains on one. */
  showThreads({ backend, threads, why }) {
    const plural = threads === 1 ? 'thread' : 'threads';
    const cpu = backend === 'CPU';
    $('backend').textContent = `backend: ${backend}${cpu ? ` · ${threads} ${plural}` : ''}`;
    $('backend').title =
      threads > 1 ? `Each batch is split over ${threads} threads, whose gradients are added` : 'Where training runs';
    $('threads-info').textContent = cpu && why ? `The last run trained on one thread: ${why}.` : '';
  }

  /** Clears the curves and the numbers for a run (or a loaded model's history) of `epochs` epochs. */
  reset(epochs) {
    this.loss.reset(epochs);
    this.accuracy.reset(epochs);
    $('progress').value = 0;
    for (const id of ['stat-epoch', 'stat-speed', 'stat-loss', 'stat-val-acc']) $(id).textContent = '–';
  }

  /** The last run's validation curves stay on the charts, dashed, while the next run trains. */
  keepForComparison() {
    const { state } = this.app;
    const last = state.run.history;
    if (!last?.length) return;
    const final = last[last.length - 1];
    const name = `previous run (${state.run.label ?? 'random weights'}): ${(final[4] * 100).toFixed(1)} %`;
    this.accuracy.setReference(
      last.map((r) => [r[0], r[4]]),
      name,
    );
    this.loss.setReference(
      last.map((r) => [r[0], r[3]]),
      name,
    );
    state.previousRun = { label: state.run.label, accuracy: final[4] };
  }

  /** New data: the header names it. */
  showData() {
    this.renderHeader();
  }

  /** The header's data set and model. */
  renderHeader() {
    const { settings } = this.app.state;
    const label = (select) => select.selectedOptions[0]?.textContent.replace(/ \(.*\)$/, '');
    $('status-data').textContent = label($('dataset')) ?? settings.dataset;
    $('status-model').textContent =
      settings.startFrom === 'pretrained' ? 'pretrained CNN' : (label($('preset')) ?? 'custom model');
  }

  /** A model file became the current model: no run, its history on the charts. */
  loaded({ history, evaluation }) {
    this.app.state.run = {
      status: 'idle',
      epochs: 0,
      stepsPerEpoch: 0,
      stride: 1,
      trained: true,
      lrs: [],
      norms: [],
      history: [],
    };
    this.setStatus('idle');
    this.showHistory(history, evaluation.accuracy);
  }

  /** The loss and accuracy curves a model file carries (its history CSV), in place of the last run's. */
  showHistory(csv, accuracy) {
    const rows = (csv ?? '')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',').map(Number))
      .filter((r) => r.length === HISTORY_COLUMNS.length);
    this.reset(Math.max(rows.length, 1));
    for (const [epoch, trainLoss, trainAcc, valLoss, valAcc] of rows) {
      this.loss.push(epoch, [trainLoss, valLoss]);
      this.accuracy.push(epoch, [trainAcc, valAcc]);
    }
    $('stat-val-acc').textContent = `${(accuracy * 100).toFixed(1)} %`;
  }

  event(e) {
    const run = this.app.state.run;
    if (e.type === 'step') {
      const x = e.epoch - 1 + e.step / e.steps_per_epoch;
      $('progress').value = x / run.epochs;
      $('stat-epoch').textContent = `${e.epoch} / ${run.epochs}`;
      this.renderStatus();
      $('stat-speed').textContent = Math.round(e.samples_per_sec).toLocaleString();
      $('stat-loss').textContent = e.loss.toFixed(4);
      this.loss.push(x, [e.loss, null]);
      this.accuracy.push(x, [e.accuracy, null]);
      // The chunk's steps, by index into the run's grid of plotted steps (which the plan laid out).
      const first = (e.epoch - 1) * e.steps_per_epoch + e.step - e.lrs.length;
      for (const [i, lr] of e.lrs.entries()) {
        if ((first + i) % run.stride) continue;
        run.lrs[(first + i) / run.stride] = lr;
        run.norms[(first + i) / run.stride] = e.grad_norms[i];
      }
      run.lastLr = e.lrs.at(-1);
      this.hooks.steps(first, e);
    } else if (e.type === 'epoch') {
      this.loss.push(e.epoch, [null, e.val_loss]);
      this.accuracy.push(e.epoch, [null, e.val_accuracy]);
      $('stat-val-acc').textContent = `${(e.val_accuracy * 100).toFixed(1)} %`;
      run.trained = true;
      const lr = run.lastLr;
      run.history.push([
        e.epoch,
        e.train_loss,
        e.train_accuracy,
        e.val_loss,
        e.val_accuracy,
        lr ?? '',
        e.seconds.toFixed(3),
      ]);
      this.hooks.epoch();
    } else if (e.type === 'early_stop') {
      run.earlyStop = e;
      for (const chart of [this.loss, this.accuracy]) {
        chart.mark(e.best_epoch, `best: epoch ${e.best_epoch}`, '#059669');
        chart.mark(e.epoch, `stopped: epoch ${e.epoch}`, '#dc2626');
      }
      $('stat-val-acc').textContent = `${(e.best_val_accuracy * 100).toFixed(1)} %`;
      this.hooks.epoch();
    }
  }

  /** Where training runs, as the engine found the GPU. */
  renderDevices() {
    const { state } = this.app;
    const { adapter, error } = state.gpu;
    const option = $('device').querySelector('option[value="gpu"]');
    if (adapter) {
      option.textContent = `GPU (WebGPU: ${adapter})`;
      $('backend').textContent = `backend: ${chosenBackend(state) === 'gpu' ? `WebGPU, ${adapter}` : 'CPU'}`;
      $('device-info').textContent = state.gpu.software
        ? `This browser's WebGPU runs on the processor, not on a graphics card (a software adapter: “${adapter}”), so it is slower than the CPU backend, and “Fastest available” trains on the CPU. Choose “GPU” to use it anyway.`
        : '';
      $('backend').title = $('device-info').textContent || 'Where training runs';
    } else {
      this.gpuUnavailable(`WebGPU is not available here (${error}); training runs on the CPU.`);
    }
  }

  gpuUnavailable(reason) {
    const { state } = this.app;
    const option = $('device').querySelector('option[value="gpu"]');
    option.disabled = true;
    option.textContent = 'GPU (WebGPU: unavailable)';
    state.gpu.adapter = null;
    if (state.settings.device === 'gpu') {
      $('device').value = 'auto';
      state.settings.device = 'auto';
    }
    $('backend').textContent = 'backend: CPU';
    $('device-info').textContent = reason;
    this.app.notify(reason, 'info');
  }

  /** What the engine streams: the GPU it found, the run's events and how the run ended. */
  progress(msg) {
    const { state, notify } = this.app;
    switch (msg.type) {
      case 'ready':
        state.gpu = { adapter: msg.gpu, software: msg.software, error: msg.gpuError };
        this.renderDevices();
        break;
      case 'backend_changed':
        state.run.fellBack = true;
        this.gpuUnavailable(msg.reason);
        $('backend').textContent = `backend: ${msg.backend}`;
        break;
      case 'events':
        for (const e of msg.events) {
          if (e.type === 'backend_changed') this.progress(e);
          else this.event(e);
        }
        break;
      case 'checkpoint':
        this.hooks.checkpoint(msg);
        break;
      case 'finished': {
        this.setStatus('done');
        this.hooks.ended(true);
        const run = state.run;
        const stop = run.earlyStop;
        const early = stop
          ? ` early at epoch ${stop.epoch}: the validation loss had not improved since epoch ${stop.best_epoch}, whose weights the model has again (validation accuracy ${(stop.best_val_accuracy * 100).toFixed(1)} %)`
          : '';
        const transfer = run.taken
          ? ` It started from the pretrained CNN (layers ${run.taken.join(', ')} taken, a fresh output layer).`
          : '';
        const previous = state.previousRun
          ? ` The previous run (${state.previousRun.label}) reached ${(state.previousRun.accuracy * 100).toFixed(1)} %, dashed on the charts.`
          : '';
        const tryIt = state.dataset?.vocabulary
          ? `Type ${state.dataset.name === 'words' ? 'a word' : 'a text'} under Start`
          : 'Draw on the pad under Start';
        notify(
          `Training finished${early}${run.fellBack ? ' on the CPU, after the GPU was lost' : ''}.${transfer}${previous} ${tryIt}, or see the evaluation under Evaluate.`,
          'info',
        );
        break;
      }
      case 'stopped':
        this.setStatus('stopped');
        this.hooks.ended(state.run.trained);
        notify('Training stopped. The model keeps the weights it had reached.', 'info');
        break;
      case 'run-error': {
        state.run.trained = false;
        this.setStatus('error');
        this.hooks.ended(false);
        // A table's raw numbers are the usual cause of a diverging run on one.
        const unscaled =
          /diverged/.test(msg.message) &&
          state.dataset?.columns?.length &&
          (state.settings.features.scale ?? 'none') === 'none';
        notify(
          unscaled
            ? `${msg.message} This table's numbers are not scaled: standardise them under “Feature engineering”.`
            : msg.message,
        );
        break;
      }
    }
  }
}
