// The user's own data on the page: gathering image files (a folder, a .zip, files with a labels CSV,
// or any of them dropped), decoding them in a worker with progress, the table view of a CSV, the
// gallery of images per class, and the feature-engineering editor.
import { TrialPool } from '../engine/pool.js';
import { $ } from '../ui/dom.js';
import { imageCanvas } from '../ui/samples.js';

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

/** Decodes images in a worker: resolves to {pixels, labels, classes, shape, problems}; a CSV among
 * the files is the labels file. Rejects (with `problems`) when fewer than two classes remain. */
export async function decodeImages({ files, folders = [] }, options, onProgress) {
  const csv = files.filter((f) => /\.(csv|tsv)$/i.test(f.path));
  if (csv.length > 1) throw new Error(`give one labels CSV, not ${csv.length} (${csv.map((f) => f.path).join(', ')})`);
  const labelsCsv = csv.length ? await csv[0].blob.text() : null;
  const images = files.filter((f) => !csv.includes(f));
  const worker = new Worker(new URL('../engine/images.js', import.meta.url), { type: 'module' });
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

/** The files an upload could not use, one line each with the reason. */
export function showProblems(problems) {
  const list = $('upload-problems');
  list.replaceChildren(
    ...problems
      .slice(0, 50)
      .map(({ file, reason }) => Object.assign(document.createElement('li'), { textContent: `${file}: ${reason}` })),
  );
  if (problems.length > 50)
    list.append(Object.assign(document.createElement('li'), { textContent: `… and ${problems.length - 50} more` }));
  list.hidden = problems.length === 0;
}

/** The first rows of a table as loaded: categories by name, missing values marked. */
export function renderTable(info) {
  const table = $('data-table');
  table.hidden = !info.columns?.length;
  if (table.hidden) return table.replaceChildren();
  const cols = info.columns;
  const head = document.createElement('tr');
  for (const c of cols)
    head.append(
      Object.assign(document.createElement('th'), {
        textContent: c.name,
        title: c.categories ? `categorical: ${c.categories.join(', ')}` : 'numeric',
      }),
    );
  head.append(Object.assign(document.createElement('th'), { textContent: 'label' }));
  const rows = [];
  for (let r = 0; r * cols.length < info.rows.length; r++) {
    const tr = document.createElement('tr');
    cols.forEach((c, k) => {
      const v = info.rows[r * cols.length + k];
      const td = document.createElement('td');
      if (Number.isNaN(v)) {
        td.textContent = 'missing';
        td.className = 'missing';
      } else {
        td.textContent = c.categories ? c.categories[v] : String(Math.round(v * 1e4) / 1e4);
      }
      tr.append(td);
    });
    tr.append(Object.assign(document.createElement('td'), { textContent: info.classes[info.rowLabels[r]] }));
    rows.push(tr);
  }
  table.replaceChildren(head, ...rows);
}

/** A row of images per class. */
export function renderGallery(info) {
  const gallery = $('data-gallery');
  gallery.hidden = !info.gallery;
  if (!info.gallery) return gallery.replaceChildren();
  gallery.replaceChildren(
    ...info.gallery.map(({ label, images }) => {
      const row = Object.assign(document.createElement('div'), { className: 'gallery-row' });
      row.append(
        Object.assign(document.createElement('span'), { className: 'gallery-class', textContent: info.classes[label] }),
      );
      row.append(...images.map((img) => imageCanvas(img, info.shape)));
      return row;
    }),
  );
}

/** The feature settings as the core takes them, for this kind of data: only what applies to it. */
export function featureRequest(settings, info) {
  const f = settings ?? {};
  if (info?.columns?.length) {
    const out = {
      impute: f.impute ?? 'mean',
      scale: f.scale ?? 'none',
      one_hot: Boolean(f.one_hot),
      polynomial: Boolean(f.polynomial),
    };
    const numeric = new Set(info.columns.filter((c) => !c.categories).map((c) => c.name));
    out.log = (f.log ?? []).filter((name) => numeric.has(name));
    if (out.impute === 'constant') {
      const fill = Number(String(f.fill ?? '').trim());
      if (String(f.fill ?? '').trim() === '' || !Number.isFinite(fill))
        throw new Error(`the fill value for missing values must be a number, got "${f.fill ?? ''}"`);
      out.fill = fill;
    }
    return out;
  }
  if (info?.shape.length === 3)
    return { grayscale: Boolean(f.grayscale), edges: Boolean(f.edges), normalize: Boolean(f.normalize) };
  return {};
}

/** True when the request changes the data (a table always needs its missing values filled). */
export const anyFeatures = (request) =>
  Object.entries(request).some(([k, v]) =>
    Array.isArray(v) ? v.length > 0 : v && v !== 'none' && k !== 'impute' && k !== 'fill',
  );

/** The editor's controls for the loaded data; `onChange(settings)` after every edit. */
export function renderFeatureEditor(info, settings, onChange) {
  const box = $('feature-controls');
  const f = { ...(settings ?? {}) };
  const changed = () => onChange({ ...f });
  const select = (key, label, options, fallback) => {
    const s = Object.assign(document.createElement('select'), { id: `feature-${key}` });
    s.append(...options.map(([value, text]) => new Option(text, value)));
    s.value = f[key] ?? fallback;
    s.addEventListener('change', () => {
      f[key] = s.value;
      changed();
    });
    const l = document.createElement('label');
    l.append(`${label} `, s);
    return l;
  };
  const check = (key, label, title) => {
    const c = Object.assign(document.createElement('input'), {
      type: 'checkbox',
      id: `feature-${key}`,
      checked: Boolean(f[key]),
    });
    c.addEventListener('change', () => {
      f[key] = c.checked;
      changed();
    });
    const l = Object.assign(document.createElement('label'), { className: 'inline', title: title ?? '' });
    l.append(c, ` ${label}`);
    return l;
  };
  const items = [];
  if (info.columns?.length) {
    items.push(
      select(
        'impute',
        'Fill missing values with',
        [
          ['mean', 'the mean'],
          ['median', 'the median'],
          ['mode', 'the most frequent value'],
          ['constant', 'a constant'],
        ],
        'mean',
      ),
    );
    const fill = Object.assign(document.createElement('input'), {
      type: 'text',
      id: 'feature-fill',
      value: f.fill ?? '0',
      className: 'small',
    });
    fill.addEventListener('change', () => {
      f.fill = fill.value;
      changed();
    });
    const fillLabel = document.createElement('label');
    fillLabel.append('Constant ', fill);
    items.push(fillLabel);
    items.push(
      select(
        'scale',
        'Scale numbers',
        [
          ['none', 'as they are'],
          ['standardize', 'standardise (mean 0, deviation 1)'],
          ['min_max', 'min-max to [0, 1]'],
        ],
        'none',
      ),
    );
    items.push(
      check('one_hot', 'one-hot codes for categories', 'one 0/1 feature per category instead of the category’s number'),
    );
    items.push(check('polynomial', 'squares and products', 'adds x², y², x·y, … of the numeric columns'));
    const numeric = info.columns.filter((c) => !c.categories);
    if (numeric.length) {
      const logs = Object.assign(document.createElement('div'), { className: 'log-columns' });
      logs.append('Log transform: ');
      for (const c of numeric) {
        const box2 = Object.assign(document.createElement('input'), {
          type: 'checkbox',
          checked: (f.log ?? []).includes(c.name),
        });
        box2.dataset.column = c.name;
        box2.addEventListener('change', () => {
          const set = new Set(f.log ?? []);
          box2.checked ? set.add(c.name) : set.delete(c.name);
          f.log = [...set];
          changed();
        });
        const l = Object.assign(document.createElement('label'), { className: 'inline' });
        l.append(box2, ` ${c.name}`);
        logs.append(l);
      }
      items.push(logs);
    }
  } else if (info.shape.length === 3) {
    items.push(check('grayscale', 'grayscale', 'one channel of luminance instead of the colours'));
    items.push(check('edges', 'edge channel', 'adds the Sobel edge strength as one more channel'));
    items.push(
      check(
        'normalize',
        'normalise each channel',
        'subtracts the training split’s mean and divides by its deviation, per channel',
      ),
    );
  }
  box.replaceChildren(...items);
  $('features-editor').hidden = items.length === 0;
}

/** Trains `withRequest` and `withoutRequest` side by side in two workers, plotting each one's
 * validation accuracy per epoch on `chart`; resolves to both outcomes ({status: 'fulfilled', value:
 * last epoch} or {status: 'rejected', reason}: a run that diverges is a result too). */
export async function compareFeatures(withRequest, withoutRequest, data, chart) {
  const pool = new TrialPool(2);
  const epochs = withRequest.config.epochs;
  const curves = [[], []];
  const redraw = () => {
    const xs = Array.from({ length: Math.max(curves[0].length, curves[1].length) }, (_, i) => i + 1);
    chart.setColumns([xs, ...curves.map((c) => xs.map((_, i) => c[i] ?? null))], epochs);
  };
  chart.reset(epochs);
  try {
    return await Promise.allSettled(
      [withRequest, withoutRequest].map((request, k) =>
        pool.run(pool.slots[k], request, data, (e) => {
          curves[k][e.epoch - 1] = e.val_accuracy;
          redraw();
        }),
      ),
    );
  } finally {
    pool.close();
  }
}
