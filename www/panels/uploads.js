// The user's own data: a CSV table, a CSV of texts, images (a folder, a .zip, files with a labels
// CSV, or dropped) decoded in a worker with progress, and sequences from a CSV. Each is read by the engine first,
// so a file that does not fit is refused before anything is stored; a good one is kept in the
// browser (IndexedDB) for the next visit. A bad file changes nothing.
import { decodeImages } from '../engine/decode.js';
import { deleteDataset, putDataset } from '../engine/store.js';
import { MAX_IMAGE_UPLOAD_BYTES, MAX_UPLOAD_BYTES, uploadKind, uploadName } from '../state/datasets.js';
import { parseNumber } from '../state/settings.js';
import { showProblems } from '../ui/dataview.js';
import { $ } from '../ui/dom.js';
import { filesFromDrop, filesFromInput } from '../ui/files.js';

const PICKERS = ['sequence-file', 'table-file', 'text-file', 'image-folder', 'image-files'];

const tooLarge = (file) =>
  `“${file.name}” is ${(file.size / 2 ** 20).toFixed(0)} MB; the limit is ${MAX_UPLOAD_BYTES / 2 ** 20} MB`;

export class UploadPanel {
  /** `app`: the engine, the state, `notify`, `queue(task)`; `data`: the data panel (it switches sets). */
  constructor(app, data) {
    this.app = app;
    this.data = data;
    const picked = (id, what, task) =>
      $(id).addEventListener('change', async (e) => {
        const files = [...e.target.files];
        e.target.value = '';
        if (files.length) await this.uploading(what(files), () => task(files));
      });
    picked(
      'table-file',
      ([file]) => `“${file.name}”`,
      ([file]) => this.table(file),
    );
    picked(
      'text-file',
      ([file]) => `“${file.name}”`,
      ([file]) => this.texts(file),
    );
    picked(
      'sequence-file',
      ([file]) => `“${file.name}”`,
      ([file]) => this.sequences(file),
    );
    for (const id of ['image-folder', 'image-files']) {
      picked(
        id,
        () => 'the images',
        (files) => this.images({ files: filesFromInput(files), folders: [] }),
      );
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
      if (this.busy) return app.notify('stop the run before loading other data', 'error', { near: drop });
      const dropped = await filesFromDrop(e.dataTransfer);
      await this.uploading('the dropped files', () => this.images(dropped));
    });
    $('delete-upload').addEventListener(
      'click',
      app.guard(() => app.queue(() => this.remove())),
    );
  }

  /** Nothing can be uploaded or deleted while a run trains. */
  lock(busy) {
    this.busy = busy;
    for (const id of PICKERS) {
      $(id).disabled = busy;
      $(id).parentElement.classList.toggle('disabled', busy);
    }
    $('delete-upload').disabled = busy;
  }

  /** Runs an upload in turn with other data changes; a failure is named and changes nothing. */
  async uploading(what, task) {
    const previous = this.app.state.settings.dataset;
    try {
      await this.app.queue(task);
    } catch (err) {
      $('dataset').value = previous;
      this.app.notify(`Could not load ${what}: ${err.message}`);
    }
  }

  /** Stores an upload the worker has already read, and switches to it; a bad one changes nothing. */
  async keep(upload) {
    const info = await this.app.engine.request('load', { name: upload.name, upload });
    const notKept = await putDataset(upload).then(
      () => null,
      (err) => err,
    );
    await this.data.change(upload.name, { upload, info });
    if (notKept) this.app.notify(`Loaded, but not kept for the next visit: ${notKept.message}`);
  }

  /** Reads a CSV table and loads it. */
  async table(file) {
    if (file.size > MAX_UPLOAD_BYTES) throw new Error(tooLarge(file));
    const label = $('table-label').value.trim();
    const text = await file.text();
    await this.keep({ name: uploadName('table'), fileName: file.name, text, label, savedAt: Date.now() });
  }

  /** Reads a CSV of texts and loads it: the worker splits it and fits the vocabulary. */
  async texts(file) {
    if (file.size > MAX_UPLOAD_BYTES) throw new Error(tooLarge(file));
    const length = $('text-length').value.trim();
    const options = {
      text: $('text-column').value.trim() || undefined,
      label: $('text-label').value.trim() || undefined,
      level: $('text-level').value,
      vocabulary: parseNumber($('text-vocabulary').value, 'The vocabulary size', true),
      maxLen: length ? parseNumber(length, 'The length in tokens', true) : undefined,
    };
    if (options.vocabulary < 1) throw new Error(`the vocabulary size must be at least 1, got ${options.vocabulary}`);
    if (options.maxLen < 1) throw new Error(`the length in tokens must be at least 1, got ${options.maxLen}`);
    const text = await file.text();
    await this.keep({ name: uploadName('text'), fileName: file.name, text, options, savedAt: Date.now() });
  }

  /** Reads a CSV of sequences and loads it. */
  async sequences(file) {
    if (file.size > MAX_UPLOAD_BYTES) throw new Error(tooLarge(file));
    const features = parseNumber($('step-features').value, 'Values per step', true);
    if (features < 1) throw new Error(`values per step must be at least 1, got ${features}`);
    const text = await file.text();
    await this.keep({ name: uploadName('upload'), fileName: file.name, text, features, savedAt: Date.now() });
  }

  /** Decodes images off the page's thread with a progress bar; files that cannot be used are listed
   * by name and the rest load. */
  async images({ files, folders }) {
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
      await this.keep({ name: uploadName('images'), fileName, pixels, labels, classes, shape, savedAt: Date.now() });
      if (result.problems.length)
        this.app.notify(
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
  async remove() {
    const name = this.app.state.settings.dataset;
    if (!uploadKind(name)) return;
    const said = $('dataset').selectedOptions[0]?.textContent ?? name;
    await deleteDataset(name);
    this.data.renderUploadOption(name, null);
    await this.data.change('digits');
    this.app.notify(`Deleted “${said}” from this browser; the other data sets stay.`, 'info');
  }
}
