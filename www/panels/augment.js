// The augmentation editor (images and texts): each augmentation the data takes on or off with its
// probability and strength, written into the state, and a live preview of twelve draws on the first
// training image, or eight on the first training text.
import { augmentable, augmentationsFor, augmentRequest } from '../state/request.js';
import { $, element } from '../ui/dom.js';
import { imageCanvas } from '../ui/samples.js';

const PREVIEWS = { images: 12, text: 8 };

export class AugmentPanel {
  /** `app`: the engine, the state and `save()`. */
  constructor(app) {
    this.app = app;
    this.timer = 0;
  }

  /** One row per augmentation the loaded data takes, from the state. */
  render() {
    const { state } = this.app;
    const saved = state.settings.augment ?? {};
    const unit = this.works === 'text' ? 'text' : 'image';
    const rows = augmentationsFor(this.works).map(({ name: type, label, doc, fields }) => {
      const key = fields[0]?.name;
      const s = { on: false, p: 0.5, strength: fields[0]?.default, ...(saved[type] ?? {}) };
      const on = element('input', { type: 'checkbox', checked: s.on });
      const p = element('input', {
        type: 'text',
        value: s.p,
        className: 'small',
        title: `${label}: probability per ${unit}`,
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

  /** Shown for images and texts, with the augmentations each takes. */
  showData(info) {
    const works = augmentable(info);
    $('augment-editor').hidden = !works;
    if (works !== this.works) {
      this.works = works;
      this.render();
    }
    if (works) this.preview();
  }

  /** Draws of the augmentation on the first training image or text. */
  preview() {
    const { engine, state } = this.app;
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      const works = augmentable(state.dataset);
      if (!works) return;
      const count = PREVIEWS[works];
      const what = works === 'text' ? 'text' : 'image';
      try {
        const augment = augmentRequest(state.settings, works);
        const request = { augment, index: 0, count, seed: Date.now() % 100000 };
        if (works === 'text') {
          const { texts } = await engine.request('augment-preview', request);
          $('augment-preview').replaceChildren(
            element('ol', { className: 'texts' }, ...texts.map((t) => element('li', { textContent: t }))),
          );
        } else {
          const { images } = await engine.request('augment-preview', request);
          const shape = state.dataset.shape;
          const size = shape.reduce((a, b) => a * b, 1);
          $('augment-preview').replaceChildren(
            ...Array.from({ length: count }, (_, i) => imageCanvas(images.subarray(i * size, (i + 1) * size), shape)),
          );
        }
        const mixup = augment.some((a) => a.type === 'mixup')
          ? ' Mixup blends pairs of images of a batch, and their labels, during training; it is not drawn here.'
          : '';
        const unknown = works === 'text' ? ' (� marks a token the model reads as unknown)' : '';
        $('augment-info').textContent =
          (augment.length
            ? `The first training ${what} under ${count} draws of the ${augment.length} chosen augmentation${augment.length > 1 ? 's' : ''}${unknown}:`
            : `No augmentation chosen: the first training ${what} as it is.`) + mixup;
      } catch (err) {
        $('augment-info').textContent = `Augmentation: ${err.message}`;
      }
    }, 100);
  }
}
