// Models saved in the browser (IndexedDB): one record per name with the model file's bytes and
// what the list shows about it. Survives reloads; cleared only by the user.
const DB_NAME = 'whetstone';
const STORE = 'models';

function openDb() {
  return new Promise((resolve, reject) => {
    if (!('indexedDB' in globalThis)) {
      reject(new Error('this browser keeps no local storage (IndexedDB) here; download the model instead'));
      return;
    }
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'name' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`the browser's model storage could not be opened: ${request.error?.message}`));
  });
}

async function inStore(mode, work) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
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
  const all = await inStore('readonly', (s) => s.getAll());
  return all.sort((a, b) => b.savedAt - a.savedAt);
}

export const putModel = (record) => inStore('readwrite', (s) => s.put(record));
export const getModel = (name) => inStore('readonly', (s) => s.get(name));
export const deleteModel = (name) => inStore('readwrite', (s) => s.delete(name));
