// What the browser keeps (IndexedDB): saved models, one record per name with the model file's
// bytes and what the list shows about it; uploaded data sets, one record per name; the deployed
// model's versions with their metrics; the feedback on its predictions; and the run in progress,
// kept after every epoch so that a reload does not lose it. Survives reloads; cleared only by the
// user.
const DB_NAME = 'whetstone';
const MODELS = 'models';
const DATASETS = 'datasets';
const VERSIONS = 'versions';
const FEEDBACK = 'feedback';
const RUNS = 'runs';

function openDb() {
  return new Promise((resolve, reject) => {
    if (!('indexedDB' in globalThis)) {
      reject(
        new Error(
          'this browser keeps no local storage (IndexedDB) here, so nothing can be kept across a reload; download models as files instead',
        ),
      );
      return;
    }
    const request = indexedDB.open(DB_NAME, 4);
    request.onupgradeneeded = () => {
      for (const store of [MODELS, DATASETS, VERSIONS, FEEDBACK, RUNS]) {
        if (!request.result.objectStoreNames.contains(store))
          request.result.createObjectStore(store, { keyPath: 'name' });
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`the browser's storage could not be opened: ${request.error?.message}`));
  });
}

// Other tabs of this page learn of every write here, so that they show what is kept.
const channel = 'BroadcastChannel' in globalThis ? new BroadcastChannel('whetstone-store') : null;

/** Calls `listener(store)` when another tab of this page has written to `store`. */
export function onChange(listener) {
  channel?.addEventListener('message', ({ data }) => listener(data.store));
}

const changed = (store) => channel?.postMessage({ store });

async function inStore(store, mode, work) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const request = work(tx.objectStore(store));
      tx.oncomplete = () => {
        if (mode === 'readwrite') changed(store);
        resolve(request.result);
      };
      tx.onerror = () => reject(new Error(`saving in the browser failed: ${tx.error?.message}`));
      tx.onabort = () =>
        reject(new Error(`saving in the browser failed: ${tx.error?.message ?? 'aborted (out of space?)'}`));
    });
  } finally {
    db.close();
  }
}

/** Every saved model, newest first. */
export async function listModels() {
  const all = await inStore(MODELS, 'readonly', (s) => s.getAll());
  return all.sort((a, b) => b.savedAt - a.savedAt);
}

export const putModel = (record) => inStore(MODELS, 'readwrite', (s) => s.put(record));
export const getModel = (name) => inStore(MODELS, 'readonly', (s) => s.get(name));
export const deleteModel = (name) => inStore(MODELS, 'readwrite', (s) => s.delete(name));

/** Every uploaded data set, oldest first. */
export async function listDatasets() {
  const all = await inStore(DATASETS, 'readonly', (s) => s.getAll());
  return all.sort((a, b) => (a.savedAt ?? 0) - (b.savedAt ?? 0));
}
export const putDataset = (record) => inStore(DATASETS, 'readwrite', (s) => s.put(record));
export const getDataset = (name) => inStore(DATASETS, 'readonly', (s) => s.get(name));
export const deleteDataset = (name) => inStore(DATASETS, 'readwrite', (s) => s.delete(name));

/** Every deployed version (`{name: 'v3', version: 3, bytes, ...}`), oldest first. */
export async function listVersions() {
  const all = await inStore(VERSIONS, 'readonly', (s) => s.getAll());
  return all.sort((a, b) => a.version - b.version);
}
export const putVersion = (record) => inStore(VERSIONS, 'readwrite', (s) => s.put(record));
export const clearVersions = () => inStore(VERSIONS, 'readwrite', (s) => s.clear());

/** Every feedback record (`{name: id, features, predicted, label, ...}`), in the order given. */
export async function listFeedback() {
  const all = await inStore(FEEDBACK, 'readonly', (s) => s.getAll());
  return all.sort((a, b) => a.at - b.at);
}
/** Keeps feedback records (a record of the same name is replaced), in one transaction. */
export const putFeedback = (records) => inStore(FEEDBACK, 'readwrite', (s) => records.map((r) => s.put(r)).at(-1));
export const clearFeedback = () => inStore(FEEDBACK, 'readwrite', (s) => s.clear());

/** The run in progress as of its last epoch (`{name: 'current', bytes, request, history, …}`), or
 * undefined. A run is this browser's own: it does not travel in a project file. */
export const getRun = () => inStore(RUNS, 'readonly', (s) => s.get('current'));
export const putRun = (record) => inStore(RUNS, 'readwrite', (s) => s.put({ ...record, name: 'current' }));
export const deleteRun = () => inStore(RUNS, 'readwrite', (s) => s.delete('current'));

/** Every record of every store but the run in progress, for a project file. */
export async function allRecords() {
  const out = {};
  for (const store of [MODELS, DATASETS, VERSIONS, FEEDBACK])
    out[store] = await inStore(store, 'readonly', (s) => s.getAll());
  return out;
}

/** Puts a project's records into their stores in one transaction: all or nothing. Saved models and
 * uploads of the same name are replaced and the others stay; a project with deployed versions
 * replaces this browser's versions and feedback (they are one history). */
export async function importRecords(records) {
  const db = await openDb();
  try {
    await new Promise((resolve, reject) => {
      const stores = Object.keys(records);
      if (!stores.length) return resolve();
      // A project's deployment (its versions and their feedback) replaces this browser's whole.
      const deployment = (records[VERSIONS] ?? []).length > 0;
      if (deployment) stores.push(...[VERSIONS, FEEDBACK].filter((s) => !stores.includes(s)));
      const tx = db.transaction(stores, 'readwrite');
      try {
        if (deployment) for (const store of [VERSIONS, FEEDBACK]) tx.objectStore(store).clear();
        for (const [store, list] of Object.entries(records)) for (const r of list) tx.objectStore(store).put(r);
      } catch (err) {
        tx.abort();
        reject(new Error(`the project could not be stored: ${err.message}`));
        return;
      }
      tx.oncomplete = () => {
        for (const store of stores) changed(store);
        resolve();
      };
      tx.onabort = () =>
        reject(new Error(`the project could not be stored: ${tx.error?.message ?? 'aborted (out of space?)'}`));
    });
  } finally {
    db.close();
  }
}

/** Deletes everything the page keeps in IndexedDB (the page's own localStorage is the caller's). */
export function deleteEverything() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(DB_NAME);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(new Error(`the browser's storage could not be cleared: ${request.error?.message}`));
    request.onblocked = () =>
      reject(new Error('another tab of this page holds its storage open: close it, then reset'));
  });
}
