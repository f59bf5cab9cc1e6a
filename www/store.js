// What the browser keeps (IndexedDB): saved models, one record per name with the model file's
// bytes and what the list shows about it; and uploaded data sets, one record per name with the
// file's text. Survives reloads; cleared only by the user.
const DB_NAME = 'whetstone';
const MODELS = 'models';
const DATASETS = 'datasets';

function openDb() {
  return new Promise((resolve, reject) => {
    if (!('indexedDB' in globalThis)) {
      reject(new Error('this browser keeps no local storage (IndexedDB) here, so nothing can be kept across a reload; download models as files instead'));
      return;
    }
    const request = indexedDB.open(DB_NAME, 2);
    request.onupgradeneeded = () => {
      for (const store of [MODELS, DATASETS]) {
        if (!request.result.objectStoreNames.contains(store)) request.result.createObjectStore(store, { keyPath: 'name' });
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
      tx.onabort = () => reject(new Error(`saving in the browser failed: ${tx.error?.message ?? 'aborted (out of space?)'}`));
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

export const putDataset = (record) => inStore(DATASETS, 'readwrite', (s) => s.put(record));
export const getDataset = (name) => inStore(DATASETS, 'readonly', (s) => s.get(name));
export const deleteDataset = (name) => inStore(DATASETS, 'readwrite', (s) => s.delete(name));
