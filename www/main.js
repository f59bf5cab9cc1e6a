// The playground page: one settings object (saved in localStorage), panels that render it, and the
// engine that runs everything in a worker.
import { Engine } from './engine/engine.js';
import { deleteDataset, deleteModel, getDataset, getModel, listModels, putDataset, putModel } from './engine/store.js';
import { exportProject, importProject, settingsFromLink, settingsLink } from './state/project.js';
import { PLAN_SETTINGS, SCHEDULES, SETTINGS, defaults, parseNumber, read, validate } from './state/settings.js';
import { drawRegions, gridFeatures } from './ui/boundary.js';
import { LiveChart } from './ui/charts.js';
import { colourOf, plotUnitCurves } from './ui/curves.js';
import { $, download } from './ui/dom.js';
import { DrawingPad } from './ui/draw.js';
import { imageCanvas, sampleFigure } from './ui/samples.js';
import { Notices } from './ui/notice.js';
import { Router } from './ui/router.js';
import { SequencePad, plotSequence } from './ui/sequence.js';
import {
  anyFeatures,
  compareFeatures,
  decodeImages,
  featureRequest,
  filesFromDrop,
  filesFromInput,
  renderFeatureEditor,
  renderGallery,
  renderTable,
  showProblems,
} from './panels/data.js';
import { Deployment } from './panels/deploy.js';
import { Ensembler } from './panels/ensembles.js';
import { renderLayerTable } from './panels/layers.js';
import { Lessons } from './panels/lessons.js';
import { Tuner, applyTrial, optimizerConfig, splitKey } from './panels/tune.js';
const SETTINGS_KEY = 'whetstone.settings.v1';

const PRESETS = {
  digits: [
    ['cnn', 'Small CNN (conv 5×5×8 → pool → conv 5×5×16 → pool → dense 64)'],
    ['mlp', 'MLP (784 → 128 → 10)'],
  ],
  toy: [
    ['toy', 'Small MLP (2 → 16 → 16, tanh)'],
    ['mlp', 'MLP (2 → 128, ReLU)'],
  ],
};
PRESETS['digits-5-9'] = PRESETS.digits;
PRESETS.shapes = [
  ['cnn', 'Small CNN (conv 5×5×8 → pool → conv 5×5×16 → pool → dense 64)'],
  ['mlp', 'MLP (3·32·32 → 128 → 4)'],
];
PRESETS.sequence = [
  ['gru', 'GRU (32 units)'],
  ['lstm', 'LSTM (32 units)'],
  ['mlp', 'MLP (all steps → 128, ReLU)'],
];
PRESETS.table = [
  ['mlp', 'MLP (features → 128, ReLU)'],
  ['toy', 'Small MLP (features → 16 → 16, tanh)'],
];
PRESETS.images = [
  ['cnn', 'Small CNN (conv 5×5×8 → pool → conv 5×5×16 → pool → dense 64)'],
  ['mlp', 'MLP (pixels → 128, ReLU)'],
];
const DEFAULTS = {
  digits: { preset: 'cnn', epochs: 3, batch: 32, lr: '0.002', samples: 10000, heldOut: 2000 },
  toy: { preset: 'toy', epochs: 40, batch: 16, lr: '0.02', samples: 1000, heldOut: 300 },
  // 50 training samples: where starting from a pretrained network pays.
  'digits-5-9': { preset: 'cnn', epochs: 6, batch: 10, lr: '0.003', samples: 1050, heldOut: 1000 },
  sequence: { preset: 'gru', epochs: 12, batch: 32, lr: '0.01', samples: 2400, heldOut: 400 },
  shapes: { preset: 'cnn', epochs: 6, batch: 32, lr: '0.002', samples: 2000, heldOut: 600 },
  table: { preset: 'mlp', epochs: 30, batch: 32, lr: '0.005', samples: 1000, heldOut: 200 },
  images: { preset: 'cnn', epochs: 10, batch: 32, lr: '0.002', samples: 1000, heldOut: 200 },
};
const SEQUENCE_SETS = ['waves', 'upload'];
const family = (name) =>
  name.startsWith('digits') || ['shapes', 'table', 'images'].includes(name)
    ? name
    : SEQUENCE_SETS.includes(name)
      ? 'sequence'
      : 'toy';
// The user's own data sets, kept in IndexedDB under these names, and how the data menu names them.
const UPLOADS = { upload: 'Your sequences', table: 'Your table', images: 'Your images' };
// Each augmentation: [type, label, strength key, default strength]; the probability defaults to 0.5.
const AUGMENTATIONS = [
  ['flip_horizontal', 'horizontal flip'],
  ['flip_vertical', 'vertical flip'],
  ['rotate', 'rotation (°)', 'degrees', 15],
  ['scale', 'scale (±)', 'amount', 0.1],
  ['translate', 'shift (± width)', 'fraction', 0.1],
  ['crop', 'random crop', 'fraction', 0.2],
  ['brightness', 'brightness (±)', 'amount', 0.2],
  ['contrast', 'contrast (±)', 'amount', 0.3],
  ['saturation', 'saturation (±)', 'amount', 0.5],
  ['hue', 'hue (°)', 'degrees', 180],
  ['noise', 'noise (std)', 'std', 0.05],
  ['cutout', 'cutout (side)', 'size', 0.25],
  ['mixup', 'mixup (α)', 'alpha', 0.2],
];
/** Uploaded CSV files larger than this are refused before reading: the page holds them in memory. */
const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
/** Image uploads larger than this together are refused before decoding. */
const MAX_IMAGE_UPLOAD_BYTES = 1024 * 1024 * 1024;
const isDigits = (name) => name?.startsWith('digits');

const state = {
  settings: { ...defaults(), ...DEFAULTS.digits },
  gpu: { adapter: null, software: false, error: null },
  dataset: null,
  // Quality fixes applied to the loaded data ({fix, indices, labels}), in order.
  fixes: [],
  run: { status: 'idle', epochs: 0, stepsPerEpoch: 0, trained: false, lrs: [], norms: [], history: [] },
};

const engine = new Engine(onProgress);
// For the browser console and the end-to-end tests: the engine and the page state.
globalThis.whetstone = { engine, state };
const lossChart = new LiveChart($('loss-chart'), 'Loss', ['train loss', 'validation loss']);
const accChart = new LiveChart($('acc-chart'), 'Accuracy', ['train accuracy', 'validation accuracy'], {
  percent: true,
});
const lrChart = new LiveChart($('lr-chart'), 'Learning rate', ['planned', 'actual'], { dashed: ['planned'] });
const normChart = new LiveChart($('norm-chart'), 'Gradient norm (before clipping)', ['gradient norm', 'clip limit'], {
  dashed: ['clip limit'],
});
globalThis.whetstone.charts = { lr: lrChart, norm: normChart, loss: lossChart, acc: accChart };
const featureChart = new LiveChart(
  $('feature-compare-chart'),
  'Validation accuracy',
  ['with the features', 'without'],
  { percent: true },
);
const pad = new DrawingPad($('draw'), predictDrawing);
const wavePad = new SequencePad($('wave'), predictSequence);
/** The loaded data as a trial or member worker loads it again: a key, the name, any upload, the
 * shapes' bias and the quality fixes applied since it loaded. */
const loadedData = () => ({
  key: `${state.settings.dataset}:${state.upload?.savedAt ?? ''}:${state.settings.bias}:${state.fixes.length}`,
  name: state.settings.dataset,
  upload: state.upload,
  bias: Number(state.settings.bias),
  fixes: state.fixes,
});
const tuner = new Tuner(engine, {
  base: () => trainingRequest(),
  dataset: loadedData,
  useDataset: (name) => queueSetup(() => changeDataset(name)),
  trainBest: (values) => trainWith(values).catch((err) => showNotice(err.message)),
  notify: showNotice,
});
globalThis.whetstone.tuner = tuner;
const ensembler = new Ensembler(engine, {
  request: () => trainingRequest(),
  dataset: loadedData,
  runSplit: () => state.run.split,
  shape: () => state.dataset.shape,
  workers: () => tuner.workers(),
  bestTrials: (count) => tuner.bestTrials(count),
  savedModels: () => [...document.querySelectorAll('#saved-models .ensemble-pick:checked')].map((c) => c.dataset.name),
  notify: showNotice,
});
globalThis.whetstone.ensembler = ensembler;
const deployment = new Deployment({
  main: engine,
  dataset: loadedData,
  info: () => state.dataset,
  request: () => trainingRequest(),
  drawing: () => (isDigits(state.dataset?.name) ? pad.pixels() : null),
  notify: showNotice,
});
globalThis.whetstone.deployment = deployment;
const lessons = new Lessons({ notify: showNotice });
globalThis.whetstone.lessons = lessons;
const router = new Router({
  view: (view, param) => {
    if (view === 'lessons') lessons.present(param);
  },
  settings: (hash) => openLink(hash),
  unknown: (view) => showNotice(`This address names no view (“${view}”); the start view is shown instead.`, 'info'),
});
globalThis.whetstone.router = router;

function saveSettings() {
  localStorage.setItem(SETTINGS_KEY, JSON.stringify(state.settings));
}

const notices = new Notices();
/** A message in the status area, and beside the control it answers (`where`: see Notices.show). */
function showNotice(message, kind = 'error', where = {}) {
  notices.show(message, kind, where);
}

function setStatus(status) {
  state.run.status = status;
  const busy = status === 'starting' || status === 'running' || status === 'paused';
  $('train').disabled = busy;
  $('pause').disabled = !busy;
  $('stop').disabled = !busy;
  $('pause').textContent = status === 'paused' ? 'Resume' : 'Pause';
  for (const id of [
    'dataset',
    'preset',
    'spec',
    'sequence-file',
    'table-file',
    'image-folder',
    'image-files',
    'delete-upload',
    'feature-compare',
  ])
    $(id).disabled = busy;
  for (const id of ['sequence-file', 'table-file', 'image-folder', 'image-files'])
    $(id).parentElement.classList.toggle('disabled', busy);
  document.body.dataset.status = status;
  $('header-progress').hidden = !busy;
  renderRunStatus();
  renderModelButtons();
}

/** The header's account of the run: what it is doing, and how far it has got. */
function renderRunStatus() {
  const { status, epochs } = state.run;
  const epoch = $('stat-epoch').textContent;
  const said = {
    starting: 'starting…',
    running: `training: epoch ${epoch}`,
    paused: `paused at epoch ${epoch}`,
    done: `trained: ${$('stat-val-acc').textContent} validation accuracy`,
    stopped: 'stopped',
    error: 'the run failed',
  }[status];
  $('run-status').textContent = said ?? (state.run.trained ? 'model loaded' : 'not trained yet');
  $('header-progress').value = $('progress').value;
  $('run-status').title = epochs ? `${epochs} epochs planned` : '';
}

/** The header's data set and model. */
function renderHeader() {
  const option = $('dataset').selectedOptions[0];
  $('status-data').textContent = option ? option.textContent.replace(/ \(.*\)$/, '') : state.settings.dataset;
  const preset = $('preset').selectedOptions[0];
  $('status-model').textContent =
    state.settings.startFrom === 'pretrained'
      ? 'pretrained CNN'
      : preset
        ? preset.textContent.replace(/ \(.*\)$/, '')
        : 'custom model';
}

function renderModelButtons() {
  const busy = ['starting', 'running', 'paused'].includes(state.run.status);
  for (const id of ['download-model', 'store-model', 'export-onnx']) $(id).disabled = busy || !state.run.trained;
  $('export-history').disabled = state.run.history.length === 0;
  $('model-file').disabled = busy;
  $('model-file').parentElement.classList.toggle('disabled', busy);
}

// Settings whose field writes straight into the state (the others' fields do more: see wire()).
const FIELDS = [
  'epochs',
  'batch',
  'lr',
  'optimizer',
  'seed',
  'l1',
  'l2',
  'patience',
  'schedule',
  'warmup',
  'clipNorm',
  'clipValue',
  'samples',
  'heldOut',
  'device',
  'rebalance',
];

/** The value of a setting, checked (see read); a bad one throws, naming the setting. */
const setting = (name) => read(state.settings, name);

function renderSettings() {
  const s = state.settings;
  $('dataset').value = s.dataset;
  $('preset').replaceChildren(...PRESETS[family(s.dataset)].map(([value, label]) => new Option(label, value)));
  $('preset').value = s.preset;
  $('spec').value = s.spec;
  $('start-from').value = s.startFrom;
  $('bias').value = s.bias;
  for (const name of FIELDS) $(SETTINGS[name].control).value = s[name];
  renderScheduleParams();
  renderHeader();
}

/** One field per setting of the chosen schedule, filled from the saved settings. */
function renderScheduleParams() {
  const type = state.settings.schedule;
  const saved = state.settings.scheduleParams[type] ?? {};
  $('schedule-params').replaceChildren(
    ...SCHEDULES[type].map(([key, label, fallback]) => {
      const wrap = document.createElement('label');
      const input = document.createElement('input');
      input.id = `schedule-${key}`;
      input.type = 'text';
      input.value = saved[key] ?? fallback;
      input.addEventListener('input', () => {
        state.settings.scheduleParams[type] = { ...state.settings.scheduleParams[type], [key]: input.value };
        saveSettings();
        planSchedule();
      });
      wrap.append(`${label} `, input);
      return wrap;
    }),
  );
}

function scheduleRequest() {
  const type = state.settings.schedule;
  const saved = state.settings.scheduleParams[type] ?? {};
  const schedule = { type };
  for (const [key, label, fallback, integer] of SCHEDULES[type]) {
    try {
      schedule[key] = parseNumber(saved[key] ?? fallback, `The schedule's “${label}”`, integer);
    } catch (err) {
      throw Object.assign(err, { field: $(`schedule-${key}`) });
    }
  }
  return schedule;
}

/** A clip limit, or null when it is 0 (off). */
function clipLimit(name) {
  const value = setting(name);
  return value > 0 ? value : null;
}

/** An uploaded data set (kept in IndexedDB), or an error that says to upload one. */
async function uploadedData(name) {
  const record = await getDataset(name).catch(() => null);
  if (!record)
    throw new Error(
      `no ${UPLOADS[name].toLowerCase().replace('your ', '')} are kept in this browser; upload them again`,
    );
  return record;
}

/**
 * Loads a data set into the engine and shows it. `loaded` is an upload the engine has just loaded
 * (`{ upload, info }`), shown as it is: it is neither read back from IndexedDB nor loaded again.
 */
async function loadDataset(name, loaded) {
  showNotice('');
  $('dataset-info').textContent = 'loading…';
  const upload = loaded?.upload ?? (name in UPLOADS ? await uploadedData(name) : undefined);
  const info = loaded?.info ?? (await engine.request('load', { name, upload, bias: Number(state.settings.bias) }));
  state.dataset = info;
  state.upload = upload;
  state.fixes = [];
  if (upload) renderUploadOption(name, upload.fileName);
  $('delete-upload').hidden = !upload;
  if (info.notes.length) showNotice(`Loaded, but: ${info.notes.join('; ')}.`, 'info');
  renderTable(info);
  renderGallery(info);
  renderStrip(info);
  renderFeatureEditor(info, state.settings.features, changeFeatures);
  describeFeatures();
  state.run.trained = false;
  $('evaluation').hidden = true;
  const shape = info.shape.join(' × ');
  $('dataset-info').textContent = `${info.length.toLocaleString()} samples of ${shape}, ${info.classes.length} classes`;
  const sequence = info.shape.length === 2;
  $('draw-area').hidden = !isDigits(name);
  $('boundary-area').hidden = !info.points;
  $('try-none').hidden = isDigits(name) || Boolean(info.points) || sequence;
  $('bias-field').hidden = name !== 'shapes';
  // A set with its own test split (the shapes) is always evaluated on all of it.
  $('heldout').disabled = info.testLength > 0;
  $('heldout').title =
    info.testLength > 0 ? `this data set brings its own test split of ${info.testLength} samples` : '';
  if (info.testLength > 0) $('heldout').value = state.settings.heldOut = info.testLength;
  $('augment-editor').hidden = info.shape.length !== 3;
  if (info.shape.length === 3) previewAugmentation();
  $('sequence-area').hidden = !sequence;
  $('probs').replaceChildren();
  $('quality-findings').replaceChildren();
  if (info.points) drawRegions($('boundary'), null, info.classes.length, info.points, info.labels);
  if (sequence) showSequenceExamples(info);
}

/** One small image of each class, for the start view. */
function renderStrip(info) {
  $('data-strip').replaceChildren(
    ...(info.gallery ?? []).map(({ label, images }) => {
      const canvas = imageCanvas(images[0], info.shape);
      canvas.title = info.classes[label];
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `a sample of class ${info.classes[label]}`);
      return canvas;
    }),
  );
}

/** One row per augmentation: on or off, its probability and strength. */
function renderAugment() {
  const saved = state.settings.augment ?? {};
  const rows = AUGMENTATIONS.map(([type, label, key, fallback]) => {
    const s = { on: false, p: 0.5, strength: fallback, ...(saved[type] ?? {}) };
    const on = Object.assign(document.createElement('input'), { type: 'checkbox', checked: s.on });
    const p = Object.assign(document.createElement('input'), {
      type: 'text',
      value: s.p,
      className: 'small',
      title: 'probability per image',
    });
    const strength = key
      ? Object.assign(document.createElement('input'), {
          type: 'text',
          value: s.strength,
          className: 'small',
          title: key,
        })
      : '';
    for (const input of [on, p, strength].filter(Boolean)) {
      input.dataset.augment = type;
      input.addEventListener('change', () => {
        state.settings.augment = {
          ...state.settings.augment,
          [type]: { on: on.checked, p: p.value, strength: strength ? strength.value : undefined },
        };
        saveSettings();
        previewAugmentation();
      });
    }
    on.dataset.field = 'on';
    p.dataset.field = 'p';
    if (strength) strength.dataset.field = 'strength';
    const cell = (...children) => {
      const td = document.createElement('td');
      td.append(...children);
      return td;
    };
    const name = Object.assign(document.createElement('label'), { className: 'inline' });
    name.append(on, ` ${label}`);
    const tr = document.createElement('tr');
    tr.append(cell(name), cell(p), cell(strength));
    return tr;
  });
  const head = document.createElement('tr');
  for (const h of ['', 'probability', 'strength'])
    head.append(Object.assign(document.createElement('th'), { textContent: h }));
  $('augment-table').replaceChildren(head, ...rows);
}

/** The enabled augmentations as the core takes them; numbers are checked by name. */
function augmentRequest() {
  return AUGMENTATIONS.flatMap(([type, label, key]) => {
    const s = state.settings.augment?.[type];
    if (!s?.on) return [];
    const number = (text, what) => {
      const v = Number(String(text).trim());
      if (String(text).trim() === '' || !Number.isFinite(v))
        throw new Error(`the ${what} of “${label}” must be a number, got "${text}"`);
      return v;
    };
    const op = { type, p: number(s.p, 'probability') };
    if (key) op[key] = number(s.strength, 'strength');
    return [op];
  });
}

let previewTimer = 0;
/** Twelve draws of the augmentation on the first training image. */
function previewAugmentation() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(async () => {
    const shape = state.dataset?.shape;
    if (shape?.length !== 3) return;
    try {
      const augment = augmentRequest();
      const count = 12;
      const { images } = await engine.request('augment-preview', {
        augment,
        index: 0,
        count,
        seed: Date.now() % 100000,
      });
      const size = shape.reduce((a, b) => a * b, 1);
      $('augment-preview').replaceChildren(
        ...Array.from({ length: count }, (_, i) => imageCanvas(images.subarray(i * size, (i + 1) * size), shape)),
      );
      const mixup = augment.some((a) => a.type === 'mixup')
        ? ' Mixup blends pairs of images of a batch, and their labels, during training; it is not drawn here.'
        : '';
      $('augment-info').textContent =
        (augment.length
          ? `The first training image under ${count} draws of the ${augment.length} chosen augmentation${augment.length > 1 ? 's' : ''}:`
          : 'No augmentation chosen: the first training image as it is.') + mixup;
    } catch (err) {
      $('augment-info').textContent = `Augmentation: ${err.message}`;
    }
  }, 100);
}

/** The counts a quality report is summed up by, for the before/after view. */
function qualityCounts(r) {
  return {
    samples: r.samples,
    'exact duplicates (extra copies)': r.exact_duplicates.reduce((n, g) => n + g.length - 1, 0),
    'conflicting labels (groups)': r.conflicting_labels.length,
    'near duplicates (groups)': r.near_duplicates.length,
    'leaked held-out samples': r.leakage.length,
    'suspected label noise': r.label_noise.length,
    'rows with missing values': r.rows_with_missing.length,
    'extreme outliers': r.outliers.reduce((n, o) => n + o.rows.length, 0),
    'constant features': r.constant_features.length,
    'smallest class share': r.imbalance ? `${(r.imbalance.share * 100).toFixed(1)} %` : 'even',
  };
}

/** The quality report of the loaded data on the current split, each finding with its fix; after a
 * fix, `before` (the earlier counts) and these side by side. */
async function checkQuality(before) {
  const { report: r } = await engine.request('quality', {
    samples: setting('samples'),
    heldOut: setting('heldOut'),
    seed: setting('seed'),
  });
  const classes = state.dataset.classes;
  const columns = state.dataset.columns ?? [];
  const table = columns.length > 0;
  const item = (text, ...fixes) => {
    const li = document.createElement('li');
    li.append(text);
    for (const [label, fix, extra] of fixes) {
      const b = Object.assign(document.createElement('button'), { textContent: label, className: 'small-button' });
      b.dataset.fix = fix;
      b.addEventListener('click', () => applyFix(fix, qualityCounts(r), extra).catch((err) => showNotice(err.message)));
      li.append(' ', b);
    }
    return li;
  };
  const extra = r.exact_duplicates.reduce((n, g) => n + g.length - 1, 0);
  const items = [
    item(`${r.samples.toLocaleString()} samples: ${classes.map((c, k) => `${c} ${r.class_counts[k]}`).join(', ')}.`),
  ];
  if (r.exact_duplicates.length)
    items.push(
      item(`${r.exact_duplicates.length} groups of exact duplicates (${extra} extra copies).`, [
        'Keep one of each',
        'duplicates',
      ]),
    );
  if (r.conflicting_labels.length)
    items.push(
      item(`${r.conflicting_labels.length} of them with different labels: suspected label noise.`, [
        'Drop them all',
        'conflicts',
      ]),
    );
  if (r.near_duplicates.length) {
    const how = table
      ? 'rows equal once numbers are rounded to 3 digits and categories compared without case'
      : 'images with the same 8×8 average hash';
    items.push(
      item(`${r.near_duplicates.length} groups of near duplicates (${how}).`, [
        'Keep one of each',
        'without',
        { indices: r.near_duplicates.flatMap((g) => g.slice(1)) },
      ]),
    );
  }
  if (r.leakage.length)
    items.push(
      item(`${r.leakage.length} held-out samples also appear in the training split: leakage.`, [
        'Keep one of each',
        'duplicates',
      ]),
    );
  if (r.label_noise.length) {
    const shown = r.label_noise
      .slice(0, 6)
      .map((s) => `#${s.index} labelled ${classes[s.label]}, ${s.votes} of 10 neighbours say ${classes[s.suggested]}`)
      .join('; ');
    items.push(
      item(
        `${r.label_noise.length} samples whose label disagrees with most of their nearest neighbours (of the first ${r.label_noise_checked.toLocaleString()} checked): ${shown}${r.label_noise.length > 6 ? '; …' : ''}.`,
        [
          'Relabel as the neighbours say',
          'relabel',
          { indices: r.label_noise.map((s) => s.index), labels: r.label_noise.map((s) => s.suggested) },
        ],
        ['Drop them', 'without', { indices: r.label_noise.map((s) => s.index) }],
      ),
    );
  }
  if (r.missing.length) {
    const where = r.missing.map((m) => `${columns[m.column].name} ${m.count}`).join(', ');
    items.push(
      item(
        `Missing values: ${where} (${r.rows_with_missing.length} rows have some).`,
        ['Drop those rows', 'without', { indices: r.rows_with_missing }],
        ['Fill with the mean', 'impute', { impute: 'mean' }],
        ['the median', 'impute', { impute: 'median' }],
        ['the most frequent value', 'impute', { impute: 'mode' }],
        ['a constant', 'impute', { impute: 'constant' }],
      ),
    );
    const fill = { mean: 'the mean', median: 'the median', mode: 'the most frequent value', constant: 'a constant' }[
      state.settings.features.impute ?? 'mean'
    ];
    items.push(
      item(
        `Unless dropped, training fills them with ${fill} of the training split's column (categories: the most frequent): see “Feature engineering”.`,
      ),
    );
  }
  for (const o of r.outliers) {
    items.push(
      item(
        `${o.rows.length} extreme values in ${columns[o.column].name} (modified z-score over 3.5), rows ${o.rows.slice(0, 8).join(', ')}${o.rows.length > 8 ? ', …' : ''}.`,
        ['Drop those rows', 'without', { indices: o.rows }],
      ),
    );
  }
  if (r.imbalance) {
    const { class: k, share, ratio } = r.imbalance;
    items.push(
      item(
        `Class ${classes[k]} is only ${(share * 100).toFixed(1)} % of the samples (the largest is ${ratio.toFixed(1)}× its size).`,
        ['Oversample', 'oversample'],
        ['Undersample', 'undersample'],
        ['Weight the loss', 'class_weights'],
      ),
    );
    const how = {
      oversample: 'oversample the training split',
      undersample: 'undersample the training split',
      class_weights: 'weight each class in the loss by its rarity',
    }[state.settings.rebalance];
    if (how) items.push(item(`Training will ${how} (never the held-out split): see “Class balance” under Training.`));
  }
  const name = (f) => (table ? columns[f].name : `feature ${f}`);
  const dropColumns = (indices) => (table ? [['Drop these columns', 'columns', { indices }]] : []);
  if (r.constant_features.length)
    items.push(
      item(
        `${r.constant_features.length} features have one value in every sample, so they carry nothing: ${r.constant_features.map(name).join(', ')}.`,
        ...dropColumns(r.constant_features),
      ),
    );
  if (r.near_constant_features.length)
    items.push(
      item(
        `Nearly constant (one value in 95 % of the rows or more): ${r.near_constant_features.map(name).join(', ')}.`,
        ...dropColumns(r.near_constant_features),
      ),
    );
  if (items.length === 1)
    items.push(
      item(
        'No duplicates, leakage, label noise, missing values, outliers, class imbalance or constant features found.',
      ),
    );
  if (before) {
    const after = qualityCounts(r);
    const rows = Object.keys(after)
      .filter((k) => String(before[k]) !== String(after[k]) || k === 'samples')
      .map((k) => `<tr><td>${k}</td><td>${before[k].toLocaleString()}</td><td>${after[k].toLocaleString()}</td></tr>`);
    const view = document.createElement('li');
    view.innerHTML = `<table class="before-after" aria-label="Before and after the fix"><tr><th></th><th>before</th><th>after</th></tr>${rows.join('')}</table>`;
    items.splice(1, 0, view);
  }
  $('quality-findings').replaceChildren(...items);
}

/** Applies a fix: a copy of the data without some samples or with some relabelled replaces the
 * loaded data; imbalance and missing values are handled in training, on the training split alone
 * (copies or statistics across both splits would leak). */
async function applyFix(fix, before, extra = {}) {
  if (fix === 'oversample' || fix === 'undersample' || fix === 'class_weights') {
    state.settings.rebalance = fix;
    $('rebalance').value = fix;
    saveSettings();
    await checkQuality();
    return;
  }
  if (fix === 'impute') {
    state.settings.features = { ...state.settings.features, impute: extra.impute };
    saveSettings();
    renderFeatureEditor(state.dataset, state.settings.features, changeFeatures);
    $('features-editor').open = true;
    await checkQuality();
    return;
  }
  const applied = { fix, indices: extra.indices, labels: extra.labels };
  const { length, shape, columns, rows, rowLabels } = await engine.request('fix', applied);
  state.fixes = [...state.fixes, applied];
  const reshaped = shape.join() !== state.dataset.shape.join();
  Object.assign(state.dataset, { length, shape, columns, rows, rowLabels });
  state.run.trained = false;
  renderTable(state.dataset);
  if (reshaped) {
    renderFeatureEditor(state.dataset, state.settings.features, changeFeatures);
    await applyPreset(state.settings.preset);
  }
  // A fix changes the number of samples: use all of them, a fifth held out when that no longer fits.
  const s = state.settings;
  if (Number(s.samples) !== length) s.samples = length;
  if (!$('heldout').disabled && Number(s.heldOut) >= length) s.heldOut = Math.max(1, Math.round(length / 5));
  saveSettings();
  renderSettings();
  $('evaluation').hidden = true;
  $('dataset-info').textContent =
    `${length.toLocaleString()} samples of ${state.dataset.shape.join(' × ')}, ${state.dataset.classes.length} classes (fixed: ${fix})`;
  await checkQuality(before);
}

/** The dataset list's entry for an uploaded data set (none when `fileName` is absent). */
function renderUploadOption(name, fileName) {
  let option = $('dataset').querySelector(`option[value=${name}]`);
  if (!fileName) {
    option?.remove();
    return;
  }
  if (!option) {
    option = new Option('', name);
    $('dataset').append(option);
  }
  option.textContent = `${UPLOADS[name]}: ${fileName}`;
  $('dataset').value = state.settings.dataset;
}

/** The menu entries of every data set uploaded on an earlier visit. */
async function listUploads() {
  for (const name of Object.keys(UPLOADS)) {
    const record = await getDataset(name).catch(() => null);
    if (record) renderUploadOption(name, record.fileName);
  }
}

/** Stores an upload the worker has already read, and switches to it; a bad one changes nothing. */
async function keepUpload(upload) {
  const info = await engine.request('load', { name: upload.name, upload });
  const notKept = await putDataset(upload).then(
    () => null,
    (err) => err,
  );
  await changeDataset(upload.name, { upload, info });
  if (notKept) showNotice(`Loaded, but not kept for the next visit: ${notKept.message}`);
}

/** Reads a CSV table and loads it. */
async function uploadTable(file) {
  if (file.size > MAX_UPLOAD_BYTES)
    throw new Error(
      `“${file.name}” is ${(file.size / 2 ** 20).toFixed(0)} MB; the limit is ${MAX_UPLOAD_BYTES / 2 ** 20} MB`,
    );
  const label = $('table-label').value.trim();
  await keepUpload({ name: 'table', fileName: file.name, text: await file.text(), label, savedAt: Date.now() });
}

/** Decodes images off the page's thread with a progress bar; files that cannot be used are listed
 * by name and the rest load. */
async function uploadImages({ files, folders }) {
  const total = files.reduce((n, f) => n + f.blob.size, 0);
  if (total > MAX_IMAGE_UPLOAD_BYTES)
    throw new Error(
      `these files are ${(total / 2 ** 20).toFixed(0)} MB together; the limit is ${MAX_IMAGE_UPLOAD_BYTES / 2 ** 20} MB`,
    );
  const progress = $('image-progress');
  const described = $('dataset-info').textContent;
  progress.hidden = false;
  progress.removeAttribute('value');
  showProblems([]);
  const options = {
    size: Number($('image-size').value),
    channels: Number($('image-channels').value),
    fit: $('image-fit').value,
  };
  try {
    const result = await decodeImages({ files, folders }, options, (done, all) => {
      progress.max = all;
      progress.value = done;
      $('dataset-info').textContent = `decoding images: ${done.toLocaleString()} of ${all.toLocaleString()}`;
    });
    showProblems(result.problems);
    const roots = [...new Set(files.map((f) => f.path.split('/')[0]))];
    const fileName = `${result.labels.length.toLocaleString()} images${roots.length === 1 && files.length > 1 ? ` from ${roots[0]}` : ''}`;
    const { pixels, labels, classes, shape } = result;
    await keepUpload({ name: 'images', fileName, pixels, labels, classes, shape, savedAt: Date.now() });
    if (result.problems.length)
      showNotice(
        `Loaded ${labels.length.toLocaleString()} images; ${result.problems.length} file${result.problems.length > 1 ? 's were' : ' was'} left out (listed under “Your own data”).`,
        'info',
      );
  } catch (err) {
    if (err.problems) showProblems(err.problems);
    $('dataset-info').textContent = described;
    throw err;
  } finally {
    progress.hidden = true;
  }
}

/** Forgets the current uploaded data set and goes back to the digits. */
async function deleteUpload() {
  const name = state.settings.dataset;
  if (!(name in UPLOADS)) return;
  await deleteDataset(name);
  renderUploadOption(name, null);
  await changeDataset('digits');
  showNotice(`Deleted ${UPLOADS[name].toLowerCase()} from this browser.`, 'info');
}

/** The feature settings as the next run takes them. */
const currentFeatures = () => featureRequest(state.settings.features, state.dataset);

/** Feature settings changed: say what they give, and rebuild the preset if the shape changed. */
async function changeFeatures(features) {
  state.settings.features = features;
  saveSettings();
  const shape = await describeFeatures();
  if (!shape) return;
  let input = null;
  try {
    input = JSON.parse(state.settings.spec).input;
  } catch {
    // A spec that does not parse is rebuilt below.
  }
  if (JSON.stringify(input) !== JSON.stringify(shape)) await queueSetup(() => applyPreset(state.settings.preset));
}

/** Shows the sample shape (and a table's feature names) the feature settings give; returns the shape. */
async function describeFeatures() {
  if ($('features-editor').hidden) return null;
  try {
    const { transformed } = await engine.request('transformed', { features: currentFeatures() });
    const names = transformed.names.length
      ? `: ${transformed.names.slice(0, 24).join(', ')}${transformed.names.length > 24 ? ', …' : ''}`
      : '';
    $('feature-info').textContent = `The model takes samples of ${transformed.shape.join(' × ')}${names}.`;
    return transformed.shape;
  } catch (err) {
    $('feature-info').textContent = `Feature engineering: ${err.message}`;
    return null;
  }
}

/** Trains the chosen model with and without the feature settings, side by side. */
async function compareWithAndWithout() {
  const request = trainingRequest();
  if (!anyFeatures(request.config.features ?? {}))
    throw new Error('choose a feature transform first: the comparison is with it and without it');
  const plain = featureRequest(
    { impute: state.settings.features.impute, fill: state.settings.features.fill },
    state.dataset,
  );
  const { spec } = await engine.request('preset', { name: state.settings.preset, features: plain });
  const without = { ...request, spec, config: { ...request.config, features: plain } };
  const withSpec = (await engine.request('preset', { name: state.settings.preset, features: request.config.features }))
    .spec;
  $('feature-compare').disabled = true;
  $('feature-compare-result').textContent = 'Training both…';
  try {
    const outcomes = await compareFeatures({ ...request, spec: withSpec }, without, loadedData(), featureChart);
    const said = outcomes.map((o) =>
      o.status === 'fulfilled'
        ? `${(o.value.val_accuracy * 100).toFixed(1)} % after ${o.value.epoch} epochs`
        : `no model (${o.reason.message})`,
    );
    $('feature-compare-result').textContent =
      `Validation accuracy with the features: ${said[0]}; without: ${said[1]}. The ${state.settings.preset} preset both times.`;
    const accuracy = (o) => (o.status === 'fulfilled' ? o.value.val_accuracy : null);
    document.body.dataset.featureCompare = JSON.stringify({
      with: accuracy(outcomes[0]),
      without: accuracy(outcomes[1]),
    });
  } finally {
    $('feature-compare').disabled = false;
  }
}

/** One sequence of each class, and the pad for drawing one (single-feature sequences only). */
function showSequenceExamples(info) {
  const [steps, features] = info.shape;
  $('sequence-examples').replaceChildren(
    ...info.examples.map(({ label, values }) => {
      const canvas = Object.assign(document.createElement('canvas'), { width: 160, height: 60 });
      plotSequence(canvas, values, features);
      const figure = document.createElement('figure');
      figure.append(canvas, Object.assign(document.createElement('figcaption'), { textContent: info.classes[label] }));
      figure.addEventListener('click', () => {
        if (features === 1) wavePad.set(values);
      });
      return figure;
    }),
  );
  $('wave-pad').hidden = features !== 1;
  wavePad.setSteps(steps);
}

/** Reads a CSV of sequences, keeps it in the browser, and loads it; a bad file changes nothing. */
async function uploadSequences(file) {
  if (file.size > MAX_UPLOAD_BYTES)
    throw new Error(
      `“${file.name}” is ${(file.size / 2 ** 20).toFixed(0)} MB; the limit is ${MAX_UPLOAD_BYTES / 2 ** 20} MB`,
    );
  const features = parseNumber($('step-features').value, 'Values per step', true);
  if (features < 1) throw new Error(`values per step must be at least 1, got ${features}`);
  // Parsed by the worker first: a file that does not fit is reported before anything is stored.
  await keepUpload({ name: 'upload', fileName: file.name, text: await file.text(), features, savedAt: Date.now() });
}

/** Starting from the pretrained CNN: its layers, with the output layer resized for this data. */
async function applyStartFrom() {
  const pretrained = state.settings.startFrom === 'pretrained';
  $('start-from-info').textContent = pretrained
    ? 'The layers of a CNN trained on the digits 0–4; the output layer starts fresh for this data, and every layer is fine-tuned. Tick “freeze” on a layer to keep it as pretrained.'
    : '';
  if (!pretrained) return;
  const { spec } = await engine.request('pretrained-spec');
  state.settings.spec = spec;
  const layers = JSON.parse(spec).layers;
  state.settings.layerOptions = layers.map(() => ({}));
  $('spec').value = spec;
  saveSettings();
  await renderSummary();
}

async function applyPreset(name) {
  state.settings.preset = name;
  state.settings.startFrom = 'random';
  $('start-from').value = 'random';
  $('start-from-info').textContent = '';
  const { spec } = await engine.request('preset', { name, features: currentFeatures() });
  state.settings.spec = spec;
  state.settings.layerOptions = [];
  $('spec').value = spec;
  saveSettings();
  await renderSummary();
}

/** The layer editor for the current spec, or (when the JSON does not parse) the reason. */
async function renderSummary() {
  const table = $('summary');
  let summary = null;
  let error = null;
  try {
    ({ summary } = await engine.request('summarize', { spec: state.settings.spec }));
  } catch (err) {
    error = err.message;
  }
  let spec;
  try {
    spec = JSON.parse(state.settings.spec);
  } catch {
    spec = null;
  }
  if (!Array.isArray(spec?.layers) || !Array.isArray(spec?.input)) {
    const cell = Object.assign(document.createElement('td'), { colSpan: 5, textContent: error });
    const tr = Object.assign(document.createElement('tr'), { className: 'error' });
    tr.append(cell);
    table.replaceChildren(tr);
    table.classList.add('invalid');
    return false;
  }
  if (state.settings.layerOptions?.length !== spec.layers.length)
    state.settings.layerOptions = spec.layers.map(() => ({}));
  renderLayerTable(table, spec, summary, error, state.settings.layerOptions, (layers, options) => {
    state.settings.spec = JSON.stringify({ ...spec, layers }, null, 2);
    state.settings.layerOptions = options;
    $('spec').value = state.settings.spec;
    saveSettings();
    renderSummary();
  });
  return summary !== null;
}

/** Frozen layers and per-layer L2 penalties from the layer editor, numbered from 1. */
function layerSettings(l1) {
  const options = state.settings.layerOptions ?? [];
  const frozen = options.flatMap((o, i) => (o?.frozen ? [i + 1] : []));
  const penalties = options.flatMap((o, i) => {
    if (o?.l2 === undefined || o.l2 === '') return [];
    const l2 = Number(o.l2);
    if (!Number.isFinite(l2)) throw new Error(`layer ${i + 1}'s L2 penalty must be a number, got "${o.l2}"`);
    return [{ layer: i + 1, l1, l2 }];
  });
  return { frozen, penalties };
}

/** The training request of the current settings, built from the state (never from the fields). */
function trainingRequest() {
  const s = state.settings;
  const config = {
    epochs: setting('epochs'),
    batch_size: setting('batch'),
    optimizer: optimizerConfig(s.optimizer, setting('lr')),
    seed: setting('seed'),
    l1: setting('l1'),
    l2: setting('l2'),
    schedule: scheduleRequest(),
    warmup_steps: setting('warmup'),
  };
  const { frozen, penalties } = layerSettings(config.l1);
  if (frozen.length) config.frozen = frozen;
  if (penalties.length) config.layer_penalties = penalties;
  const clipNorm = clipLimit('clipNorm');
  const clipValue = clipLimit('clipValue');
  if (clipNorm) config.clip_norm = clipNorm;
  if (clipValue) config.clip_value = clipValue;
  if (s.rebalance) config.rebalance = s.rebalance;
  const features = currentFeatures();
  // A table always goes through its transform: its missing values are filled in.
  if (anyFeatures(features) || state.dataset?.columns?.length) config.features = features;
  if (state.dataset?.shape.length === 3) {
    const augment = augmentRequest();
    if (augment.length) config.augment = augment;
  }
  const patience = setting('patience');
  if (patience > 0) config.early_stopping = { patience, restore_best: true };
  return {
    spec: s.spec,
    config,
    samples: setting('samples'),
    heldOut: setting('heldOut'),
    backend: chosenBackend(),
    startFrom: s.startFrom,
    optimizerName: s.optimizer,
  };
}

/** "Fastest available" is the GPU unless it is missing or a software adapter (slower than the CPU). */
function chosenBackend() {
  const choice = state.settings.device;
  if (choice !== 'auto') return choice;
  return state.gpu.adapter && !state.gpu.software ? 'gpu' : 'cpu';
}

/** Steps per epoch of the training split the current settings give. */
function plannedStepsPerEpoch(request) {
  const samples = Math.min(request.samples, state.dataset?.length ?? request.samples);
  return Math.max(1, Math.ceil((samples - request.heldOut) / request.config.batch_size));
}

let planTimer = 0;
/** Draws the planned learning rate of every step: for the settings as they stand, or (given its
 * steps per epoch) for the run in progress, with the rates and norms its steps have reported. */
function planSchedule(stepsPerEpoch) {
  clearTimeout(planTimer);
  planTimer = setTimeout(
    async () => {
      const info = $('schedule-info');
      try {
        const request = trainingRequest();
        const { config } = request;
        const spe = stepsPerEpoch ?? plannedStepsPerEpoch(request);
        const { rates } = await engine.request('schedule', { config, stepsPerEpoch: spe });
        const xs = Array.from(rates, (_, i) => (i + 1) / spe);
        const seen = stepsPerEpoch ? state.run : { lrs: [], norms: [] };
        lrChart.setColumns([xs, Array.from(rates), xs.map((_, i) => seen.lrs[i] ?? null)], config.epochs);
        normChart.setColumns(
          [xs, xs.map((_, i) => seen.norms[i] ?? null), xs.map(() => config.clip_norm ?? null)],
          config.epochs,
        );
        const low = Math.min(...rates);
        const high = Math.max(...rates);
        info.classList.remove('invalid');
        info.textContent =
          config.schedule.type === 'reduce_on_plateau'
            ? `The rate starts at ${config.optimizer.lr} and is cut when the validation loss stalls; the solid line shows the cuts as they happen.`
            : `Planned: ${rates.length.toLocaleString()} steps (${spe} per epoch), rate between ${low.toPrecision(3)} and ${high.toPrecision(3)}.`;
      } catch (err) {
        info.classList.add('invalid');
        info.textContent = `Learning-rate plan: ${err.message}`;
      }
    },
    stepsPerEpoch ? 0 : 150,
  );
}

/** The last run's validation curves stay on the charts, dashed, while the next run trains. */
function keepForComparison() {
  const last = state.run.history;
  if (!last?.length) return;
  const final = last[last.length - 1];
  const name = `previous run (${state.run.label ?? 'random weights'}): ${(final[4] * 100).toFixed(1)} %`;
  accChart.setReference(
    last.map((r) => [r[0], r[4]]),
    name,
  );
  lossChart.setReference(
    last.map((r) => [r[0], r[3]]),
    name,
  );
  state.previousRun = { label: state.run.label, accuracy: final[4] };
}

/** Puts a search's values into the settings (the fields and the layers) and trains with them. */
async function trainWith(values) {
  const request = applyTrial(trainingRequest(), values);
  const s = state.settings;
  s.spec = request.spec;
  s.lr = String(request.config.optimizer.lr);
  s.batch = request.config.batch_size;
  s.epochs = request.config.epochs;
  s.l2 = String(request.config.l2);
  if (values.optimizer) s.optimizer = values.optimizer;
  saveSettings();
  renderSettings();
  await renderSummary();
  router.go('train');
  await startTraining();
}

async function startTraining() {
  showNotice('');
  const previous = state.run.status;
  setStatus('starting');
  try {
    const request = trainingRequest();
    const started = await engine.request('train', request);
    keepForComparison();
    $('evaluation').hidden = true;
    $('threshold').value = '0.5';
    state.run = {
      status: 'running',
      epochs: request.config.epochs,
      stepsPerEpoch: started.stepsPerEpoch,
      trained: false,
      lrs: [],
      norms: [],
      history: [],
      label: started.taken ? 'pretrained' : 'random weights',
      taken: started.taken,
      split: splitKey(state.settings.dataset, request),
    };
    lossChart.reset(request.config.epochs);
    accChart.reset(request.config.epochs);
    planSchedule(started.stepsPerEpoch);
    $('progress').value = 0;
    for (const id of ['stat-epoch', 'stat-speed', 'stat-loss', 'stat-val-acc']) $(id).textContent = '–';
    $('backend').textContent = `backend: ${started.backend}`;
    setStatus('running');
  } catch (err) {
    setStatus(previous);
    showNotice(err.message, 'error', {
      near: $('train'),
      field: err.field ?? (err.setting && $(SETTINGS[err.setting].control)),
    });
  }
}

function onEvent(e) {
  const run = state.run;
  if (e.type === 'step') {
    const x = e.epoch - 1 + e.step / e.steps_per_epoch;
    $('progress').value = x / run.epochs;
    $('stat-epoch').textContent = `${e.epoch} / ${run.epochs}`;
    renderRunStatus();
    $('stat-speed').textContent = Math.round(e.samples_per_sec).toLocaleString();
    $('stat-loss').textContent = e.loss.toFixed(4);
    lossChart.push(x, [e.loss, null]);
    accChart.push(x, [e.accuracy, null]);
    // The chunk's steps, by index into the run's step grid (which the plan laid out).
    const first = (e.epoch - 1) * e.steps_per_epoch + e.step - e.lrs.length;
    e.lrs.forEach((lr, i) => {
      run.lrs[first + i] = lr;
      run.norms[first + i] = e.grad_norms[i];
      if (first + i < lrChart.columns[2].length) {
        lrChart.columns[2][first + i] = lr;
        normChart.columns[1][first + i] = e.grad_norms[i];
      }
    });
    lrChart.update();
    normChart.update();
  } else if (e.type === 'epoch') {
    lossChart.push(e.epoch, [null, e.val_loss]);
    accChart.push(e.epoch, [null, e.val_accuracy]);
    $('stat-val-acc').textContent = `${(e.val_accuracy * 100).toFixed(1)} %`;
    run.trained = true;
    const lr = run.lrs[e.epoch * run.stepsPerEpoch - 1];
    run.history.push([
      e.epoch,
      e.train_loss,
      e.train_accuracy,
      e.val_loss,
      e.val_accuracy,
      lr ?? '',
      e.seconds.toFixed(3),
    ]);
    renderModelButtons();
    refreshPrediction();
  } else if (e.type === 'early_stop') {
    run.earlyStop = e;
    for (const chart of [lossChart, accChart]) {
      chart.mark(e.best_epoch, `best: epoch ${e.best_epoch}`, '#059669');
      chart.mark(e.epoch, `stopped: epoch ${e.epoch}`, '#dc2626');
    }
    $('stat-val-acc').textContent = `${(e.best_val_accuracy * 100).toFixed(1)} %`;
    refreshPrediction();
  }
}

function renderDevices() {
  const { adapter, error } = state.gpu;
  const option = $('device').querySelector('option[value="gpu"]');
  if (adapter) {
    option.textContent = `GPU (WebGPU: ${adapter})`;
    $('backend').textContent = `backend: ${chosenBackend() === 'gpu' ? `WebGPU, ${adapter}` : 'CPU'}`;
    $('device-info').textContent = state.gpu.software
      ? `This browser's WebGPU runs on the processor, not on a graphics card (a software adapter: “${adapter}”), so it is slower than the CPU backend, and “Fastest available” trains on the CPU. Choose “GPU” to use it anyway.`
      : '';
    $('backend').title = $('device-info').textContent || 'Where training runs';
  } else {
    gpuUnavailable(`WebGPU is not available here (${error}); training runs on the CPU.`);
  }
}

function gpuUnavailable(reason) {
  const option = $('device').querySelector('option[value="gpu"]');
  option.disabled = true;
  option.textContent = 'GPU (WebGPU: unavailable)';
  state.gpu.adapter = null;
  if ($('device').value === 'gpu') {
    $('device').value = 'auto';
    state.settings.device = 'auto';
  }
  $('backend').textContent = 'backend: CPU';
  $('device-info').textContent = reason;
  showNotice(reason, 'info');
}

function onProgress(msg) {
  switch (msg.type) {
    case 'ready':
      state.gpu = { adapter: msg.gpu, software: msg.software, error: msg.gpuError };
      renderDevices();
      break;
    case 'backend_changed':
      state.run.fellBack = true;
      gpuUnavailable(msg.reason);
      $('backend').textContent = `backend: ${msg.backend}`;
      break;
    case 'events':
      for (const e of msg.events) {
        if (e.type === 'backend_changed') onProgress(e);
        else onEvent(e);
      }
      break;
    case 'finished': {
      setStatus('done');
      refreshReport();
      const stop = state.run.earlyStop;
      const early = stop
        ? ` early at epoch ${stop.epoch}: the validation loss had not improved since epoch ${stop.best_epoch}, whose weights the model has again (validation accuracy ${(stop.best_val_accuracy * 100).toFixed(1)} %)`
        : '';
      const run = state.run;
      const transfer = run.taken
        ? ` It started from the pretrained CNN (layers ${run.taken.join(', ')} taken, a fresh output layer).`
        : '';
      const previous = state.previousRun
        ? ` The previous run (${state.previousRun.label}) reached ${(state.previousRun.accuracy * 100).toFixed(1)} %, dashed on the charts.`
        : '';
      showNotice(
        `Training finished${early}${run.fellBack ? ' on the CPU, after the GPU was lost' : ''}.${transfer}${previous} Draw on the pad under Start, or see the evaluation under Evaluate.`,
        'info',
      );
      break;
    }
    case 'stopped':
      setStatus('stopped');
      if (state.run.trained) refreshReport();
      showNotice('Training stopped. The model keeps the weights it had reached.', 'info');
      break;
    case 'run-error': {
      state.run.trained = false;
      setStatus('error');
      // A table's raw numbers are the usual cause of a diverging run on one.
      const unscaled =
        /diverged/.test(msg.message) &&
        state.dataset?.columns?.length &&
        (state.settings.features.scale ?? 'none') === 'none';
      showNotice(
        unscaled
          ? `${msg.message} This table's numbers are not scaled: standardise them under “Feature engineering”.`
          : msg.message,
      );
      break;
    }
  }
}

let lastReport = null;
let thresholdTimer = 0;
const fixed = (v) => (v == null || Number.isNaN(v) ? '–' : v.toFixed(3));

/** The confusion matrix as a heat map (shade: the share of the true class), and the metrics. */
function renderReport(report) {
  lastReport = report;
  const classes = state.dataset.classes;
  $('threshold-row').hidden = classes.length !== 2;
  $('threshold-class').textContent = classes[1];
  const share = $('normalise').checked;
  const cell = (tag, text, style = '') => Object.assign(document.createElement(tag), { textContent: text, style });
  const caption = Object.assign(document.createElement('caption'), {
    textContent: 'rows: true class · columns: predicted',
  });
  const head = document.createElement('tr');
  head.append(cell('th', ''), ...classes.map((c) => cell('th', c)));
  const rows = report.confusion.map((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    const tr = document.createElement('tr');
    tr.append(
      cell('th', classes[t]),
      ...row.map((count, p) => {
        const f = total ? count / total : 0;
        const colour = t === p ? '5, 150, 105' : '220, 38, 38';
        const td = cell(
          'td',
          share ? `${Math.round(f * 100)}` : String(count),
          `background: rgba(${colour}, ${(0.08 + 0.92 * f).toFixed(3)}); color: ${f > 0.5 ? '#fff' : 'inherit'}`,
        );
        td.title = `true ${classes[t]}, predicted ${classes[p]}: ${count} of ${total} (click for the samples)`;
        td.dataset.cell = `${t},${p}`;
        td.addEventListener('click', () => showExamples(t, p));
        return td;
      }),
    );
    return tr;
  });
  $('confusion').replaceChildren(caption, head, ...rows);
  const pct = (v) => `${(v * 100).toFixed(1)} %`;
  const line = (name, value) => {
    const tr = document.createElement('tr');
    tr.append(cell('td', name), cell('td', value));
    return tr;
  };
  $('metrics').replaceChildren(
    line('Accuracy', pct(report.accuracy)),
    line('Balanced accuracy', pct(report.balanced_accuracy)),
    line(
      'F1, macro / weighted / micro',
      `${report.macro_avg.f1.toFixed(3)} / ${report.weighted_avg.f1.toFixed(3)} / ${report.micro_avg.f1.toFixed(3)}`,
    ),
    line("Cohen's κ", report.kappa.toFixed(3)),
    line('Log-loss', report.log_loss.toFixed(4)),
    line('ROC AUC, macro / micro', `${fixed(report.ranking.roc_auc_macro)} / ${fixed(report.ranking.roc_auc_micro)}`),
    line(
      'Average precision, macro / micro',
      `${fixed(report.ranking.average_precision_macro)} / ${fixed(report.ranking.average_precision_micro)}`,
    ),
    line('Calibration error (ECE)', report.calibration.ece.toFixed(3)),
  );
  const perClassHead = document.createElement('tr');
  perClassHead.append(...['class', 'precision', 'recall', 'F1', 'AUC', 'support'].map((h) => cell('th', h)));
  $('per-class').replaceChildren(
    perClassHead,
    ...classes.map((c, k) => {
      const tr = document.createElement('tr');
      const name = cell('td', c, `color: ${colourOf(k)}; font-weight: 600`);
      tr.append(
        name,
        cell('td', report.precision[k].toFixed(3)),
        cell('td', report.recall[k].toFixed(3)),
        cell('td', report.f1[k].toFixed(3)),
        cell('td', fixed(report.ranking.roc[k]?.area)),
        cell('td', String(report.support[k])),
      );
      return tr;
    }),
  );
  // A binary task's curves are those of its second class; otherwise one per class.
  const shown = classes.length === 2 ? [1] : classes.map((_, k) => k);
  const curves = (key) =>
    shown.flatMap((k) => (report.ranking[key][k] ? [{ ...report.ranking[key][k], colour: colourOf(k) }] : []));
  plotUnitCurves($('roc'), curves('roc'), {
    title: 'ROC',
    xLabel: 'false-positive rate',
    yLabel: 'true-positive rate',
    diagonal: true,
  });
  plotUnitCurves($('pr'), curves('pr'), { title: 'Precision-recall', xLabel: 'recall', yLabel: 'precision' });
  const cal = report.calibration;
  plotUnitCurves($('reliability'), [{ x: cal.confidence, y: cal.accuracy, colour: '#2563eb' }], {
    title: `Reliability (ECE ${cal.ece.toFixed(3)})`,
    xLabel: 'confidence',
    yLabel: 'accuracy',
    diagonal: true,
    points: true,
  });
  $('evaluation').hidden = false;
}

const GALLERY_LIMIT = 24;

/** The held-out samples of a confusion-matrix cell, or (no cell) the most confident mistakes. */
async function showExamples(trueClass, predicted) {
  const classes = state.dataset.classes;
  try {
    const { examples, features } = await engine.request('examples', {
      threshold: classes.length === 2 ? Number($('threshold').value) : undefined,
      trueClass,
      predicted,
      limit: GALLERY_LIMIT,
    });
    const cell = trueClass !== undefined;
    for (const td of document.querySelectorAll('#confusion td'))
      td.classList.toggle('chosen', cell && td.dataset.cell === `${trueClass},${predicted}`);
    $('gallery-title').textContent = cell
      ? `True ${classes[trueClass]}, predicted ${classes[predicted]}: ${examples.length ? `the ${examples.length} most confident` : 'none'}.`
      : examples.length
        ? `The ${examples.length} most confident mistakes (click a cell for its samples):`
        : 'No mistakes on the held-out split.';
    const shape = state.dataset.shape;
    const width = shape.reduce((a, b) => a * b, 1);
    $('gallery').replaceChildren(
      ...examples.map((e, i) => {
        const values = features.subarray(i * width, (i + 1) * width);
        const figure = sampleFigure(
          values,
          shape,
          `${classes[e.label]}→${classes[e.predicted]} ${Math.round(e.confidence * 100)}%`,
        );
        figure.dataset.label = e.label;
        figure.dataset.predicted = e.predicted;
        return figure;
      }),
    );
  } catch (err) {
    showNotice(err.message);
  }
}

async function refreshReport() {
  try {
    const binary = state.dataset.classes.length === 2;
    $('threshold-value').textContent = Number($('threshold').value).toFixed(2);
    const { report } = await engine.request('report', { threshold: binary ? Number($('threshold').value) : undefined });
    renderReport(report);
    await showExamples();
  } catch (err) {
    showNotice(err.message);
  }
}

function renderProbabilities(probs, classes) {
  const best = probs.indexOf(Math.max(...probs));
  $('probs').replaceChildren(
    ...classes.map((name, k) => {
      const li = document.createElement('li');
      li.className = k === best ? 'best' : '';
      li.innerHTML = '<span class="name"></span><span class="bar"><span></span></span><span class="value"></span>';
      li.querySelector('.name').textContent = name;
      li.querySelector('.bar span').style.width = `${(probs[k] * 100).toFixed(1)}%`;
      li.querySelector('.value').textContent = `${(probs[k] * 100).toFixed(1)} %`;
      return li;
    }),
  );
  $('probs').dataset.prediction = classes[best];
}

async function predictSequence(values) {
  if (!state.run.trained) {
    showNotice('Train a model first (at least one epoch), then draw or pick a sequence.', 'info');
    return;
  }
  try {
    const { probs } = await engine.request('predict', { features: Float32Array.from(values) });
    renderProbabilities(Array.from(probs), state.dataset.classes);
  } catch (err) {
    showNotice(err.message);
  }
}

async function predictDrawing(pixels) {
  if (!pixels || !isDigits(state.dataset?.name)) return;
  if (!state.run.trained) {
    showNotice('Train a model first (at least one epoch), then draw.', 'info');
    return;
  }
  try {
    const { probs } = await engine.request('predict', { features: pixels });
    renderProbabilities(Array.from(probs), state.dataset.classes);
  } catch (err) {
    showNotice(err.message);
  }
}

async function refreshPrediction() {
  const info = state.dataset;
  if (isDigits(info.name)) {
    if (!pad.empty) predictDrawing(pad.pixels());
    return;
  }
  if (info.shape.length === 2) {
    if (wavePad.complete) predictSequence(wavePad.values);
    return;
  }
  // 2-D points: the decision regions. Other data is tried in the evaluation panel.
  if (!info.points) return;
  const { probs } = await engine.request('predict', { features: gridFeatures() });
  drawRegions($('boundary'), probs, info.classes.length, info.points, info.labels);
}

const HISTORY_COLUMNS = ['epoch', 'train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'lr', 'seconds'];

function historyCsv() {
  return `${[HISTORY_COLUMNS, ...state.run.history].map((row) => row.join(',')).join('\n')}\n`;
}

/** "circle · toy · 98.7 % · 2026-11-28 02:30:05": what the saved-models list shows. */
function modelName() {
  const s = state.settings;
  const acc = $('stat-val-acc').textContent;
  const when = new Date().toISOString().slice(0, 19).replace('T', ' ');
  return `${s.dataset} · ${$('preset').value || 'custom'} · ${acc} · ${when}`;
}

async function savedModelBytes() {
  const { bytes } = await engine.request('save-model', { history: historyCsv() });
  return bytes;
}

async function renderSavedModels() {
  let models;
  try {
    models = await listModels();
  } catch (err) {
    $('saved-models').replaceChildren();
    showNotice(err.message);
    return;
  }
  $('saved-models').replaceChildren(
    ...models.map((m) => {
      const li = document.createElement('li');
      const name = Object.assign(document.createElement('span'), { className: 'name', textContent: m.name });
      const load = Object.assign(document.createElement('button'), { textContent: 'Load' });
      const remove = Object.assign(document.createElement('button'), { textContent: 'Delete' });
      const pick = Object.assign(document.createElement('input'), {
        type: 'checkbox',
        className: 'ensemble-pick',
        title: 'An ensemble member (see Ensembles)',
      });
      pick.dataset.name = m.name;
      load.addEventListener('click', async () => loadModel(new Uint8Array((await getModel(m.name)).bytes), m.name));
      remove.addEventListener('click', async () => {
        await deleteModel(m.name);
        renderSavedModels();
      });
      li.append(pick, name, load, remove);
      return li;
    }),
  );
}

/** The loss and accuracy curves a model file carries (its history CSV), in place of the last run's. */
function showFileHistory(csv) {
  const rows = (csv ?? '')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map(Number))
    .filter((r) => r.length === HISTORY_COLUMNS.length);
  lossChart.reset(Math.max(rows.length, 1));
  accChart.reset(Math.max(rows.length, 1));
  for (const [epoch, trainLoss, trainAcc, valLoss, valAcc] of rows) {
    lossChart.push(epoch, [trainLoss, valLoss]);
    accChart.push(epoch, [trainAcc, valAcc]);
  }
  for (const id of ['stat-epoch', 'stat-speed', 'stat-loss']) $(id).textContent = '–';
  $('progress').value = 0;
  planSchedule();
}

/** Makes a model file the current model, if it fits the data; says how it does on the held-out split. */
async function loadModel(bytes, label) {
  showNotice('');
  try {
    const request = trainingRequest();
    const loaded = await engine.request('load-model', {
      bytes,
      config: request.config,
      samples: request.samples,
      heldOut: request.heldOut,
      backend: request.backend,
    });
    state.settings.spec = loaded.spec;
    $('spec').value = loaded.spec;
    saveSettings();
    await renderSummary();
    state.run = { status: 'idle', epochs: 0, stepsPerEpoch: 0, trained: true, lrs: [], norms: [], history: [] };
    setStatus('idle');
    showFileHistory(loaded.history);
    refreshReport();
    const acc = (loaded.evaluation.accuracy * 100).toFixed(1);
    $('stat-val-acc').textContent = `${acc} %`;
    document.body.dataset.loadedModel = label;
    showNotice(
      `Loaded “${label}”: ${acc} % validation accuracy on this data's held-out split. Try it under Start or Evaluate; Train starts a new run from scratch.`,
      'info',
    );
    refreshPrediction();
  } catch (err) {
    showNotice(`Could not load “${label}”: ${err.message}`);
  }
}

let setupQueue = Promise.resolve();
let setupsPending = 0;
/** Data and model changes run one after another, so that a choice made while an earlier one (or
 * the first load) is still loading never mixes one data set with another's model. The body's
 * `data-setup` is "ready" when none is left. */
function queueSetup(task) {
  setupsPending++;
  document.body.dataset.setup = 'busy';
  const next = setupQueue.then(task).finally(() => {
    if (--setupsPending === 0) document.body.dataset.setup = 'ready';
  });
  setupQueue = next.catch(() => {});
  return next;
}

/** Switches to data set `name` (with `loaded`, an upload already in the engine: see loadDataset). */
async function changeDataset(name, loaded) {
  const s = state.settings;
  const familyChanged = family(name) !== family(s.dataset);
  s.dataset = name;
  if (familyChanged) Object.assign(s, DEFAULTS[family(name)]);
  renderSettings();
  await loadDataset(name, loaded);
  if (name in UPLOADS) {
    // Every row of the user's file, a fifth of them held out.
    s.samples = state.dataset.length;
    s.heldOut = Math.max(1, Math.round(state.dataset.length / 5));
    renderSettings();
  }
  await applyPreset(s.preset);
  planSchedule();
}

function wire() {
  $('dataset').addEventListener('change', (e) =>
    queueSetup(() => changeDataset(e.target.value)).catch((err) => showNotice(err.message)),
  );
  $('quality-check').addEventListener('click', () => checkQuality().catch((err) => showNotice(err.message)));
  $('bias').addEventListener('change', () => {
    state.settings.bias = $('bias').value;
    saveSettings();
    queueSetup(() => loadDataset('shapes')).catch((err) => showNotice(err.message));
  });
  $('preset').addEventListener('change', (e) =>
    queueSetup(() => applyPreset(e.target.value)).catch((err) => showNotice(err.message)),
  );
  $('start-from').addEventListener('change', (e) => {
    state.settings.startFrom = e.target.value;
    saveSettings();
    queueSetup(applyStartFrom).catch((err) => showNotice(err.message));
  });
  $('spec').addEventListener('input', (e) => {
    state.settings.spec = e.target.value;
    saveSettings();
    renderSummary();
  });
  for (const name of FIELDS) {
    $(SETTINGS[name].control).addEventListener('input', (e) => {
      state.settings[name] = e.target.value;
      saveSettings();
      if (name === 'schedule') renderScheduleParams();
      if (PLAN_SETTINGS.includes(name)) planSchedule();
    });
  }
  $('train').addEventListener('click', startTraining);
  document.addEventListener('keydown', shortcuts);
  $('pause').addEventListener('click', async () => {
    const { state: s } = await engine.request(state.run.status === 'paused' ? 'resume' : 'pause');
    setStatus(s === 'paused' ? 'paused' : 'running');
  });
  $('stop').addEventListener('click', () => engine.request('stop'));
  $('download-model').addEventListener('click', async () => {
    try {
      download(await savedModelBytes(), `whetstone-${state.settings.dataset}.safetensors`, 'application/octet-stream');
    } catch (err) {
      showNotice(err.message);
    }
  });
  $('store-model').addEventListener('click', async () => {
    try {
      const name = modelName();
      await putModel({ name, savedAt: Date.now(), bytes: (await savedModelBytes()).buffer });
      await renderSavedModels();
      showNotice(`Saved “${name}” in this browser.`, 'info');
    } catch (err) {
      showNotice(err.message);
    }
  });
  $('normalise').addEventListener('change', () => {
    if (lastReport) renderReport(lastReport);
  });
  $('threshold').addEventListener('input', () => {
    $('threshold-value').textContent = Number($('threshold').value).toFixed(2);
    clearTimeout(thresholdTimer);
    thresholdTimer = setTimeout(refreshReport, 30);
  });
  $('export-onnx').addEventListener('click', async () => {
    try {
      const { bytes } = await engine.request('export-onnx');
      download(bytes, `whetstone-${state.settings.dataset}.onnx`, 'application/octet-stream');
    } catch (err) {
      showNotice(err.message);
    }
  });
  $('export-history').addEventListener('click', () =>
    download(historyCsv(), `whetstone-${state.settings.dataset}-history.csv`, 'text/csv'),
  );
  $('model-file').addEventListener('change', async (e) => {
    const [file] = e.target.files;
    e.target.value = '';
    if (file) await loadModel(new Uint8Array(await file.arrayBuffer()), file.name);
  });
  $('clear').addEventListener('click', () => {
    pad.clear();
    $('probs').replaceChildren();
    delete $('probs').dataset.prediction;
  });
  $('clear-wave').addEventListener('click', () => {
    wavePad.clear();
    $('probs').replaceChildren();
    delete $('probs').dataset.prediction;
  });
  const uploading = async (what, task) => {
    const previous = state.settings.dataset;
    try {
      await queueSetup(task);
    } catch (err) {
      $('dataset').value = previous;
      showNotice(`Could not load ${what}: ${err.message}`);
    }
  };
  $('table-file').addEventListener('change', async (e) => {
    const [file] = e.target.files;
    e.target.value = '';
    if (file) await uploading(`“${file.name}”`, () => uploadTable(file));
  });
  for (const id of ['image-folder', 'image-files']) {
    $(id).addEventListener('change', async (e) => {
      const files = filesFromInput(e.target.files);
      e.target.value = '';
      if (files.length) await uploading('the images', () => uploadImages({ files, folders: [] }));
    });
  }
  const drop = $('image-drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (['starting', 'running', 'paused'].includes(state.run.status))
      return showNotice('stop the run before loading other data');
    const dropped = await filesFromDrop(e.dataTransfer);
    await uploading('the dropped files', () => uploadImages(dropped));
  });
  $('export-project').addEventListener('click', async () => {
    try {
      download(new TextEncoder().encode(await exportProject()), 'whetstone-project.json', 'application/json');
    } catch (err) {
      showNotice(`The project could not be exported: ${err.message}`);
    }
  });
  $('project-file').addEventListener('change', async (e) => {
    const [file] = e.target.files;
    e.target.value = '';
    if (!file) return;
    try {
      const { models, datasets } = await importProject(await file.text());
      sessionStorage.setItem(
        'whetstone.imported',
        `Imported “${file.name}”: ${models} saved models, ${datasets} uploaded data sets, and its settings.`,
      );
      location.reload();
    } catch (err) {
      showNotice(`Could not import “${file.name}”: ${err.message}`);
    }
  });
  $('copy-link').addEventListener('click', async () => {
    const link = settingsLink(state.settings);
    const field = $('settings-link');
    field.value = link;
    field.hidden = false;
    field.select();
    await navigator.clipboard?.writeText(link).catch(() => {});
    showNotice(
      'A link to these settings is below the buttons (and on the clipboard where the browser allows).',
      'info',
    );
  });
  $('delete-upload').addEventListener('click', () => queueSetup(deleteUpload).catch((err) => showNotice(err.message)));
  $('feature-compare').addEventListener('click', () =>
    compareWithAndWithout().catch((err) => {
      $('feature-compare-result').textContent = '';
      showNotice(err.message);
    }),
  );
  $('sequence-file').addEventListener('change', async (e) => {
    const [file] = e.target.files;
    e.target.value = '';
    if (file) await uploading(`“${file.name}”`, () => uploadSequences(file));
  });
}

/** A settings link opened in a tab that already shows the page: its settings apply at once. */
function openLink(hash) {
  let linked;
  try {
    linked = settingsFromLink(hash);
  } catch (err) {
    showNotice(err.message);
    return;
  }
  if (['starting', 'running', 'paused'].includes(state.run.status)) {
    showNotice('A link with settings was opened while a run trains: stop the run, then open the link again.');
    return;
  }
  const aside = adopt(linked, 'the link');
  saveSettings();
  renderSettings();
  renderAugment();
  queueSetup(async () => {
    await loadDataset(state.settings.dataset);
    if (state.settings.spec) await renderSummary();
    else await applyPreset(state.settings.preset);
    planSchedule();
    showNotice(`Opened with the settings of the link.${aside}`, 'info');
  }).catch((err) => showNotice(err.message));
}

/** Train, Pause and Stop from the keyboard (T, P, S), except while typing in a field. */
function shortcuts(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest?.('input, textarea, select, [contenteditable]')) return;
  const button = { t: 'train', p: 'pause', s: 'stop' }[e.key.toLowerCase()];
  if (!button || $(button).disabled) return;
  e.preventDefault();
  $(button).click();
}

/**
 * Takes settings read from outside (`source` names where from) into the state, through the state
 * table: what does not fit keeps its current value. Returns what was set aside, or ''.
 */
function adopt(raw, source) {
  const { settings, problems } = validate(raw);
  const known = [...$('dataset').options].map((o) => o.value).concat(Object.keys(UPLOADS));
  if ('dataset' in settings && !known.includes(settings.dataset)) {
    problems.push(`no data set is called “${settings.dataset}”`);
    delete settings.dataset;
  }
  Object.assign(state.settings, settings);
  return problems.length ? ` Set aside from ${source}: ${problems.join('; ')}.` : '';
}

async function main() {
  let opened = null;
  try {
    const aside = adopt(JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}'), 'the saved settings');
    if (aside) opened = [aside.trim(), 'info'];
  } catch {
    localStorage.removeItem(SETTINGS_KEY);
  }
  // A link's settings win over the saved ones, once: the link is then taken off the address. What
  // happened is said once the page has loaded (after the backend's own notice).
  try {
    const linked = settingsFromLink(location.hash);
    if (linked) {
      const aside = adopt(linked, 'the link');
      history.replaceState(null, '', `${location.pathname}${location.search}#/`);
      opened = [`Opened with the settings of the link.${aside}`, 'info'];
    }
  } catch (err) {
    opened = [err.message, 'error'];
  }
  saveSettings();
  renderSettings();
  renderAugment();
  wire();
  router.apply();
  setStatus('idle');
  renderSavedModels();
  await listUploads();
  await queueSetup(async () => {
    try {
      await loadDataset(state.settings.dataset);
    } catch (err) {
      // Only an upload can go missing (storage cleared); the built-in digits take its place.
      if (!(state.settings.dataset in UPLOADS)) throw err;
      await changeDataset('digits');
      showNotice(`The uploaded data could not be reloaded (${err.message}); showing the digits instead.`);
      return;
    }
    if (state.settings.spec) await renderSummary();
    else await applyPreset(state.settings.preset);
    planSchedule();
  }).catch((err) => showNotice(err.message));
  await deployment.restore().catch((err) => showNotice(`The deployed model could not be restored: ${err.message}`));
  const imported = sessionStorage.getItem('whetstone.imported');
  if (imported) {
    sessionStorage.removeItem('whetstone.imported');
    opened = [imported, 'info'];
  }
  if (opened) showNotice(...opened);
}

main();
