// The page: builds the state, the engine and one panel per part of the workflow, tells each panel
// what the others did, and routes between the views. Panels are handed what they need (`app`: the
// engine, the state, `notify`, `save`, `queue`, `request`, `data`) and their hooks; none reaches
// for another's globals.
import { Engine } from './engine/engine.js';
import { AugmentPanel } from './panels/augment.js';
import { DataPanel } from './panels/data.js';
import { Deployment } from './panels/deploy.js';
import { Ensembler } from './panels/ensembles.js';
import { EvaluatePanel } from './panels/evaluate.js';
import { FeaturesPanel } from './panels/features.js';
import { Lessons } from './panels/lessons.js';
import { ModelPanel } from './panels/model.js';
import { QualityPanel } from './panels/quality.js';
import { RunPanel, isBusy } from './panels/run.js';
import { SharePanel } from './panels/share.js';
import { TrainPanel } from './panels/train.js';
import { TryPanel } from './panels/try.js';
import { Tuner } from './panels/tune.js';
import { UploadPanel } from './panels/uploads.js';
import { UPLOADS } from './state/datasets.js';
import { adopt, createState, loadedData, restoreSettings, saveSettings } from './state/page.js';
import { settingsFromLink } from './state/project.js';
import { applyTrial, trainingRequest } from './state/request.js';
import { $ } from './ui/dom.js';
import { Notices } from './ui/notice.js';
import { Router, parseRoute } from './ui/router.js';

const state = createState();
const notices = new Notices();
const notify = (message, kind = 'error', where = {}) => notices.show(message, kind, where);

let setupQueue = Promise.resolve();
let setupsPending = 0;
/** Data and model changes run one after another, so that a choice made while an earlier one (or
 * the first load) is still loading never mixes one data set with another's model. The body's
 * `data-setup` is "ready" when none is left. */
function queue(task) {
  setupsPending++;
  document.body.dataset.setup = 'busy';
  const next = setupQueue.then(task).finally(() => {
    if (--setupsPending === 0) document.body.dataset.setup = 'ready';
  });
  setupQueue = next.catch(() => {});
  return next;
}

const engine = new Engine((msg) => run.progress(msg));
const app = {
  engine,
  state,
  notify,
  queue,
  save: () => saveSettings(state),
  request: () => trainingRequest(state),
  data: () => loadedData(state),
};

/** The header's data set and model. */
function renderHeader() {
  const label = (select) => select.selectedOptions[0]?.textContent.replace(/ \(.*\)$/, '');
  $('status-data').textContent = label($('dataset')) ?? state.settings.dataset;
  $('status-model').textContent =
    state.settings.startFrom === 'pretrained' ? 'pretrained CNN' : (label($('preset')) ?? 'custom model');
}

function renderSettings() {
  data.render();
  model.render();
  train.render();
}

const train = new TrainPanel(app);
const evaluate = new EvaluatePanel(app);
const tryIt = new TryPanel(app);
const augment = new AugmentPanel(app);
const model = new ModelPanel(app, { changed: renderHeader });
const features = new FeaturesPanel(app, { reshaped: () => model.applyPreset(state.settings.preset) });
const data = new DataPanel(app, {
  loaded: (info) => {
    features.render();
    evaluate.hide();
    tryIt.showData(info);
    train.showData(info);
    augment.showData(info);
    quality.reset();
    renderHeader();
  },
  settingsChanged: renderSettings,
  modelFor: async () => {
    await model.applyPreset(state.settings.preset);
    train.plan();
  },
});
const uploads = new UploadPanel(app, data);
const quality = new QualityPanel(app, {
  settingsChanged: renderSettings,
  featuresChanged: () => features.render(true),
  reshaped: async () => {
    features.render();
    await model.applyPreset(state.settings.preset);
  },
  fixed: (note) => {
    data.show(note);
    evaluate.hide();
  },
});
const share = new SharePanel(app, {
  modelLoaded: async (loaded) => {
    state.settings.spec = loaded.spec;
    app.save();
    model.render();
    await model.renderSummary();
    state.run = { status: 'idle', epochs: 0, stepsPerEpoch: 0, trained: true, lrs: [], norms: [], history: [] };
    run.setStatus('idle');
    run.showHistory(loaded.history, loaded.evaluation.accuracy);
    train.plan();
    evaluate.refresh();
    tryIt.refresh();
  },
});
const run = new RunPanel(app, {
  request: app.request,
  status: (_, busy) => {
    for (const panel of [data, model, uploads, features]) panel.lock(busy);
    share.renderButtons();
  },
  started: (stepsPerEpoch) => {
    evaluate.reset();
    train.plan(stepsPerEpoch);
  },
  steps: (first, e) => train.steps(first, e),
  epoch: () => {
    share.renderButtons();
    tryIt.refresh();
  },
  ended: (trained) => trained && evaluate.refresh(),
});

/** Puts a search's values into the settings (the fields and the layers) and trains with them. */
async function trainWith(values) {
  const request = applyTrial(app.request(), values);
  const s = state.settings;
  Object.assign(s, { spec: request.spec, lr: String(request.config.optimizer.lr), l2: String(request.config.l2) });
  Object.assign(s, { batch: request.config.batch_size, epochs: request.config.epochs });
  if (values.optimizer) s.optimizer = values.optimizer;
  app.save();
  renderSettings();
  await model.renderSummary();
  router.go('train');
  await run.start();
}

const tuner = new Tuner(engine, {
  base: app.request,
  dataset: app.data,
  useDataset: (name) => queue(() => data.change(name)),
  trainBest: (values) => trainWith(values).catch((err) => notify(err.message)),
  notify,
});
const ensembler = new Ensembler(engine, {
  request: app.request,
  dataset: app.data,
  runSplit: () => state.run.split,
  shape: () => state.dataset.shape,
  workers: () => tuner.workers(),
  bestTrials: (count) => tuner.bestTrials(count),
  savedModels: () => share.picked(),
  notify,
});
const deployment = new Deployment({
  main: engine,
  dataset: app.data,
  info: () => state.dataset,
  request: app.request,
  drawing: () => tryIt.drawing(),
  notify,
});
const lessons = new Lessons({ notify });

/** Loads the data and the model the settings name (the saved digits when an upload has gone). */
async function setUp() {
  try {
    await data.load(state.settings.dataset);
  } catch (err) {
    if (!(state.settings.dataset in UPLOADS)) throw err;
    await data.change('digits');
    notify(`The uploaded data could not be reloaded (${err.message}); showing the digits instead.`);
    return;
  }
  if (state.settings.spec) await model.renderSummary();
  else await model.applyPreset(state.settings.preset);
  train.plan();
}

/** The settings a link carries, taken in through the settings table; returns what to say (a
 * damaged link throws, and changes nothing). */
function takeLink(hash) {
  const aside = adopt(state, settingsFromLink(hash), 'the link', data.known());
  app.save();
  return `Opened with the settings of the link.${aside}`;
}

/** A settings link opened in a tab that already shows the page: its settings apply at once. */
function openLink(hash) {
  if (isBusy(state.run.status)) {
    notify('A link with settings was opened while a run trains: stop the run, then open the link again.');
    return;
  }
  let said;
  try {
    said = takeLink(hash);
  } catch (err) {
    notify(err.message);
    return;
  }
  renderSettings();
  augment.render();
  queue(setUp)
    .then(() => notify(said, 'info'))
    .catch((err) => notify(err.message));
}

const router = new Router({
  view: (view, param) => view === 'lessons' && lessons.present(param),
  settings: openLink,
  unknown: (view) => notify(`This address names no view (“${view}”); the start view is shown instead.`, 'info'),
});

// For the browser console and the end-to-end tests.
globalThis.whetstone = { engine, state, tuner, ensembler, deployment, lessons, router };
globalThis.whetstone.charts = { lr: train.rates, norm: train.norms, loss: run.loss, acc: run.accuracy };

async function main() {
  const aside = restoreSettings(state, data.known());
  let opened = aside ? [aside.trim(), 'info'] : null;
  // A link's settings win over the saved ones; the link is then taken off the address.
  if (parseRoute(location.hash).settings) {
    try {
      opened = [takeLink(location.hash), 'info'];
    } catch (err) {
      opened = [err.message, 'error'];
    }
    history.replaceState(null, '', `${location.pathname}${location.search}#/`);
  }
  app.save();
  renderSettings();
  augment.render();
  router.apply();
  run.setStatus('idle');
  share.renderSaved();
  await data.listUploads();
  await queue(setUp).catch((err) => notify(err.message));
  await deployment.restore().catch((err) => notify(`The deployed model could not be restored: ${err.message}`));
  const imported = sessionStorage.getItem('whetstone.imported');
  if (imported) {
    sessionStorage.removeItem('whetstone.imported');
    opened = [imported, 'info'];
  }
  if (opened) notify(...opened);
}

main();
