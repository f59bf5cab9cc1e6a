// The worker's data sets: each built-in one built (or fetched) in the core, an upload read by the
// core, and what the page is told about a loaded set (its size, shape, classes, a table's first
// rows, a few images of each class, every point of a 2-D set, one sequence of each class), and the
// check of a project's models and uploads before it is stored.
import { DataSet, inspectModel } from '../../whetstone.js';

const TOY_POINTS = 1000;
const TOY_NOISE = 0.08;
const WAVES = { samples: 2400, steps: 48, noise: 0.2 };
const SHAPES = { train: 2000, test: 600 };
const TABLE_ROWS = 8;
const GALLERY_PER_CLASS = 6;
const TEXTS_PER_CLASS = 8;

/**
 * The data set `name` (an upload is named `<kind>:<id>`, or by its kind alone, and comes as
 * `upload`); `asset(file, what)` fetches a built-in file. A file that does not parse throws.
 */
export async function openDataset(name, upload, bias, asset) {
  const kind = name.split(':')[0];
  if (name === 'shapes') return DataSet.shapes(SHAPES.train, SHAPES.test, bias ?? 1, 1);
  if (kind === 'upload') return DataSet.fromSequenceCsv(upload.text, upload.features);
  if (kind === 'table') return DataSet.fromTableCsv(upload.text, upload.label || undefined);
  if (kind === 'text') return DataSet.fromTextCsv(upload.text, JSON.stringify(upload.options));
  if (kind === 'images') return DataSet.fromPixels(upload.pixels, upload.labels, upload.shape, upload.classes);
  if (name === 'waves') return DataSet.waves(WAVES.samples, WAVES.steps, WAVES.noise, 1);
  if (name === 'words')
    return DataSet.fromWordsAsset(new TextDecoder().decode(await asset('words.tsv', 'the built-in word list')));
  if (name === 'digits' || name === 'digits-5-9') {
    const all = DataSet.fromDigitsAsset(await asset('mnist-10k.bin', 'the built-in digits'));
    if (name === 'digits') return all;
    const some = all.onlyClasses([5, 6, 7, 8, 9]);
    all.free();
    return some;
  }
  return DataSet.toy(name, TOY_POINTS, TOY_NOISE, 1);
}

/** What the page is told about `data`, loaded as `name`. */
export function describe(data, name) {
  const shape = Array.from(data.sampleShape);
  const info = {
    name,
    length: data.length,
    shape,
    classes: data.classes,
    testLength: data.testLength,
    columns: data.columns,
    notes: data.notes,
    ...tableRows(data),
  };
  // Images: a few of each class, for the gallery.
  if (shape.length === 3) info.gallery = someOfEachClass(data, GALLERY_PER_CLASS);
  // 2-D sets are small: send every point so the page can plot them.
  if (shape.length === 1 && shape[0] === 2) {
    info.points = data.features(0, data.length);
    info.labels = data.labels(0, data.length);
  }
  // Sequences: the first sample of each class, to show what the classes look like.
  if (shape.length === 2) info.examples = firstOfEachClass(data);
  // Text: its vocabulary, and a few texts of each class.
  if (data.vocabulary) {
    info.vocabulary = vocabularyOf(data);
    info.texts = textsOfEachClass(data, TEXTS_PER_CLASS);
  }
  return info;
}

/** A text data set's vocabulary as the page shows it: what a token is, how many there are, the
 * length read and how many training texts it cuts (null when unknown). */
export function vocabularyOf(data) {
  const { level, size, maxLen, cut } = data.vocabulary;
  return { level, size, maxLen, cut };
}

/** A table's first rows as loaded (NaN where a value is missing) and their labels; nothing for
 * other data. */
export function tableRows(data) {
  return data.columns.length ? { rows: data.features(0, TABLE_ROWS), rowLabels: data.labels(0, TABLE_ROWS) } : {};
}

function someOfEachClass(data, count) {
  const labels = data.labels(0, data.length);
  return data.classes.map((_, k) => {
    const at = [];
    for (let i = 0; i < labels.length && at.length < count; i++) if (labels[i] === k) at.push(i);
    return { label: k, images: at.map((i) => data.features(i, 1)) };
  });
}

function textsOfEachClass(data, count) {
  const labels = data.labels(0, data.length);
  return data.classes.map((_, k) => {
    const texts = [];
    for (let i = 0; i < labels.length && texts.length < count; i++)
      if (labels[i] === k) texts.push(data.texts(i, 1)[0]);
    return { label: k, texts };
  });
}

function firstOfEachClass(data) {
  const labels = data.labels(0, data.length);
  return data.classes.map((_, k) => ({ label: k, values: data.features(labels.indexOf(k), 1) }));
}

/** A project's parts checked before it is stored (`models`: {what, bytes}, `datasets`: upload
 * records): each model file opened, each upload read; the first that fails is named. */
export async function verifyParts({ models, datasets }, asset) {
  for (const { what, bytes } of models) {
    try {
      inspectModel(new Uint8Array(bytes));
    } catch (err) {
      throw new Error(`${what} cannot be opened: ${err.message ?? err}`);
    }
  }
  for (const upload of datasets) {
    try {
      (await openDataset(upload.name, upload, undefined, asset)).free();
    } catch (err) {
      throw new Error(`the uploaded data “${upload.name}” cannot be read: ${err.message ?? err}`);
    }
  }
}
