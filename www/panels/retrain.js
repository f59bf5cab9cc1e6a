// Retraining a deployed model on its feedback: fine-tuning with a replay of old training samples
// (or training from scratch) in a worker of its own, old and new model scored on the old held-out
// split and on the latest feedback, and the new one promoted to the next version.
import { TrialPool, loadInto } from '../engine/pool.js';
import { listVersions, putVersion } from '../engine/store.js';
import { read } from '../state/settings.js';
import { $, element as el } from '../ui/dom.js';

export class Retraining {
  /** `deployment`: the deployment panel (its worker, deployed model, feedback and versions). */
  constructor(deployment) {
    this.deployment = deployment;
    this.candidate = null;
    const { guard } = deployment.app;
    $('retrain').addEventListener(
      'click',
      guard(() => this.retrain()),
    );
    $('promote').addEventListener(
      'click',
      guard(() => this.promote()),
    );
  }

  /** Trains a new model on the feedback (all but its latest fifth, kept to score on) and a replay
   * of old training samples, then scores old and new on the old held-out split and on that fifth. */
  async retrain() {
    const d = this.deployment;
    d.requireDeployed();
    d.pause();
    const feedback = await d.renderFeedback();
    if (feedback.length < 10)
      throw new Error(`retraining needs at least 10 answers with feedback, there are ${feedback.length}`);
    const cut = Math.floor(feedback.length * 0.8);
    const [learn, check] = [feedback.slice(0, cut), feedback.slice(cut)];
    const pack = (part) => ({
      features: new Float32Array(part.flatMap((f) => f.features)),
      labels: new Uint32Array(part.map((f) => f.label)),
    });
    const settings = d.app.state.settings;
    const replay = read(settings, 'retrainReplay');
    const epochs = read(settings, 'retrainEpochs');
    const mode = settings.retrainMode;
    const base = d.app.request();
    const seed = base.config.seed;
    $('retrain').disabled = true;
    $('promote').hidden = true;
    $('retrain-info').textContent =
      `Training on ${learn.length} feedback answers and ${replay} replayed training samples…`;
    const pool = new TrialPool(1);
    const slot = pool.slots[0];
    try {
      await loadInto(slot.engine, d.app.data());
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
        spec: d.deployed.spec,
        config: { ...base.config, epochs },
        samples: length,
        heldOut,
        backend: 'cpu',
      };
      if (mode === 'fine-tune') request.initial = new Uint8Array(d.deployed.bytes);
      slot.busy = true;
      slot.loaded = 'retrain';
      await pool.run(slot, request, { key: 'retrain' }, () => {});
      const { bytes } = await slot.engine.request('save-model', { history: '' });
      const score = async (modelBytes, set) =>
        (
          await d.engine.request('score', {
            bytes: modelBytes,
            set,
            samples: base.samples,
            heldOut: base.heldOut,
            seed,
            ...pack(check),
          })
        ).score.accuracy;
      const old = new Uint8Array(d.deployed.bytes);
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
    const request = this.deployment.app.request();
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
        el('td', {}, `deployed ${this.deployment.deployed.name}`),
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

  /** The retrained model becomes the next version, deployed. */
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
      dataKey: this.deployment.loaded,
      origin,
      metrics,
    };
    await putVersion(record);
    this.candidate = null;
    $('promote').hidden = true;
    await this.deployment.activate(record);
  }
}
