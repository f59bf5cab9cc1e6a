// Monitoring a deployed model: live accuracy on the feedback and mean confidence of the latest
// answers, and the drift of the latest inputs against the training data (population stability
// index, Kolmogorov–Smirnov test) with an alert over a threshold.
import { read } from '../state/settings.js';
import { LiveChart } from '../ui/charts.js';
import { $ } from '../ui/dom.js';

/** Predictions the rolling accuracy and confidence are taken over. */
const WINDOW = 50;
/** Inputs the drift is measured on, and how often (in predictions). */
const DRIFT_WINDOW = 100;
const DRIFT_EVERY = 25;

export class Monitor {
  /** `app`: the state (the alert threshold) and `request()` (the split the data was trained on). */
  constructor(app) {
    this.app = app;
    this.accuracy = new LiveChart(
      $('monitor-chart'),
      'Live accuracy and confidence (last 50)',
      ['accuracy on feedback', 'mean confidence'],
      { percent: true, xLabel: 'prediction' },
    );
    this.driftChart = new LiveChart($('drift-chart'), 'Input drift (last 100 inputs)', ['PSI', 'alert threshold'], {
      xLabel: 'prediction',
      dashed: ['alert threshold'],
    });
  }

  /** A new version deployed: the monitoring starts over. */
  reset() {
    this.accuracy.reset(1);
    this.driftChart.reset(1);
    $('deploy-alert').hidden = true;
  }

  /** The live accuracy on feedback and the mean confidence of the last answers of `log`. */
  update(log, deployedName) {
    const n = log.length;
    const recent = log.slice(-WINDOW);
    const labelled = recent.filter((e) => e.label !== null);
    const accuracy = labelled.length ? labelled.filter((e) => e.label === e.predicted).length / labelled.length : null;
    const confidence = recent.reduce((s, e) => s + e.confidence, 0) / recent.length;
    this.accuracy.epochs = Math.max(n, 1);
    this.accuracy.push(n, [accuracy, confidence]);
    document.body.dataset.liveAccuracy = accuracy ?? '';
    $('monitor-info').textContent =
      `${n} predictions by ${deployedName}; last ${recent.length}: ${accuracy === null ? 'no feedback yet' : `${(accuracy * 100).toFixed(1)} % right on feedback`}, mean confidence ${(confidence * 100).toFixed(1)} %.`;
  }

  /** The drift of the last inputs of `log` against the training data, measured by `engine` every
   * few answers (`count` came in last), with the alert. */
  async drift(engine, log, count) {
    if (log.length % DRIFT_EVERY >= count && log.length !== count) return;
    const window = log.slice(-DRIFT_WINDOW);
    if (window.length < DRIFT_EVERY) return;
    const width = window[0].features.length;
    const features = new Float32Array(window.length * width);
    for (const [i, e] of window.entries()) features.set(e.features, i * width);
    const request = this.app.request();
    const { drift } = await engine.request('drift', {
      samples: request.samples,
      heldOut: request.heldOut,
      seed: request.config.seed,
      features,
    });
    const threshold = read(this.app.state.settings, 'driftThreshold');
    const drifted = drift.psi > threshold || drift.p_value < 0.01;
    const n = log.length;
    this.driftChart.epochs = Math.max(n, 1);
    this.driftChart.push(n, [drift.psi, threshold]);
    const alert = $('deploy-alert');
    alert.hidden = !drifted;
    alert.textContent = drifted
      ? `Drift alert: the last ${window.length} inputs no longer look like the training data (PSI ${drift.psi.toFixed(2)}, over ${threshold}; Kolmogorov–Smirnov p = ${drift.p_value.toExponential(1)}). Check the live accuracy, and retrain on the feedback.`
      : '';
    document.body.dataset.drift = JSON.stringify({ ...drift, drifted });
  }
}
