// The page's side of the worker protocol: requests that resolve with the worker's answer, and a
// callback for the progress the worker streams. No DOM here.
export class Engine {
  constructor(onProgress) {
    this.pending = new Map();
    this.nextId = 1;
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = ({ data }) => {
      if (data.id !== undefined && this.pending.has(data.id)) {
        const { resolve, reject } = this.pending.get(data.id);
        this.pending.delete(data.id);
        data.ok ? resolve(data) : reject(new Error(data.message));
      } else {
        onProgress(data);
      }
    };
    this.worker.onerror = (e) => onProgress({ type: 'run-error', message: e.message || 'the training worker crashed' });
  }

  request(type, fields = {}, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, type, ...fields }, transfer);
    });
  }
}
