// The augmentation editor (images only): each augmentation on or off with its probability and
// strength, written into the state, and a live grid of twelve draws on the first training image.
import { catalogue } from '../state/catalogue.js';
import { augmentRequest } from '../state/request.js';
import { $, element } from '../ui/dom.js';
import { imageCanvas } from '../ui/samples.js';

const PREVIEWS = 12;

export class AugmentPanel {
  /** `app`: the engine, the state and `save()`. */
  constructor(app) {
    this.app = app;
    this.timer = 0;
  }

  /** One row per augmentation, from the state. */
  render() {
    const { state } = this.app;
    const saved = state.settings.augment ?? {};
    const rows = catalogue.augmentations.map(({ name: type, label, doc, fields }) => {
      const key = fields[0]?.name;
      const s = { on: false, p: 0.5, strength: fields[0]?.default, ...(saved[type] ?? {}) };
      const on = element('input', { type: 'checkbox', checked: s.on });
      const p = element('input', {
        type: 'text',
        value: s.p,
        className: 'small',
        title: `${label}: probability per image`,
      });
      const strength = key
        ? element('input', { type: 'text', value: s.strength, className: 'small', title: `${label}: ${key}` })
        : '';
      for (const input of [on, p, strength].filter(Boolean)) {
        input.dataset.augment = type;
        input.addEventListener('change', () => {
          state.settings.augment = {
            ...state.settings.augment,
            [type]: { on: on.checked, p: p.value, strength: strength ? strength.value : undefined },
          };
          this.app.save();
          this.preview();
        });
      }
      on.dataset.field = 'on';
      p.dataset.field = 'p';
      if (strength) strength.dataset.field = 'strength';
      const name = element('label', { className: 'inline', title: doc }, on, ` ${label}`);
      return element('tr', {}, element('td', {}, name), element('td', {}, p), element('td', {}, strength));
    });
    const head = element('tr', {}, ...['', 'probability', 'strength'].map((h) => element('th', { textContent: h })));
    $('augment-table').replaceChildren(head, ...rows);
  }

  /** Shown for images only. */
  showData(info) {
    $('augment-editor').hidden = info.shape.length !== 3;
    if (info.shape.length === 3) this.preview();
  }

  /** Twelve draws of the augmentation on the first training image. */
  preview() {
    const { engine, state } = this.app;
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      const shape = state.dataset?.shape;
      if (shape?.length !== 3) return;
      try {
        const augment = augmentRequest(state.settings);
        const { images } = await engine.request('augment-preview', {
          augment,
          index: 0,
          count: PREVIEWS,
          seed: Date.now() % 100000,
        });
        const size = shape.reduce((a, b) => a * b, 1);
        $('augment-preview').replaceChildren(
          ...Array.from({ length: PREVIEWS }, (_, i) => imageCanvas(images.subarray(i * size, (i + 1) * size), shape)),
        );
        const mixup = augment.some((a) => a.type === 'mixup')
          ? ' Mixup blends pairs of images of a batch, and their labels, during training; it is not drawn here.'
          : '';
        $('augment-info').textContent =
          (augment.length
            ? `The first training image under ${PREVIEWS} draws of the ${augment.length} chosen augmentation${augment.length > 1 ? 's' : ''}:`
            : 'No augmentation chosen: the first training image as it is.') + mixup;
      } catch (err) {
        $('augment-info').textContent = `Augmentation: ${err.message}`;
      }
    }, 100);
  }
}
