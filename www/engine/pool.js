// Pools of workers, each with its own wasm instance, that train side by side: trials of a search,
// ensemble members, a lesson's two variants, a retraining. No DOM here.
import { Engine } from './engine.js';

/** Loads the page's data into another worker: the same set (and bias), with the same quality fixes. */
export async function loadInto(engine, data) {
  await engine.request('load', { name: data.name, upload: data.upload, bias: data.bias });
  for (const f of data.fixes ?? []) await engine.request('fix', f);
}

/** Workers that run trials side by side. A worker that crashes is replaced; one whose trial fails
 * goes on to the next. */
export class TrialPool {
  constructor(size) {
    this.slots = Array.from({ length: size }, () => this.newSlot());
  }

  newSlot() {
    const slot = { busy: false, loaded: null, listener: null };
    slot.engine = new Engine((msg) => slot.listener?.(msg));
    return slot;
  }

  idle() {
    return this.slots.find((s) => !s.busy);
  }

  get running() {
    return this.slots.filter((s) => s.busy).length;
  }

  /** Trains `request` on `data` ({key, name, upload, bias, fixes}); resolves with the last epoch's event. */
  async run(slot, request, data, onEpoch) {
    if (slot.loaded !== data.key) {
      await loadInto(slot.engine, data);
      slot.loaded = data.key;
    }
    return new Promise((resolve, reject) => {
      let last = null;
      slot.listener = (msg) => {
        if (msg.type === 'events') {
          for (const e of msg.events)
            if (e.type === 'epoch') {
              last = e;
              onEpoch(e);
            }
        } else if (msg.type === 'finished') {
          last ? resolve(last) : reject(new Error('the trial finished without an epoch'));
        } else if (msg.type === 'run-error') {
          if (msg.crashed) this.replace(slot);
          reject(new Error(msg.message));
        } else if (msg.type === 'stopped') {
          reject(Object.assign(new Error('stopped'), { stopped: true }));
        }
      };
      // Random weights unless the request asks for the pretrained network (a lesson does); one
      // thread each, as the pool's workers share the cores.
      slot.engine
        .request('train', { ...request, threads: 1, startFrom: request.pretrained ? 'pretrained' : 'random' })
        .catch(reject);
    });
  }

  replace(slot) {
    slot.engine.terminate();
    slot.engine = new Engine((msg) => slot.listener?.(msg));
    slot.loaded = null;
  }

  /** Ends every worker of the pool. */
  close() {
    for (const s of this.slots) s.engine.terminate();
  }

  stop() {
    for (const s of this.slots) if (s.busy) s.engine.request('stop').catch(() => {});
  }
}
