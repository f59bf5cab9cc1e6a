// Files a person gives the page: from a file picker (a folder picker gives each file's path inside
// the folder) or dropped (folders walked to the bottom).

/** Files from an <input type=file> (a folder picker gives each file's path inside the folder). */
export function filesFromInput(list) {
  return [...list].map((file) => ({ path: file.webkitRelativePath || file.name, blob: file }));
}

/** Files and folders dropped on the page, folders walked to the bottom. */
export async function filesFromDrop(dataTransfer) {
  const files = [];
  const folders = [];
  const readAll = (reader) =>
    new Promise((resolve, reject) => {
      const all = [];
      const more = () =>
        reader.readEntries((batch) => {
          if (!batch.length) return resolve(all);
          all.push(...batch);
          more();
        }, reject);
      more();
    });
  const walk = async (entry) => {
    const path = entry.fullPath.replace(/^\//, '');
    if (entry.isFile) {
      files.push({ path, blob: await new Promise((resolve, reject) => entry.file(resolve, reject)) });
    } else if (entry.isDirectory) {
      folders.push(path);
      for (const child of await readAll(entry.createReader())) await walk(child);
    }
  };
  const entries = [...dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (entries.length) {
    for (const entry of entries) await walk(entry);
  } else {
    files.push(...filesFromInput(dataTransfer.files));
  }
  return { files, folders };
}
