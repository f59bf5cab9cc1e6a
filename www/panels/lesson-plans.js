// What each lesson runs: the strategy it teaches, the data, the settings of its "without" and "with"
// variants, the number it compares and how the verdict states the measured difference.

const pct = (v) => `${(v * 100).toFixed(1)} %`;
const adam = (lr) => ({ type: 'adam', lr });

/** A deep stack of sigmoid layers, with batch norm after each dense layer or not. */
function deepSigmoid(batchNorm) {
  const layers = [{ type: 'flatten' }];
  for (let i = 0; i < 5; i++)
    layers.push({ type: 'dense', units: 64 }, ...(batchNorm ? [{ type: 'batch_norm' }] : []), { type: 'sigmoid' });
  layers.push({ type: 'dense', units: 10 });
  return JSON.stringify({ input: [1, 28, 28], layers });
}

/**
 * Each lesson: the strategy it teaches, the data (`{name, bias}`), the run's `base` settings, the
 * number it compares (`metric`: the last epoch's `val_accuracy`, or the best `val_loss`), and its
 * variants (two, or more), each with its model (a preset name, `pretrained`, or a spec) and
 * settings.
 */
export const LESSONS = [
  {
    id: 'bias',
    strategy: 'Data quality',
    title: 'A biased data set, and colour jitter',
    intro:
      'In the training split of the coloured shapes every class has its own colour; the test split has random colours. A CNN trained on the data as it is learns colour, not shape. Jittering the hue of every training image takes colour away as a clue.',
    data: { name: 'shapes', bias: 1 },
    base: { epochs: 6, batch: 32, optimizer: adam(0.002), samples: 2000, heldOut: 600 },
    metric: 'val_accuracy',
    variants: [
      { label: 'as it is', model: 'cnn', config: {} },
      { label: 'with hue jitter', model: 'cnn', config: { augment: [{ type: 'hue', p: 1, degrees: 180 }] } },
    ],
    verdict: (a, b) =>
      `Test accuracy on random colours: ${pct(a)} trained as it is, ${pct(b)} with hue jitter (chance is 25 %).`,
  },
  {
    id: 'transfer',
    strategy: 'Architecture and transfer learning',
    title: 'Fifty samples, and a network pretrained on other digits',
    intro:
      'Only 50 training images of the digits 5–9. A CNN from random weights has too little to learn from; the same CNN starting from layers pretrained on the digits 0–4 reuses the strokes it already knows.',
    data: { name: 'digits-5-9' },
    base: { epochs: 6, batch: 10, optimizer: adam(0.003), samples: 1050, heldOut: 1000 },
    metric: 'val_accuracy',
    variants: [
      { label: 'random weights', model: 'pretrained-shape', config: {} },
      { label: 'pretrained on 0–4', model: 'pretrained', config: {} },
    ],
    verdict: (a, b) =>
      `Held-out accuracy on 1,000 digits 5–9: ${pct(a)} from random weights, ${pct(b)} starting from the pretrained layers.`,
  },
  {
    id: 'early-stopping',
    strategy: 'Regularisation',
    title: 'Overfitting, and where early stopping cuts it',
    intro:
      'An MLP trained for 40 epochs on 500 digits learns them by heart: its training loss keeps falling while the validation loss turns up. Early stopping watches the validation loss, stops after 3 epochs without progress and goes back to the best epoch.',
    data: { name: 'digits' },
    base: { epochs: 40, batch: 32, optimizer: adam(0.002), samples: 1000, heldOut: 500 },
    metric: 'val_loss',
    variants: [
      { label: 'all 40 epochs', model: 'mlp', config: {} },
      { label: 'early stopping', model: 'mlp', config: { early_stopping: { patience: 3, restore_best: true } } },
    ],
    verdict: (a, b, runs) =>
      `Validation loss of the model kept: ${a.toFixed(3)} after all 40 epochs, ${b.toFixed(3)} with early stopping (it stopped at epoch ${runs[1].epochs.length} and went back to epoch ${runs[1].best}).`,
  },
  {
    id: 'batch-norm',
    strategy: 'Efficient training',
    title: 'Batch normalisation lets a deep network train',
    intro:
      'Five sigmoid layers deep, plain SGD: the gradient fades on its way down and the network barely moves in three epochs. Batch normalisation after each dense layer keeps every layer’s inputs centred and scaled, and the same network trains.',
    data: { name: 'digits' },
    base: { epochs: 3, batch: 32, optimizer: { type: 'sgd', lr: 0.1 }, samples: 3000, heldOut: 600 },
    metric: 'val_accuracy',
    variants: [
      { label: 'no batch norm', model: deepSigmoid(false), config: {} },
      { label: 'batch norm', model: deepSigmoid(true), config: {} },
    ],
    verdict: (a, b) => `Held-out accuracy after 3 epochs: ${pct(a)} without batch normalisation, ${pct(b)} with it.`,
  },
  {
    id: 'search',
    strategy: 'Hyper-parameter tuning',
    title: 'Bayesian search against random search, at the same budget',
    intro:
      'Twenty trials to find the learning rate (10⁻⁴ to 10, log scale) and the width (2 to 64) of a small MLP trained for 30 epochs with plain SGD on the spiral: most rates there either crawl or blow up, so where to look matters. Random search draws every trial blindly; Bayesian search fits a Gaussian process to the scores so far and tries where the expected improvement is largest. Each runs five times (search seeds 1 to 5); the curves are the mean best score so far.',
    data: { name: 'spiral' },
    base: { epochs: 30, batch: 16, optimizer: { type: 'sgd', lr: 0.1 }, samples: 1000, heldOut: 300 },
    metric: 'val_accuracy',
    x: 'trial',
    budget: 20,
    seeds: [1, 2, 3, 4, 5],
    variants: [
      { label: 'random search', strategy: 'random' },
      { label: 'Bayesian search', strategy: 'bayesian' },
    ],
    run: (ctx) => ctx.lessons.search(ctx),
    verdict: (a, b, runs, { budget, seeds }) => {
      const gain = (runs[1].best - runs[0].best) * 100;
      const said = gain >= 0 ? `${gain.toFixed(1)} points better` : `${(-gain).toFixed(1)} points worse`;
      return `After ${budget} trials the best model Bayesian search found scores ${pct(runs[1].best)} against ${pct(runs[0].best)} for random search's: ${said} (means of ${seeds.length} searches). Once its first 4 trials (drawn at random) are in, the models it proposes score ${pct(b)} on average against ${pct(a)} for random search's.`;
    },
  },
  {
    id: 'rare-class',
    strategy: 'Evaluation',
    title: 'Accuracy hides a class the model never finds',
    intro:
      'One sample in twenty belongs to the rare class, and the two classes overlap. A model that ignores the rare class is still about 95 % accurate. Balanced accuracy (the mean recall over the classes) shows what it misses; weighting the loss by class makes the model look for the rare one.',
    data: { name: 'rare' },
    base: { epochs: 30, batch: 16, optimizer: adam(0.01), samples: 1000, heldOut: 400 },
    metric: 'val_accuracy',
    variants: [
      { label: 'plain loss', model: 'toy', config: {} },
      { label: 'class weights', model: 'toy', config: { rebalance: 'class_weights' } },
    ],
    score: async (slot) => (await slot.engine.request('report', {})).report,
    value: (report) => report.balanced_accuracy,
    verdict: (a, b, runs) =>
      `Plain loss: ${pct(runs[0].report.accuracy)} accurate, but balanced accuracy ${pct(a)} (rare class recall ${pct(runs[0].report.recall[1])}). With class weights: ${pct(runs[1].report.accuracy)} accurate, balanced accuracy ${pct(b)} (recall ${pct(runs[1].report.recall[1])}).`,
  },
  {
    id: 'attention',
    strategy: 'Architecture',
    title: 'Attention against recurrence and a bag of characters',
    intro:
      'Which language is a word in? Three models read the same words character by character. A bag of characters averages their vectors: it knows which letters a word has, not in what order. A GRU reads them in order, one after another. A Transformer lets every character look at every other through two blocks of four attention heads, each character with its position counted from the end of the word added, where the endings that tell languages apart are. They have 2 to 72 thousand parameters and train for the same six epochs.',
    data: { name: 'words' },
    base: { epochs: 6, batch: 32, optimizer: adam(0.003), samples: 9000, heldOut: 1500 },
    metric: 'val_accuracy',
    variants: [
      { label: 'bag of characters', model: 'bag', config: {} },
      { label: 'GRU', model: 'gru', config: {} },
      { label: 'Transformer', model: 'transformer', config: {} },
    ],
    verdict: (bag, gru, runs) => {
      const than = (v) => {
        const gap = (v - bag) * 100;
        return `${Math.abs(gap).toFixed(1)} points ${gap >= 0 ? 'above' : 'below'} the bag`;
      };
      return `Held-out accuracy on 1,500 words of six languages (chance 16.7 %): ${pct(bag)} for the bag of characters, ${pct(gru)} for the GRU (${than(gru)}), ${pct(runs[2].value)} for the Transformer (${than(runs[2].value)}).`;
    },
  },
  {
    id: 'drift',
    strategy: 'Continuous learning',
    title: 'A model meets drifting data, and retraining brings it back',
    intro:
      'An MLP trained on upright digits is deployed on a stream that turns further and further, up to 90°. Its accuracy falls as the inputs drift. Fine-tuning it on the first 480 answers of the stream (with their true labels) plus 500 old training samples makes it fit the new inputs; both models are scored on the last 120, which neither trained on.',
    data: { name: 'digits' },
    base: { epochs: 2, batch: 32, optimizer: adam(0.002), samples: 4000, heldOut: 800 },
    metric: 'val_accuracy',
    x: 'stream',
    variants: [{ label: 'deployed model' }, { label: 'retrained on the feedback' }],
    run: (ctx) => ctx.lessons.drift(ctx),
    verdict: (a, b) =>
      `Accuracy on the last 120 stream inputs (turned 63° to 90°): ${pct(a)} for the deployed model, ${pct(b)} after retraining on the feedback with replay.`,
  },
];
