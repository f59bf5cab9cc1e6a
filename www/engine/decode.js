// The page's side of the image decoder (engine/images.js): unpacks and decodes uploaded images in a
// worker of its own, with progress. No DOM here.

/** Decodes images in a worker: resolves to {pixels, labels, classes, shape, problems}; a CSV among
 * the files is the labels file. Rejects (with `problems`) when fewer than two classes remain. */
export async function decodeImages({ files, folders = [] }, options, onProgress) {
  const csv = files.filter((f) => /\.(csv|tsv)$/i.test(f.path));
  if (csv.length > 1) throw new Error(`give one labels CSV, not ${csv.length} (${csv.map((f) => f.path).join(', ')})`);
  const labelsCsv = csv.length ? await csv[0].blob.text() : null;
  const images = files.filter((f) => !csv.includes(f));
  const worker = new Worker(new URL('./images.js', import.meta.url), { type: 'module' });
  try {
    return await new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        if (data.type === 'progress') onProgress(data.done, data.total);
        else if (data.type === 'done') resolve(data);
        else reject(Object.assign(new Error(data.message), { problems: data.problems }));
      };
      worker.onerror = (e) => reject(new Error(e.message || 'the image decoder stopped'));
      worker.postMessage({ files: images, folders, labelsCsv, ...options });
    });
  } finally {
    worker.terminate();
  }
}
