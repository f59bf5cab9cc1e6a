// The page: builds the state, the engine and one panel per part of the workflow, tells each panel
// what the others did, and routes between the views. Panels are handed what they need (`app`: the
// engine, the state, `notify`, `save`, `guard`, `queue`, `request`, `data`) and their hooks; none reaches
// for another's globals. Cross-origin isolation comes first: it may reload the page before anything
// starts.
import './isolation.js';
import { Engine } from './engine/engine.js';
import { onChange } from './engine/store.js';
import { taskQueue } from './engine/queue.js';
import { AugmentPanel } from './panels/augment.js';
import { DataPanel } from './panels/data.js';
import { Deployment } from './panels/deploy.js';
import { Ensembler } from './panels/ensembles.js';
import { EvaluatePanel } from './panels/evaluate.js';
import { FeaturesPanel } from './panels/features.js';
import { Lessons } from './panels/lessons.js';
import { ModelPanel } from './panels/model.js';
import { QualityPanel } from './panels/quality.js';
import { RunKeeper } from './panels/resume.js';
import { RunPanel } from './panels/run.js';
import { SharePanel } from './panels/share.js';
import { TrainPanel } from './panels/train.js';
import { TryPanel } from './panels/try.js';
import { Tuner } from './panels/tune.js';
import { UploadPanel } from './panels/uploads.js';
import { startUp } from './startup.js';
import { createState, loadedData, saveSettings } from './state/page.js';
import { takeTrial, trainingRequest } from './state/request.js';
import { Notices } from './ui/notice.js';
import { Router } from './ui/router.js';

const state = createState();
const notices = new Notices();
const notify = (message, kind = 'error', where = {}) => notices.show(message, kind, where);

// Data and model changes in turn; the body's `data-setup` is "ready" when none is left.
const queue = taskQueue((busy) => {
  document.body.dataset.setup = busy ? 'busy' : 'ready';
});

const engine = new Engine((msg) => run.progress(msg));
const app = {
  engine,
  state,
  notify,
  queue,
  save: () => saveSettings(state),
  // A control's action: an error becomes a notice beside the control.
  guard: (task) => () => task().catch((err) => notify(err.message)),
  request: () => trainingRequest(state),
  data: () => loadedData(state),
};

function renderSettings() {
  data.render();
  model.render();
  train.render();
  augment.render();
  tuner.render();
  deployment.render();
}

const train = new TrainPanel(app);
const evaluate = new EvaluatePanel(app);
const tryIt = new TryPanel(app);
const augment = new AugmentPanel(app);
const model = new ModelPanel(app, { changed: () => run.renderHeader() });
const features = new FeaturesPanel(app, {
  // The model is built again when it no longer takes the samples.
  reshaped: (shape) => model.takes(shape) || queue(() => model.applyPreset(state.settings.preset)),
});
const data = new DataPanel(app, {
  // Every panel that shows something of the data learns the new data.
  loaded: (info) => {
    for (const panel of [features, evaluate, tryIt, train, augment, quality, run]) panel.showData(info);
  },
  settingsChanged: renderSettings,
  modelFor: async (keep) => {
    // A spec kept from before (a reload, a link) stays only if it takes the loaded data.
    if (keep && (await model.fitsData())) await model.renderSummary();
    else await model.applyPreset(state.settings.preset);
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
    run.loaded(loaded);
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
  checkpoint: (msg) => keeper.keep(msg),
  ended: (trained) => {
    keeper.forget();
    if (trained) evaluate.refresh();
  },
});
const keeper = new RunKeeper(app, {
  resume: (kept) => run.start(kept),
  useDataset: (name) => queue(() => data.change(name)),
  keepModel: (bytes) => share.loadModel(bytes, 'the interrupted run'),
});

/** Puts a search's values into the settings (the fields and the layers) and trains with them. */
async function trainWith(values) {
  await takeTrial(engine, state, values);
  app.save();
  renderSettings();
  await model.renderSummary();
  router.go('train');
  await run.start();
}

const tuner = new Tuner(app, {
  useDataset: (name) => queue(() => data.change(name)),
  trainBest: (values) => trainWith(values).catch((err) => notify(err.message)),
});
const ensembler = new Ensembler(app, {
  runSplit: () => state.run.split,
  shape: () => state.dataset.shape,
  workers: () => tuner.workers(),
  bestTrials: (count) => tuner.bestTrials(count),
  savedModels: () => share.picked(),
});
const deployment = new Deployment(app, { drawing: () => tryIt.drawing() });
const lessons = new Lessons({ notify });

// What another tab of the page keeps or deletes shows here too.
onChange((store) => {
  if (store === 'models') share.renderSaved();
  if (store === 'datasets') data.listUploads();
  if (store === 'versions' || store === 'feedback') deployment.refresh().catch((err) => notify(err.message));
});

const startup = startUp({
  app,
  panels: { data, run, share, deployment, tuner, keeper },
  router: () => router,
  renderSettings,
});

const router = new Router({
  view: (view, param) => {
    if (view === 'lessons') lessons.present(param);
    // Plots drawn while their view was hidden had no width to fit: drawn again when shown.
    if (view === 'evaluate') evaluate.redraw();
  },
  settings: startup.openLink,
  unknown: (view) => notify(`This address names no view (“${view}”); the start view is shown instead.`, 'info'),
});

// For the browser console and the end-to-end tests.
globalThis.whetstone = { engine, state, tuner, ensembler, deployment, lessons, router };
globalThis.whetstone.charts = { lr: train.rates, norm: train.norms, loss: run.loss, acc: run.accuracy };

startup.start().catch((err) => notify(`The page could not start: ${err.message}`));
