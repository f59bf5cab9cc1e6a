// Panel 8: a trained model deployed to its own worker answers new inputs (the drift scenario's
// stream, the drawing, an image, CSV rows); each answer can be confirmed or corrected, and the
// feedback is kept in IndexedDB. The panel plots live accuracy on the feedback, the confidence of
// the answers and the drift of the inputs against the training data, with an alert; retrains on
// the feedback (fine-tuning with a replay of old data, or from scratch) in another worker, compares
// old and new model on old and new data, promotes the new one and keeps every version to roll back.
import { Engine } from '../engine/engine.js';
import { TrialPool, loadInto } from '../engine/pool.js';
import { clearFeedback, clearVersions, listFeedback, listVersions, putFeedback, putVersion } from '../engine/store.js';
import { LiveChart } from '../ui/charts.js';
import { $, element as el } from '../ui/dom.js';
import { imageCanvas } from '../ui/samples.js';

/** Predictions the rolling accuracy and confidence are taken over. */
const WINDOW = 50;
/** Inputs the drift is measured on, and how often (in predictions). */
const DRIFT_WINDOW = 100;
const DRIFT_EVERY = 25;
/** Stream samples predicted per tick while it plays. */
const STREAM_BATCH = 20;
const DEPLOYED_KEY = 'whetstone.deployed';

export class Deployment {
  /**
   * `hooks`: `main` (the page's engine), `dataset()` ({key, name, upload, bias, fixes}),
   * `info()` (the loaded data's description), `request()` (the page's training request),
   * `drawing()` (the drawing pad's features, or null), `notify(message, kind)`.
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.engine = null;
    this.loaded = null;
    this.deployed = null;
    this.log = [];
    this.streamAt = 0;
    this.streamLength = 0;
    this.timer = 0;
    this.candidate = null;
    this.monitorChart = new LiveChart(
      $('monitor-chart'),
      'Live accuracy and confidence (last 50)',
      ['accuracy on feedback', 'mean confidence'],
      { percent: true, xLabel: 'prediction' },
    );
    this.driftChart = new LiveChart($('drift-chart'), 'Input drift (last 100 inputs)', ['PSI', 'alert threshold'], {
      xLabel: 'prediction',
      dashed: ['alert threshold'],
    });
    this.wire();
  }

  wire() {
    const guard = (task) => () => task().catch((err) => this.hooks.notify(err.message));
    $('deploy').addEventListener(
      'click',
      guard(() => this.deployTrained()),
    );
    $('stream-play').addEventListener(
      'click',
      guard(() => this.play()),
    );
    $('stream-pause').addEventListener('click', () => this.pause());
    $('deploy-drawing').addEventListener(
      'click',
      guard(() => this.predictDrawing()),
    );
    $('deploy-rows-predict').addEventListener(
      'click',
      guard(() => this.predictRows()),
    );
    $('deploy-image').addEventListener('change', (e) => {
      const [file] = e.target.files;
      e.target.value = '';
      if (file) guard(() => this.predictImage(file))();
    });
    $('deploy-webcam').addEventListener(
      'click',
      guard(() => this.webcam()),
    );
    const drop = $('deploy-drop');
    drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      const [file] = e.dataTransfer.files;
      if (file) guard(() => this.predictImage(file))();
    });
    $('retrain').addEventListener(
      'click',
      guard(() => this.retrain()),
    );
    $('promote').addEventListener(
      'click',
      guard(() => this.promote()),
    );
    $('feedback-clear').addEventListener(
      'click',
      guard(async () => {
        await clearFeedback();
        await this.renderFeedback();
      }),
    );
  }

  /** The version deployed on the last visit, if its data is the one loaded now (called once the
   * page has loaded its data). */
  async restore() {
    const versions = await listVersions();
    this.renderVersions(versions);
    await this.renderFeedback();
    const wanted = Number(localStorage.getItem(DEPLOYED_KEY));
    const record = versions.find((v) => v.version === wanted);
    if (record && record.dataKey === this.hooks.dataset().key) await this.activate(record);
  }

  /** The page's current model becomes a new version and is deployed. */
  async deployTrained() {
    const { bytes } = await this.hooks.main.request('save-model', { history: '' });
    const versions = await listVersions();
    const record = {
      name: `v${versions.length + 1}`,
      version: versions.length + 1,
      bytes: bytes.buffer,
      at: Date.now(),
      dataKey: this.hooks.dataset().key,
      origin: 'trained in the page',
    };
    await putVersion(record);
    await this.activate(record);
    this.renderVersions(await listVersions());
  }

  /** Loads `record` into the deployment worker; the monitoring starts over. */
  async activate(record) {
    const data = this.hooks.dataset();
    if (!this.engine) this.engine = new Engine(() => {});
    if (this.loaded !== data.key) {
      await loadInto(this.engine, data);
      this.loaded = data.key;
      this.streamLength = 0;
    }
    const request = this.hooks.request();
    const info = await this.engine.request('load-model', {
      bytes: new Uint8Array(record.bytes),
      config: request.config,
      samples: request.samples,
      heldOut: request.heldOut,
      backend: 'cpu',
    });
    this.deployed = { ...record, classes: info.classes, spec: info.spec };
    localStorage.setItem(DEPLOYED_KEY, String(record.version));
    this.log = [];
    this.monitorChart.reset(1);
    this.driftChart.reset(1);
    $('deploy-alert').hidden = true;
    $('deploy-version').textContent =
      `deployed: ${record.name} (${(info.evaluation.accuracy * 100).toFixed(1)} % on the held-out split)`;
    document.body.dataset.deployed = record.name;
    this.renderVersions(await listVersions());
  }

  requireDeployed() {
    if (!this.deployed) throw new Error('deploy a trained model first (“Deploy the trained model”)');
  }

  /** Predicts `count` samples (`features` one after another) and logs each answer; `labels`
   * (known true labels, for the stream) confirm them when the box is ticked. */
  async predict(features, count, source, labels = null) {
    this.requireDeployed();
    const { probs } = await this.engine.request('predict', { features });
    const classes = this.deployed.classes.length;
    const width = features.length / count;
    const auto = labels && $('stream-autolabel').checked;
    for (let i = 0; i < count; i++) {
      const p = probs.subarray(i * classes, (i + 1) * classes);
      let predicted = 0;
      for (let k = 1; k < classes; k++) if (p[k] > p[predicted]) predicted = k;
      const entry = {
        at: Date.now() + i / 1000,
        features: features.slice(i * width, (i + 1) * width),
        predicted,
        confidence: p[predicted],
        label: null,
        source,
        version: this.deployed.version,
      };
      this.log.push(entry);
      if (auto) entry.label = labels[i];
    }
    if (auto) await this.keep(this.log.slice(-count));
    this.updateMonitor();
    if (this.log.length % DRIFT_EVERY < count || this.log.length === count) await this.measureDrift();
    this.renderRecent();
    if (auto) await this.renderFeedback();
  }

  /** Feedback: the true label of a logged answer, kept in IndexedDB. */
  async confirm(entry, label) {
    entry.label = label;
    await this.keep([entry]);
  }

  /** Stores labelled answers as feedback, all in one transaction. */
  async keep(entries) {
    await putFeedback(
      entries.map((entry) => {
        entry.name ??= `f${entry.at}`;
        const { features, ...rest } = entry;
        return { ...rest, features: Array.from(features), dataKey: this.loaded };
      }),
    );
  }

  updateMonitor() {
    const n = this.log.length;
    const recent = this.log.slice(-WINDOW);
    const labelled = recent.filter((e) => e.label !== null);
    const accuracy = labelled.length ? labelled.filter((e) => e.label === e.predicted).length / labelled.length : null;
    const confidence = recent.reduce((s, e) => s + e.confidence, 0) / recent.length;
    this.monitorChart.epochs = Math.max(n, 1);
    this.monitorChart.push(n, [accuracy, confidence]);
    document.body.dataset.liveAccuracy = accuracy ?? '';
    $('monitor-info').textContent =
      `${n} predictions by ${this.deployed.name}; last ${recent.length}: ${accuracy === null ? 'no feedback yet' : `${(accuracy * 100).toFixed(1)} % right on feedback`}, mean confidence ${(confidence * 100).toFixed(1)} %.`;
  }

  async measureDrift() {
    const window = this.log.slice(-DRIFT_WINDOW);
    if (window.length < DRIFT_EVERY) return;
    const width = window[0].features.length;
    const features = new Float32Array(window.length * width);
    for (const [i, e] of window.entries()) features.set(e.features, i * width);
    const request = this.hooks.request();
    const { drift } = await this.engine.request('drift', {
      samples: request.samples,
      heldOut: request.heldOut,
      seed: request.config.seed,
      features,
    });
    const threshold = Number($('drift-threshold').value);
    if (!(threshold > 0))
      throw new Error(`the drift alert threshold must be a positive number, got "${$('drift-threshold').value}"`);
    const drifted = drift.psi > threshold || drift.p_value < 0.01;
    const n = this.log.length;
    this.driftChart.epochs = Math.max(n, 1);
    this.driftChart.push(n, [drift.psi, threshold]);
    const alert = $('deploy-alert');
    alert.hidden = !drifted;
    alert.textContent = drifted
      ? `Drift alert: the last ${window.length} inputs no longer look like the training data (PSI ${drift.psi.toFixed(2)}, over ${threshold}; Kolmogorov–Smirnov p = ${drift.p_value.toExponential(1)}). Check the live accuracy, and retrain on the feedback.`
      : '';
    document.body.dataset.drift = JSON.stringify({ ...drift, drifted });
  }

  /** The drift scenario: plays (or resumes) the stream, a batch per tick. */
  async play() {
    this.requireDeployed();
    if (!this.streamLength) {
      const request = this.hooks.request();
      const count = Number($('stream-count').value);
      const maxDegrees = Number($('stream-degrees').value);
      if (!Number.isInteger(count) || count < 2)
        throw new Error(`the stream needs at least 2 samples, got "${$('stream-count').value}"`);
      if (!Number.isFinite(maxDegrees))
        throw new Error(`the rotation must be a number of degrees, got "${$('stream-degrees').value}"`);
      const { length } = await this.engine.request('stream-start', {
        samples: request.samples,
        heldOut: request.heldOut,
        seed: request.config.seed,
        count,
        maxDegrees,
      });
      this.streamLength = length;
      this.streamAt = 0;
    }
    clearTimeout(this.timer);
    const tick = async () => {
      if (this.streamAt >= this.streamLength) {
        document.body.dataset.stream = 'done';
        return;
      }
      const count = Math.min(STREAM_BATCH, this.streamLength - this.streamAt);
      const { features, labels } = await this.engine.request('stream-take', { start: this.streamAt, count });
      this.streamAt += count;
      await this.predict(features, count, 'stream', labels);
      $('stream-info').textContent = `stream: ${this.streamAt} of ${this.streamLength}`;
      this.timer = setTimeout(() => tick().catch((err) => this.hooks.notify(err.message)), 50);
    };
    document.body.dataset.stream = 'playing';
    await tick();
  }

  pause() {
    clearTimeout(this.timer);
    document.body.dataset.stream = 'paused';
  }

  async predictDrawing() {
    const features = this.hooks.drawing();
    if (!features) throw new Error('draw a digit in panel 4 first (the drawing is for the digits)');
    await this.predict(features, 1, 'drawing');
  }

  /** One image file, decoded and resized to the data's shape. */
  async predictImage(file) {
    const shape = this.hooks.info().shape;
    if (shape.length !== 3) throw new Error('this data is not images: predict CSV rows or a drawing instead');
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      throw new Error(`“${file.name}” could not be decoded as an image`);
    }
    await this.predict(pixelsOf(bitmap, shape), 1, 'image');
  }

  /** One frame of the webcam, when the browser and the user allow it. */
  async webcam() {
    const shape = this.hooks.info().shape;
    if (shape.length !== 3) throw new Error('this data is not images: the webcam cannot feed it');
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser offers no webcam here');
    let media;
    try {
      media = await navigator.mediaDevices.getUserMedia({ video: true });
    } catch (err) {
      throw new Error(
        `no webcam picture: ${err.name === 'NotAllowedError' ? 'access was refused' : err.name === 'NotFoundError' ? 'there is no camera' : err.message}`,
      );
    }
    try {
      const video = Object.assign(document.createElement('video'), { srcObject: media, muted: true });
      await video.play();
      const bitmap = await createImageBitmap(video);
      await this.predict(pixelsOf(bitmap, shape), 1, 'webcam');
    } finally {
      for (const t of media.getTracks()) t.stop();
    }
  }

  /** CSV rows of a table's columns (no label), one prediction each. */
  async predictRows() {
    const info = this.hooks.info();
    if (!info.columns?.length) throw new Error('CSV rows are for tables: load a table first');
    const lines = $('deploy-rows')
      .value.split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean);
    if (!lines.length) throw new Error('paste at least one row');
    const values = [];
    lines.forEach((line, i) => {
      const fields = line.split(/[,;\t]/).map((f) => f.trim());
      if (fields.length !== info.columns.length)
        throw new Error(
          `row ${i + 1} has ${fields.length} values where the table has ${info.columns.length} columns (${info.columns.map((c) => c.name).join(', ')})`,
        );
      for (const [k, f] of fields.entries()) {
        const c = info.columns[k];
        if (/^(|na|n\/a|nan|\?|null|none)$/i.test(f)) {
          values.push(NaN);
        } else if (c.categories) {
          const at = c.categories.indexOf(f);
          if (at < 0)
            throw new Error(`row ${i + 1}: '${f}' is not a category of ${c.name} (${c.categories.join(', ')})`);
          values.push(at);
        } else {
          const v = Number(f);
          if (!Number.isFinite(v)) throw new Error(`row ${i + 1}: ${c.name} must be a number, got '${f}'`);
          values.push(v);
        }
      }
    });
    await this.predict(new Float32Array(values), lines.length, 'rows');
  }

  /** The latest answers, each with its confirm and correct controls. */
  renderRecent() {
    const info = this.hooks.info();
    const classes = this.deployed.classes;
    const items = this.log
      .slice(-8)
      .reverse()
      .map((entry) => {
        const figure = info.shape.length === 3 ? imageCanvas(entry.features, info.shape) : '';
        const verdict = el(
          'span',
          { className: 'verdict' },
          `${classes[entry.predicted]} (${(entry.confidence * 100).toFixed(0)} %)${entry.label === null ? '' : entry.label === entry.predicted ? ' ✓' : ` ✗ is ${classes[entry.label]}`}`,
        );
        const right = el(
          'button',
          {
            className: 'small-button',
            onclick: () => this.confirm(entry, entry.predicted).then(() => this.afterFeedback()),
          },
          'Right',
        );
        const correct = el(
          'select',
          {
            className: 'small',
            onchange: (e) => this.confirm(entry, Number(e.target.value)).then(() => this.afterFeedback()),
          },
          el('option', { value: '' }, 'Correct it…'),
          ...classes.map((c, k) => el('option', { value: String(k) }, c)),
        );
        return el('li', {}, figure, verdict, right, correct);
      });
    $('deploy-recent').replaceChildren(...items);
  }

  async afterFeedback() {
    this.updateMonitor();
    this.renderRecent();
    await this.renderFeedback();
  }

  async renderFeedback() {
    const all = await listFeedback().catch(() => []);
    const mine = all.filter((f) => !this.loaded || f.dataKey === this.loaded);
    const corrected = mine.filter((f) => f.label !== f.predicted).length;
    $('feedback-info').textContent = mine.length
      ? `${mine.length} answers with feedback kept in this browser (${corrected} corrected).`
      : 'No feedback yet: confirm or correct answers, or let the stream confirm them with its true labels.';
    document.body.dataset.feedback = String(mine.length);
    return mine;
  }

  /** Trains a new model on the feedback (all but its latest fifth, kept to score on) and a replay
   * of old training samples, then scores old and new on the old held-out split and on that fifth. */
  async retrain() {
    this.requireDeployed();
    this.pause();
    const feedback = await this.renderFeedback();
    if (feedback.length < 10)
      throw new Error(`retraining needs at least 10 answers with feedback, there are ${feedback.length}`);
    const cut = Math.floor(feedback.length * 0.8);
    const [learn, check] = [feedback.slice(0, cut), feedback.slice(cut)];
    const pack = (part) => ({
      features: new Float32Array(part.flatMap((f) => f.features)),
      labels: new Uint32Array(part.map((f) => f.label)),
    });
    const replay = Number($('retrain-replay').value);
    const epochs = Number($('retrain-epochs').value);
    if (!Number.isInteger(replay) || replay < 0)
      throw new Error(`the replay must be a whole number ≥ 0, got "${$('retrain-replay').value}"`);
    if (!Number.isInteger(epochs) || epochs < 1)
      throw new Error(`epochs must be a whole number ≥ 1, got "${$('retrain-epochs').value}"`);
    const mode = $('retrain-mode').value;
    const base = this.hooks.request();
    const seed = base.config.seed;
    $('retrain').disabled = true;
    $('promote').hidden = true;
    $('retrain-info').textContent =
      `Training on ${learn.length} feedback answers and ${replay} replayed training samples…`;
    const pool = new TrialPool(1);
    const slot = pool.slots[0];
    try {
      await loadInto(slot.engine, this.hooks.dataset());
      const { length } = await slot.engine.request('use-replay', {
        ...pack(learn),
        replay,
        samples: base.samples,
        heldOut: base.heldOut,
        seed,
      });
      const heldOut = Math.max(1, Math.round(length / 5));
      // The deployed model's layers either way; fine-tuning starts from its weights too.
      const request = {
        ...base,
        spec: this.deployed.spec,
        config: { ...base.config, epochs },
        samples: length,
        heldOut,
        backend: 'cpu',
      };
      if (mode === 'fine-tune') request.initial = new Uint8Array(this.deployed.bytes);
      slot.busy = true;
      slot.loaded = 'retrain';
      await pool.run(slot, request, { key: 'retrain' }, () => {});
      const { bytes } = await slot.engine.request('save-model', { history: '' });
      const score = async (modelBytes, set) =>
        (
          await this.engine.request('score', {
            bytes: modelBytes,
            set,
            samples: base.samples,
            heldOut: base.heldOut,
            seed,
            ...pack(check),
          })
        ).score.accuracy;
      const old = new Uint8Array(this.deployed.bytes);
      const metrics = {
        old: { old: await score(old, 'held-out'), new: await score(old, 'given') },
        new: { old: await score(bytes, 'held-out'), new: await score(bytes, 'given') },
      };
      this.candidate = { bytes, metrics, mode, replay, feedback: learn.length };
      this.renderComparison(metrics, check.length);
      $('promote').hidden = false;
      document.body.dataset.retrained = JSON.stringify(metrics);
    } finally {
      slot.engine.terminate();
      $('retrain').disabled = false;
    }
  }

  renderComparison(metrics, checked) {
    const pct = (v) => `${(v * 100).toFixed(1)} %`;
    const request = this.hooks.request();
    $('retrain-compare').replaceChildren(
      el(
        'tr',
        {},
        el('th', {}, ''),
        el('th', {}, `old data (held-out split, ${request.heldOut})`),
        el('th', {}, `new data (latest ${checked} answers)`),
      ),
      el(
        'tr',
        {},
        el('td', {}, `deployed ${this.deployed.name}`),
        el('td', {}, pct(metrics.old.old)),
        el('td', {}, pct(metrics.old.new)),
      ),
      el('tr', {}, el('td', {}, 'retrained'), el('td', {}, pct(metrics.new.old)), el('td', {}, pct(metrics.new.new))),
    );
    const better = metrics.new.new > metrics.old.new;
    const kept = metrics.new.old >= metrics.old.old - 0.02;
    $('retrain-info').textContent =
      `${better ? 'The retrained model does better on the new data' : 'The retrained model does not beat the deployed one on the new data'}${kept ? ' and keeps the old data' : ', and it forgot some of the old data (more replay helps)'}. Promote it to deploy it; every version stays below to roll back to.`;
  }

  async promote() {
    if (!this.candidate) throw new Error('retrain first');
    const versions = await listVersions();
    const { bytes, metrics, mode, replay, feedback } = this.candidate;
    const origin = `${mode === 'fine-tune' ? 'fine-tuned' : 'trained from scratch'} on ${feedback} feedback answers + ${replay} replayed`;
    const record = {
      name: `v${versions.length + 1}`,
      version: versions.length + 1,
      bytes: bytes.buffer,
      at: Date.now(),
      dataKey: this.loaded,
      origin,
      metrics,
    };
    await putVersion(record);
    this.candidate = null;
    $('promote').hidden = true;
    await this.activate(record);
  }

  renderVersions(versions) {
    const pct = (v) => `${(v * 100).toFixed(1)} %`;
    $('versions').replaceChildren(
      ...versions.map((v) => {
        const live = this.deployed?.version === v.version;
        const scores = v.metrics ? ` — old data ${pct(v.metrics.new.old)}, new data ${pct(v.metrics.new.new)}` : '';
        const back = el(
          'button',
          {
            className: 'small-button',
            disabled: live,
            onclick: () => this.activate(v).catch((err) => this.hooks.notify(err.message)),
          },
          live ? 'deployed' : 'Roll back to this',
        );
        return el(
          'li',
          { className: live ? 'live' : '' },
          `${v.name} · ${new Date(v.at).toLocaleString()} · ${v.origin}${scores} `,
          back,
        );
      }),
    );
    $('versions-clear').hidden = versions.length === 0;
    $('versions-clear').onclick = () =>
      clearVersions().then(() => {
        this.deployed = null;
        localStorage.removeItem(DEPLOYED_KEY);
        this.renderVersions([]);
      });
  }
}

/** An image drawn into the data's shape `[c, h, w]` (values 0–1), padded to keep its aspect. */
function pixelsOf(bitmap, [c, h, w]) {
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'black';
  ctx.fillRect(0, 0, w, h);
  const scale = Math.min(w / bitmap.width, h / bitmap.height);
  ctx.drawImage(
    bitmap,
    (w - bitmap.width * scale) / 2,
    (h - bitmap.height * scale) / 2,
    bitmap.width * scale,
    bitmap.height * scale,
  );
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const out = new Float32Array(c * h * w);
  for (let p = 0; p < h * w; p++) {
    const [r, g, b] = [rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]];
    if (c === 3) {
      out[p] = r / 255;
      out[h * w + p] = g / 255;
      out[2 * h * w + p] = b / 255;
    } else {
      out[p] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    }
  }
  return out;
}
