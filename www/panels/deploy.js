// Panel 8: a trained model deployed to its own worker answers new inputs (the drift scenario's
// stream, the drawing, an image, CSV rows); each answer can be confirmed or corrected, and the
// feedback is kept in IndexedDB. The panel plots live accuracy on the feedback, the confidence of
// the answers and the drift of the inputs against the training data, with an alert; retrains on
// the feedback (fine-tuning with a replay of old data, or from scratch) in another worker, compares
// old and new model on old and new data, promotes the new one and keeps every version to roll back.
import { Engine } from '../engine/engine.js';
import { loadInto } from '../engine/pool.js';
import { clearFeedback, clearVersions, listFeedback, listVersions, putFeedback, putVersion } from '../engine/store.js';
import { KEYS } from '../state/project.js';
import { read } from '../state/settings.js';
import { $, element as el } from '../ui/dom.js';
import { bindFields, renderFields } from '../ui/fields.js';
import { imageFeatures, rowFeatures, webcamFeatures } from '../ui/inputs.js';
import { imageCanvas } from '../ui/samples.js';
import { Monitor } from './monitor.js';
import { Retraining } from './retrain.js';

/** Stream samples predicted per tick while it plays. */
const STREAM_BATCH = 20;
const DEPLOYED_KEY = KEYS.deployed;
/** Deployment settings whose field writes straight into the state. */
const FIELDS = [
  'streamDegrees',
  'streamCount',
  'streamAutolabel',
  'driftThreshold',
  'retrainMode',
  'retrainReplay',
  'retrainEpochs',
];

export class Deployment {
  /**
   * `app`: the page's engine, state (the deployment's settings live there), `save()`, `request()`
   * (the page's training request), `data()` and `notify`. `hooks.drawing()`: the drawing pad's
   * features, or null.
   */
  constructor(app, hooks) {
    this.app = app;
    this.hooks = hooks;
    this.engine = null;
    this.loaded = null;
    this.deployed = null;
    this.log = [];
    this.streamAt = 0;
    this.streamLength = 0;
    this.timer = 0;
    this.monitor = new Monitor(app);
    this.retraining = new Retraining(this);
    bindFields(
      FIELDS,
      () => app.state.settings,
      () => app.save(),
    );
    this.render();
    this.wire();
  }

  /** The deployment's settings from the state. */
  render() {
    renderFields(FIELDS, this.app.state.settings);
  }

  wire() {
    const { guard } = this.app;
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
    $('feedback-clear').addEventListener(
      'click',
      guard(async () => {
        await clearFeedback();
        await this.renderFeedback();
      }),
    );
  }

  /** The versions and feedback as they are kept (another tab may have changed them); returns the
   * versions. */
  async refresh() {
    const versions = await listVersions();
    this.renderVersions(versions);
    await this.renderFeedback();
    return versions;
  }

  /** The version deployed on the last visit, if its data is the one loaded now (called once the
   * page has loaded its data). */
  async restore() {
    const versions = await this.refresh();
    const wanted = Number(localStorage.getItem(DEPLOYED_KEY));
    const record = versions.find((v) => v.version === wanted);
    if (record && record.dataKey === this.app.data().key) await this.activate(record);
  }

  /** The page's current model becomes a new version and is deployed. */
  async deployTrained() {
    const { bytes } = await this.app.engine.request('save-model', { history: '' });
    const versions = await listVersions();
    const record = {
      name: `v${versions.length + 1}`,
      version: versions.length + 1,
      bytes: bytes.buffer,
      at: Date.now(),
      dataKey: this.app.data().key,
      origin: 'trained in the page',
    };
    await putVersion(record);
    await this.activate(record);
    this.renderVersions(await listVersions());
  }

  /** Loads `record` into the deployment worker; the monitoring starts over. */
  async activate(record) {
    const data = this.app.data();
    if (!this.engine) this.engine = new Engine(() => {});
    if (this.loaded !== data.key) {
      await loadInto(this.engine, data);
      this.loaded = data.key;
      this.streamLength = 0;
    }
    const request = this.app.request();
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
    this.monitor.reset();
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
    const auto = labels && this.app.state.settings.streamAutolabel;
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
    this.monitor.update(this.log, this.deployed.name);
    await this.monitor.drift(this.engine, this.log, count);
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

  /** The drift scenario: plays (or resumes) the stream, a batch per tick. */
  async play() {
    this.requireDeployed();
    if (!this.streamLength) {
      const request = this.app.request();
      const count = read(this.app.state.settings, 'streamCount');
      const maxDegrees = read(this.app.state.settings, 'streamDegrees');
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
      this.timer = setTimeout(() => tick().catch((err) => this.app.notify(err.message)), 50);
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
    if (!features) throw new Error('draw a digit on the pad under Start first (the drawing is for the digits)');
    await this.predict(features, 1, 'drawing');
  }

  /** One image file, decoded and resized to the data's shape. */
  async predictImage(file) {
    const shape = this.app.state.dataset.shape;
    if (shape.length !== 3) throw new Error('this data is not images: predict CSV rows or a drawing instead');
    await this.predict(await imageFeatures(file, shape), 1, 'image');
  }

  /** One frame of the webcam. */
  async webcam() {
    const shape = this.app.state.dataset.shape;
    if (shape.length !== 3) throw new Error('this data is not images: the webcam cannot feed it');
    await this.predict(await webcamFeatures(shape), 1, 'webcam');
  }

  /** CSV rows of a table's columns (no label), one prediction each. */
  async predictRows() {
    const info = this.app.state.dataset;
    if (!info.columns?.length) throw new Error('CSV rows are for tables: load a table first');
    const { features, count } = rowFeatures($('deploy-rows').value, info.columns);
    await this.predict(features, count, 'rows');
  }

  /** The latest answers, each with its confirm and correct controls. */
  renderRecent() {
    const info = this.app.state.dataset;
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
    this.monitor.update(this.log, this.deployed.name);
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
            onclick: () => this.activate(v).catch((err) => this.app.notify(err.message)),
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
