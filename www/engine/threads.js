// One training run over several threads (src/train/shard.rs): the training worker's run is shard 0,
// and helper workers, each with its own wasm instance and a copy of the data, run shards 1 … n−1 of
// the same run in step. In each step every shard writes its gradients into its slot of a
// SharedArrayBuffer, waits for the others, and reads back the sum of the slots in shard order.
// Sharing memory between workers needs a cross-origin isolated page. No DOM here.
import { Engine } from './engine.js';

// The buffer's header (Int32 cells): how many steps have been exchanged, how many shards have
// written this step's slot, why the run's steps end (0 while they go on), and the length of the
// message a failed shard left after the header (UTF-8).
const STEPS = 0;
const ARRIVED = 1;
const ENDED = 2;
const MESSAGE = 3;
const HEADER_BYTES = 16;
const MESSAGE_BYTES = 1024;
const SLOTS_AT = HEADER_BYTES + MESSAGE_BYTES;
// How long a waiting shard sleeps before it looks at ENDED again.
const WAIT_MS = 200;
// Shard 0's worker hears of a helper's crash only between steps: after this many sleeps in a row
// (two minutes awake; a helper waits as long as shard 0 is paused) it takes the others for lost.
const LOST_WAITS = 600;

const STOPPED = 1;
const FAILED = 2;
const LOST = 3;

/** The buffer's header cells. */
const header = (buffer) => new Int32Array(buffer, 0, HEADER_BYTES / 4);

/** Why the steps ended, by the code in ENDED (a failure's own message when it left one). */
function ending(buffer, code) {
  if (code === STOPPED) return 'the run was stopped';
  if (code === LOST) return 'another thread of the run stopped answering';
  const length = Atomics.load(header(buffer), MESSAGE);
  // A copy: a decoder does not read shared memory.
  const bytes = new Uint8Array(new Uint8Array(buffer, HEADER_BYTES, length));
  return new TextDecoder().decode(bytes) || 'another thread of the run failed';
}

/** The most threads a run takes: more only add exchanges on the cores a browser gives a page. */
export const MAX_THREADS = 8;

/** A buffer for the exchanges of `count` shards of `length` values: two steps' slots, so that a
 * shard can write the next step's while a slower one still reads this one's. */
export function exchangeBuffer(count, length) {
  return new SharedArrayBuffer(SLOTS_AT + 2 * count * length * Float32Array.BYTES_PER_ELEMENT);
}

/** Shard `index`'s exchange through `buffer`: writes the shard's values into its slot, waits until
 * every shard has, and leaves in `values` the sum of the slots in shard order (the same sum in
 * every shard). Throws once the run's steps are ended. */
export function exchanger(buffer, index, count) {
  const head = header(buffer);
  const slots = new Float32Array(buffer, SLOTS_AT);
  const length = slots.length / (2 * count);
  return (values) => {
    if (values.length !== length) throw new Error(`a shard's exchange holds ${values.length} values, not ${length}`);
    const step = Atomics.load(head, STEPS);
    const base = (step % 2) * count * length;
    slots.set(values, base + index * length);
    if (Atomics.add(head, ARRIVED, 1) === count - 1) {
      Atomics.store(head, ARRIVED, 0);
      Atomics.add(head, STEPS, 1);
      Atomics.notify(head, STEPS);
    } else {
      let sleeps = 0;
      while (Atomics.load(head, STEPS) === step) {
        const ended = Atomics.load(head, ENDED);
        if (ended) throw new Error(ending(buffer, ended));
        if (Atomics.wait(head, STEPS, step, WAIT_MS) !== 'timed-out') sleeps = 0;
        else if (index === 0 && ++sleeps > LOST_WAITS) Atomics.compareExchange(head, ENDED, 0, LOST);
      }
    }
    values.set(slots.subarray(base, base + length));
    for (let k = 1; k < count; k++) {
      const slot = slots.subarray(base + k * length, base + (k + 1) * length);
      for (let i = 0; i < length; i++) values[i] += slot[i];
    }
  };
}

/** Ends the steps of the run that `buffer` serves: a shard waiting for the others throws. With
 * `failure` (a message), because a shard failed; otherwise because the run was stopped. */
export function endSteps(buffer, failure) {
  const head = header(buffer);
  if (failure && Atomics.load(head, ENDED) === 0) {
    const bytes = new TextEncoder().encode(failure).subarray(0, MESSAGE_BYTES);
    new Uint8Array(buffer, HEADER_BYTES, MESSAGE_BYTES).set(bytes);
    Atomics.store(head, MESSAGE, bytes.length);
  }
  Atomics.compareExchange(head, ENDED, 0, failure ? FAILED : STOPPED);
  Atomics.notify(head, STEPS);
}

/** Whether the steps of the run that `buffer` serves were ended. */
export const stepsEnded = (buffer) => Atomics.load(header(buffer), ENDED) !== 0;

/** The helper workers of a training worker, kept between runs. Each is given the worker's data by
 * replaying the requests that made it (`recipe`: [{type, fields}], a new array whenever it changes). */
export class Helpers {
  constructor() {
    this.helpers = [];
    this.buffer = null;
  }

  /** Starts shards 1 … count − 1 of the run `request` (shard 0 is the caller's), exchanging through
   * `buffer`; resolves once each has built its run. A helper that fails or crashes ends the steps. */
  async start(recipe, request, count, buffer) {
    this.buffer = buffer;
    while (this.helpers.length < count - 1) {
      const helper = { loaded: null };
      helper.engine = new Engine(
        (msg) => {
          if (msg.type === 'run-error' && msg.crashed) this.crashed(helper);
        },
        { helper: true },
      );
      this.helpers.push(helper);
    }
    await Promise.all(
      this.helpers.slice(0, count - 1).map(async (helper, i) => {
        if (helper.loaded !== recipe) {
          helper.loaded = null;
          for (const { type, fields } of recipe) await helper.engine.request(type, fields);
          helper.loaded = recipe;
        }
        await helper.engine.request('shard', { request, index: i + 1, count, buffer });
      }),
    );
  }

  /** Ends the steps of the helpers' run, if it has not ended: a run that ended in shard 0 before
   * its last step (stopped, failed) leaves no helper waiting for it. */
  end() {
    if (this.buffer) endSteps(this.buffer);
    this.buffer = null;
  }

  /** A crashed helper is dropped (a new one loads the data next time); its run's steps end. */
  crashed(helper) {
    helper.engine.terminate();
    this.helpers = this.helpers.filter((h) => h !== helper);
    if (this.buffer) endSteps(this.buffer, 'a thread of the run crashed (out of memory?)');
  }
}
