// What the browser keeps (IndexedDB): saved models, one record per name with the model file's
// bytes and what the list shows about it; uploaded data sets, one record per name; the deployed
// model's versions with their metrics; and the feedback on its predictions. Survives reloads;
// cleared only by the user.
const DB_NAME = 'whetstone';
const MODELS = 'models';
const DATASETS = 'datasets';
const VERSIONS = 'versions';
const FEEDBACK = 'feedback';

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
    const request = indexedDB.open(DB_NAME, 3);
    request.onupgradeneeded = () => {
      for (const store of [MODELS, DATASETS, VERSIONS, FEEDBACK]) {
        if (!request.result.objectStoreNames.contains(store))
          request.result.createObjectStore(store, { keyPath: 'name' });
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`the browser's storage could not be opened: ${request.error?.message}`));
  });
}

async function inStore(store, mode, work) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const request = work(tx.objectStore(store));
      tx.oncomplete = () => resolve(request.result);
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

/** Every record of every store, for a project file. */
export async function allRecords() {
  const out = {};
  for (const store of [MODELS, DATASETS, VERSIONS, FEEDBACK])
    out[store] = await inStore(store, 'readonly', (s) => s.getAll());
  return out;
}

/** Puts the records of a project file into their stores (a record of the same name is replaced;
 * the others stay). Unknown stores are refused before anything is written. */
export async function putRecords(records) {
  const known = [MODELS, DATASETS, VERSIONS, FEEDBACK];
  const unknown = Object.keys(records).filter((k) => !known.includes(k));
  if (unknown.length) throw new Error(`the project has parts this version does not know: ${unknown.join(', ')}`);
  for (const [store, list] of Object.entries(records)) {
    if (!Array.isArray(list) || list.some((r) => typeof r?.name !== 'string'))
      throw new Error(`the project's ${store} are damaged`);
  }
  for (const [store, list] of Object.entries(records)) {
    await inStore(store, 'readwrite', (s) => {
      let last;
      for (const r of list) last = s.put(r);
      return last ?? s.count();
    });
  }
}
