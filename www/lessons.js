// Panel 9: lessons. Each sets up a seeded experiment on built-in data, trains the "without" and
// "with" variants side by side in two workers, plots both curves as they are measured, and states
// the measured difference. Nothing on screen is written in: every number comes from the runs.
import { LiveChart } from './charts.js';
import { TrialPool, loadInto } from './tune.js';
import { element as el } from './layers.js';

const pct = (v) => `${(v * 100).toFixed(1)} %`;
const adam = (lr) => ({ type: 'adam', lr });

/** A deep stack of sigmoid layers, with batch norm after each dense layer or not. */
function deepSigmoid(batchNorm) {
  const layers = [{ type: 'flatten' }];
  for (let i = 0; i < 5; i++) layers.push({ type: 'dense', units: 64 }, ...(batchNorm ? [{ type: 'batch_norm' }] : []), { type: 'sigmoid' });
  layers.push({ type: 'dense', units: 10 });
  return JSON.stringify({ input: [1, 28, 28], layers });
}

/**
 * Each lesson: the strategy it teaches, the data (`{name, bias}`), the run's `base` settings, the
 * number it compares (`metric`: the last epoch's `val_accuracy`, or the best `val_loss`), and two
 * variants, each with its model (a preset name, `pretrained`, or a spec) and settings.
 */
export const LESSONS = [
  {
    id: 'bias',
    strategy: 'Data quality',
    title: 'A biased data set, and colour jitter',
    intro: 'In the training split of the coloured shapes every class has its own colour; the test split has random colours. A CNN trained on the data as it is learns colour, not shape. Jittering the hue of every training image takes colour away as a clue.',
    data: { name: 'shapes', bias: 1 },
    base: { epochs: 6, batch: 32, optimizer: adam(0.002), samples: 2000, heldOut: 600 },
    metric: 'val_accuracy',
    variants: [
      { label: 'as it is', model: 'cnn', config: {} },
      { label: 'with hue jitter', model: 'cnn', config: { augment: [{ type: 'hue', p: 1, degrees: 180 }] } },
    ],
    verdict: (a, b) => `Test accuracy on random colours: ${pct(a)} trained as it is, ${pct(b)} with hue jitter (chance is 25 %).`,
  },
  {
    id: 'transfer',
    strategy: 'Architecture and transfer learning',
    title: 'Fifty samples, and a network pretrained on other digits',
    intro: 'Only 50 training images of the digits 5–9. A CNN from random weights has too little to learn from; the same CNN starting from layers pretrained on the digits 0–4 reuses the strokes it already knows.',
    data: { name: 'digits-5-9' },
    base: { epochs: 6, batch: 10, optimizer: adam(0.003), samples: 1050, heldOut: 1000 },
    metric: 'val_accuracy',
    variants: [
      { label: 'random weights', model: 'pretrained-shape', config: {} },
      { label: 'pretrained on 0–4', model: 'pretrained', config: {} },
    ],
    verdict: (a, b) => `Held-out accuracy on 1,000 digits 5–9: ${pct(a)} from random weights, ${pct(b)} starting from the pretrained layers.`,
  },
  {
    id: 'early-stopping',
    strategy: 'Regularisation',
    title: 'Overfitting, and where early stopping cuts it',
    intro: 'An MLP trained for 40 epochs on 500 digits learns them by heart: its training loss keeps falling while the validation loss turns up. Early stopping watches the validation loss, stops after 3 epochs without progress and goes back to the best epoch.',
    data: { name: 'digits' },
    base: { epochs: 40, batch: 32, optimizer: adam(0.002), samples: 1000, heldOut: 500 },
    metric: 'val_loss',
    variants: [
      { label: 'all 40 epochs', model: 'mlp', config: {} },
      { label: 'early stopping', model: 'mlp', config: { early_stopping: { patience: 3, restore_best: true } } },
    ],
    verdict: (a, b, runs) => `Validation loss of the model kept: ${a.toFixed(3)} after all 40 epochs, ${b.toFixed(3)} with early stopping (it stopped at epoch ${runs[1].epochs.length} and went back to epoch ${runs[1].best}).`,
  },
  {
    id: 'batch-norm',
    strategy: 'Efficient training',
    title: 'Batch normalisation lets a deep network train',
    intro: 'Five sigmoid layers deep, plain SGD: the gradient fades on its way down and the network barely moves in three epochs. Batch normalisation after each dense layer keeps every layer’s inputs centred and scaled, and the same network trains.',
    data: { name: 'digits' },
    base: { epochs: 3, batch: 32, optimizer: { type: 'sgd', lr: 0.1 }, samples: 3000, heldOut: 600 },
    metric: 'val_accuracy',
    variants: [
      { label: 'no batch norm', model: deepSigmoid(false), config: {} },
      { label: 'batch norm', model: deepSigmoid(true), config: {} },
    ],
    verdict: (a, b) => `Held-out accuracy after 3 epochs: ${pct(a)} without batch normalisation, ${pct(b)} with it.`,
  },
];

export class Lessons {
  /** `hooks`: `notify(message, kind)`. */
  constructor(hooks) {
    this.hooks = hooks;
    this.current = LESSONS[0];
    this.chart = new LiveChart(document.getElementById('lesson-chart'), 'Lesson', ['without', 'with'], { percent: true });
    this.renderList();
    this.show(LESSONS[0]);
    document.getElementById('lesson-run').addEventListener('click', () => this.run().catch((err) => {
      document.getElementById('lesson-result').textContent = '';
      this.hooks.notify(err.message);
    }));
  }

  renderList() {
    document.getElementById('lesson-list').replaceChildren(...LESSONS.map((l) => {
      const button = el('button', { className: 'link', onclick: () => this.show(l) }, `${l.strategy}: ${l.title}`);
      button.dataset.lesson = l.id;
      return el('li', {}, button);
    }));
  }

  show(lesson) {
    this.current = lesson;
    document.getElementById('lesson-title').textContent = `${lesson.strategy} — ${lesson.title}`;
    document.getElementById('lesson-intro').textContent = lesson.intro;
    document.getElementById('lesson-result').textContent = '';
    const [a, b] = lesson.variants.map((v) => v.label);
    const percent = lesson.metric === 'val_accuracy';
    this.chart.element.replaceChildren();
    this.chart = new LiveChart(this.chart.element, percent ? 'Validation accuracy' : 'Validation loss', [a, b], { percent });
    document.body.dataset.lessonShown = lesson.id;
  }

  /** The training request of one variant on the data loaded in `engine`. */
  async request(engine, lesson, variant) {
    let spec = variant.model;
    const pretrained = variant.model === 'pretrained';
    if (pretrained || variant.model === 'pretrained-shape') {
      spec = (await engine.request('pretrained-spec')).spec;
    } else if (!variant.model.startsWith('{')) {
      spec = (await engine.request('preset', { name: variant.model })).spec;
    }
    const { epochs, batch, optimizer, samples, heldOut } = lesson.base;
    const config = { epochs, batch_size: batch, optimizer, seed: 1, ...variant.config };
    return { spec, config, samples, heldOut, backend: 'cpu', pretrained };
  }

  /** Trains both variants side by side and states the measured difference. */
  async run() {
    const lesson = this.current;
    const button = document.getElementById('lesson-run');
    button.disabled = true;
    document.body.dataset.lesson = '';
    document.getElementById('lesson-result').textContent = 'Training both variants side by side…';
    const pool = new TrialPool(2);
    const data = { key: `lesson:${lesson.id}`, ...lesson.data };
    const runs = lesson.variants.map(() => ({ epochs: [], best: 0 }));
    const redraw = () => {
      const xs = Array.from({ length: Math.max(...runs.map((r) => r.epochs.length)) }, (_, i) => i + 1);
      this.chart.setColumns([xs, ...runs.map((r) => xs.map((_, i) => r.epochs[i]?.[lesson.metric] ?? null))], lesson.base.epochs);
    };
    this.chart.reset(lesson.base.epochs);
    try {
      await Promise.all(pool.slots.map(async (slot, k) => {
        await loadInto(slot.engine, data);
        slot.loaded = data.key;
        const request = await this.request(slot.engine, lesson, lesson.variants[k]);
        await pool.run(slot, request, data, (e) => {
          runs[k].epochs.push(e);
          redraw();
        });
      }));
    } finally {
      pool.slots.forEach((s) => s.engine.terminate());
      button.disabled = false;
    }
    // The number each model ends with: its last epoch's accuracy, or (for the loss) the loss of
    // the weights it keeps — the best epoch's when early stopping restored it.
    const value = (r, k) => {
      if (lesson.metric === 'val_accuracy') return r.epochs.at(-1).val_accuracy;
      const stopped = lesson.variants[k].config.early_stopping;
      const losses = r.epochs.map((e) => e.val_loss);
      r.best = stopped ? losses.indexOf(Math.min(...losses)) + 1 : r.epochs.length;
      return stopped ? Math.min(...losses) : losses.at(-1);
    };
    const [a, b] = runs.map(value);
    if (lesson.variants[1].config.early_stopping) this.chart.mark(runs[1].epochs.length, `stopped (best: epoch ${runs[1].best})`, '#dc2626');
    document.getElementById('lesson-result').textContent = lesson.verdict(a, b, runs);
    document.body.dataset.lesson = JSON.stringify({ id: lesson.id, without: a, with: b });
  }
}
