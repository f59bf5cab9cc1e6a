// Saved models and sharing: the trained model as a .safetensors file, as ONNX, as a PyTorch project, its history as CSV;
// models saved in the browser (load, delete, pick for an ensemble); a model file loaded back; the
// whole project as one file to open on another machine, and a link to these settings.
import { deleteModel, getModel, listModels, putModel } from '../engine/store.js';
import {
  MAX_PROJECT_BYTES,
  exportProject,
  importProject,
  sayAfterReload,
  resetPage,
  settingsLink,
} from '../state/project.js';
import { searchRequest } from '../state/search.js';
import { $, download, element } from '../ui/dom.js';
import { historyCsv, isBusy } from './run.js';

export class SharePanel {
  /**
   * `app`: the engine, the state, `notify` and `request()` (the training request of the settings).
   * `hooks.modelLoaded(loaded, label)`: a model file became the current model.
   */
  constructor(app, hooks) {
    this.app = app;
    this.hooks = hooks;
    const { engine, state, notify } = app;
    $('download-model').addEventListener(
      'click',
      app.guard(async () =>
        download(
          await this.modelBytes(),
          `whetstone-${state.settings.dataset}.safetensors`,
          'application/octet-stream',
        ),
      ),
    );
    $('store-model').addEventListener(
      'click',
      app.guard(async () => {
        const name = this.modelName();
        await putModel({ name, savedAt: Date.now(), bytes: (await this.modelBytes()).buffer });
        await this.renderSaved();
        notify(`Saved “${name}” in this browser.`, 'info');
      }),
    );
    $('export-onnx').addEventListener(
      'click',
      app.guard(async () => {
        const { bytes } = await engine.request('export-onnx');
        download(bytes, `whetstone-${state.settings.dataset}.onnx`, 'application/octet-stream');
      }),
    );
    $('export-pytorch').addEventListener(
      'click',
      app.guard(async () => {
        const { dataset } = state.settings;
        // The search as the Tune view would start it; settings it would refuse leave search.py out.
        let search;
        let left;
        try {
          search = searchRequest(state.settings);
        } catch (err) {
          left = err.message;
        }
        const exported = await engine.request('export-pytorch', {
          dataset,
          history: historyCsv(state.run.history),
          search,
          score: state.settings.searchObjective,
          left,
        });
        download(exported.bytes, `whetstone-${dataset}-pytorch.zip`, 'application/zip');
        if (exported.left)
          notify(
            `Exported the experiment as a PyTorch project without search.py: the search settings under Tune are not valid (${exported.left}).`,
          );
        else notify('Exported the experiment as a PyTorch project, with its search as search.py.', 'info');
      }),
    );
    $('export-history').addEventListener('click', () =>
      download(historyCsv(state.run.history), `whetstone-${state.settings.dataset}-history.csv`, 'text/csv'),
    );
    $('model-file').addEventListener('change', async (e) => {
      const [file] = e.target.files;
      e.target.value = '';
      if (file) await this.loadModel(new Uint8Array(await file.arrayBuffer()), file.name);
    });
    $('export-project').addEventListener('click', async () => {
      try {
        download(new TextEncoder().encode(await exportProject()), 'whetstone-project.json', 'application/json');
      } catch (err) {
        notify(`The project could not be exported: ${err.message}`);
      }
    });
    $('project-file').addEventListener('change', async (e) => {
      const [file] = e.target.files;
      e.target.value = '';
      if (!file) return;
      try {
        if (file.size > MAX_PROJECT_BYTES)
          throw new Error(
            `it is ${(file.size / 2 ** 20).toFixed(0)} MB; a project file may be at most ${MAX_PROJECT_BYTES / 2 ** 20} MB`,
          );
        notify(`Checking every part of “${file.name}”…`, 'info');
        const { models, datasets, notes } = await importProject(await file.text(), (parts) =>
          engine.request('verify', parts),
        );
        const aside = notes.length ? ` It ${notes.join('; ')}.` : '';
        sayAfterReload(
          `Imported “${file.name}”: ${models} saved models, ${datasets} uploaded data sets, and its settings.${aside}`,
        );
        location.reload();
      } catch (err) {
        notify(`Could not import “${file.name}”: ${err.message}`);
      }
    });
    $('reset-page').addEventListener(
      'click',
      app.guard(async () => {
        if (!confirm("Delete everything this page keeps in this browser and open it fresh? This can't be undone."))
          return;
        await resetPage();
        sayAfterReload('This page’s data was reset: it opens with the built-in data and default settings.');
        location.reload();
      }),
    );
    $('copy-link').addEventListener('click', async () => {
      const link = settingsLink(state.settings);
      const field = $('settings-link');
      field.value = link;
      field.hidden = false;
      field.select();
      await navigator.clipboard?.writeText(link).catch(() => {});
      notify('A link to these settings is below the buttons (and on the clipboard where the browser allows).', 'info');
    });
  }

  /** What can be saved depends on the run: a trained model, a history. */
  renderButtons() {
    const { run } = this.app.state;
    const busy = isBusy(run.status);
    for (const id of ['download-model', 'store-model', 'export-onnx', 'export-pytorch'])
      $(id).disabled = busy || !run.trained;
    $('export-history').disabled = run.history.length === 0;
    $('model-file').disabled = busy;
    $('model-file').parentElement.classList.toggle('disabled', busy);
  }

  /** "circle · toy · 98.7 % · 2026-11-28 02:30:05": what the saved-models list shows. */
  modelName() {
    const s = this.app.state.settings;
    const acc = $('stat-val-acc').textContent;
    const when = new Date().toISOString().slice(0, 19).replace('T', ' ');
    return `${s.dataset} · ${s.startFrom === 'pretrained' ? 'pretrained' : s.preset || 'custom'} · ${acc} · ${when}`;
  }

  async modelBytes() {
    const { bytes } = await this.app.engine.request('save-model', { history: historyCsv(this.app.state.run.history) });
    return bytes;
  }

  /** The names of the saved models ticked as ensemble members. */
  picked() {
    return [...document.querySelectorAll('#saved-models .ensemble-pick:checked')].map((c) => c.dataset.name);
  }

  async renderSaved() {
    let models;
    try {
      models = await listModels();
    } catch (err) {
      $('saved-models').replaceChildren();
      this.app.notify(err.message);
      return;
    }
    $('saved-models').replaceChildren(
      ...models.map((m) => {
        const name = element('span', { className: 'name', textContent: m.name });
        const load = element('button', { textContent: 'Load' });
        const remove = element('button', { textContent: 'Delete' });
        load.setAttribute('aria-label', `Load ${m.name}`);
        remove.setAttribute('aria-label', `Delete ${m.name}`);
        const pick = element('input', {
          type: 'checkbox',
          className: 'ensemble-pick',
          title: `${m.name}: an ensemble member (see Ensembles)`,
        });
        pick.dataset.name = m.name;
        load.addEventListener(
          'click',
          this.app.guard(async () => {
            const record = await getModel(m.name);
            if (!record) {
              await this.renderSaved();
              throw new Error(`“${m.name}” is no longer kept here: it was deleted, in another tab perhaps`);
            }
            await this.loadModel(new Uint8Array(record.bytes), m.name);
          }),
        );
        remove.addEventListener('click', async () => {
          await deleteModel(m.name);
          this.renderSaved();
        });
        return element('li', {}, pick, name, load, remove);
      }),
    );
  }

  /** Makes a model file the current model, if it fits the data; says how it does on the held-out split. */
  async loadModel(bytes, label) {
    const { engine, notify } = this.app;
    notify('');
    try {
      const request = this.app.request();
      const loaded = await engine.request('load-model', {
        bytes,
        config: request.config,
        samples: request.samples,
        heldOut: request.heldOut,
        backend: request.backend,
      });
      await this.hooks.modelLoaded(loaded);
      const acc = (loaded.evaluation.accuracy * 100).toFixed(1);
      document.body.dataset.loadedModel = label;
      notify(
        `Loaded “${label}”: ${acc} % validation accuracy on this data's held-out split. Try it under Start or Evaluate; Train starts a new run from scratch.`,
        'info',
      );
    } catch (err) {
      notify(`Could not load “${label}”: ${err.message}`);
    }
  }
}
