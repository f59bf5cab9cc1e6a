// The data sets the page offers: which family each belongs to (digits, toy points, sequences,
// shapes, tables, images, texts), the model presets and the settings each family starts with, and the
// user's own uploads (kept in IndexedDB under these names).

const CNN = 'Small CNN (conv 5×5×8 → pool → conv 5×5×16 → pool → dense 64)';

/** The presets offered for each family: [name, label]. */
export const PRESETS = {
  digits: [
    ['cnn', CNN],
    ['mlp', 'MLP (784 → 128 → 10)'],
  ],
  'digits-5-9': [
    ['cnn', CNN],
    ['mlp', 'MLP (784 → 128 → 10)'],
  ],
  toy: [
    ['toy', 'Small MLP (2 → 16 → 16, tanh)'],
    ['mlp', 'MLP (2 → 128, ReLU)'],
  ],
  shapes: [
    ['cnn', CNN],
    ['mlp', 'MLP (3·32·32 → 128 → 4)'],
  ],
  sequence: [
    ['gru', 'GRU (32 units)'],
    ['lstm', 'LSTM (32 units)'],
    ['transformer', 'Transformer (patches of 4 steps → 32, one block of 4 heads over the patches → mean)'],
    ['mlp', 'MLP (all steps → 128, ReLU)'],
  ],
  table: [
    ['mlp', 'MLP (features → 128, ReLU)'],
    ['toy', 'Small MLP (features → 16 → 16, tanh)'],
  ],
  images: [
    ['cnn', CNN],
    ['mlp', 'MLP (pixels → 128, ReLU)'],
  ],
  text: [
    ['transformer', 'Transformer (tokens → 64, positions from the end, two blocks of 4 heads → mean)'],
    ['gru', 'GRU (tokens → 16 → 32 units)'],
    ['bag', 'Bag of tokens (tokens → 32 → mean, order unseen)'],
  ],
};

/** The training recipe a family starts from unless its defaults say otherwise. */
const RECIPE = { schedule: 'constant', warmup: 0 };

/** A Transformer's recipe for texts: a cosine schedule, and a tenth of the tokens of half the texts
 * masked, of half swapped (the Transformer preset on the word-language set: 72.3 % held out after
 * 10 epochs, against 71.1 % at a constant rate without augmentation). */
const TEXT_RECIPE = {
  schedule: 'cosine',
  augment: {
    mask_tokens: { on: true, p: '0.5', strength: '0.1' },
    swap_tokens: { on: true, p: '0.5', strength: '0.1' },
  },
};

/** The settings a family starts with when the data changes to it. */
export const DEFAULTS = {
  digits: { preset: 'cnn', epochs: 3, batch: 32, lr: '0.002', samples: 10000, heldOut: 2000 },
  toy: { preset: 'toy', epochs: 40, batch: 16, lr: '0.02', samples: 1000, heldOut: 300 },
  // 50 training samples: where starting from a pretrained network pays.
  'digits-5-9': { preset: 'cnn', epochs: 6, batch: 10, lr: '0.003', samples: 1050, heldOut: 1000 },
  sequence: { preset: 'gru', epochs: 12, batch: 32, lr: '0.01', samples: 2400, heldOut: 400 },
  shapes: { preset: 'cnn', epochs: 6, batch: 32, lr: '0.002', samples: 2000, heldOut: 600 },
  table: { preset: 'mlp', epochs: 30, batch: 32, lr: '0.005', samples: 1000, heldOut: 200 },
  images: { preset: 'cnn', epochs: 10, batch: 32, lr: '0.002', samples: 1000, heldOut: 200 },
  text: { preset: 'transformer', epochs: 10, batch: 32, lr: '0.003', samples: 18000, heldOut: 3000, ...TEXT_RECIPE },
};

/** What changing the data to family `name` sets: the recipe, then the family's defaults; the
 * family's augmentations join the others chosen (each family reads only its own). */
export function startOf(name, settings) {
  const start = DEFAULTS[name];
  return { ...RECIPE, ...start, augment: { ...settings.augment, ...start.augment } };
}

/** The kinds of the user's own data sets, and how the data menu names them. Each upload is a data
 * set of its own, named `<kind>:<id>` (the first uploads of each kind were named by their kind). */
export const UPLOADS = { upload: 'Your sequences', table: 'Your table', images: 'Your images', text: 'Your texts' };

/** The kind of upload data set `name` is (`'table'` for `'table:m3x'`), or undefined. */
export function uploadKind(name) {
  const kind = String(name ?? '').split(':')[0];
  return Object.hasOwn(UPLOADS, kind) ? kind : undefined;
}

/** A name for a new upload of `kind`, unique in this browser. */
export const uploadName = (kind) => `${kind}:${Date.now().toString(36)}`;

/** Uploaded CSV files larger than this are refused before reading: the page holds them in memory. */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
/** Image uploads larger than this together are refused before decoding. */
export const MAX_IMAGE_UPLOAD_BYTES = 1024 * 1024 * 1024;

const SEQUENCE_SETS = ['waves', 'upload'];

/** The family of data set `name`. */
export function family(name) {
  const kind = uploadKind(name) ?? name;
  if (kind.startsWith('digits') || ['shapes', 'table', 'images'].includes(kind)) return kind;
  if (kind === 'words' || kind === 'text') return 'text';
  return SEQUENCE_SETS.includes(kind) ? 'sequence' : 'toy';
}

export const isDigits = (name) => name?.startsWith('digits');
