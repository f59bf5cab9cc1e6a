// The page's side of the worker protocol: requests that resolve with the worker's answer, and a
// callback for the progress the worker streams. No DOM here.
export class Engine {
  /** `helper`: a worker that trains shares of another worker's runs (threads.js). */
  constructor(onProgress, { helper = false } = {}) {
    this.pending = new Map();
    this.nextId = 1;
    const url = new URL('./worker.js', import.meta.url);
    if (helper) url.searchParams.set('helper', '');
    this.worker = new Worker(url, { type: 'module' });
    this.worker.onmessage = ({ data }) => {
      if (data.id !== undefined && this.pending.has(data.id)) {
        const { resolve, reject } = this.pending.get(data.id);
        this.pending.delete(data.id);
        data.ok ? resolve(data) : reject(new Error(data.message));
      } else {
        onProgress(data);
      }
    };
    this.worker.onerror = (e) =>
      onProgress({ type: 'run-error', crashed: true, message: e.message || 'the training worker crashed' });
  }

  /** Ends the worker; its pending requests are rejected. */
  terminate() {
    this.worker.terminate();
    for (const { reject } of this.pending.values()) reject(new Error('the worker was ended'));
    this.pending.clear();
  }

  /** Sends `{id, type, ...fields}`; `fields` must not use the names `id` and `type`. */
  request(type, fields = {}, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, type, ...fields }, transfer);
    });
  }
}
