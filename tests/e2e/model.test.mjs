// The model view: the layer editor and a frozen layer, the pretrained CNN against random weights,
// and a GRU on the waveforms with a drawn sequence classified.
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tensors } from './files.mjs';
import { assert, noErrors, openPage, pageOf, person, shots } from './page.mjs';

const session = openPage();
const ui = person(session);
const page = pageOf(session);

test('the layer editor changes, adds, moves and removes layers, and a frozen layer keeps its weights', async () => {
  await ui.chooseDataset('circle', /2 classes/);
  await ui.selectOption('#preset', 'mlp');
  await ui.selectOption('#preset', 'toy');
  await page.waitForFunction(() => document.querySelectorAll('#summary tr.layer').length === 5);
  const spec = () => page.evaluate(() => JSON.parse(globalThis.whetstone.state.settings.spec).layers);
  const setField = async (layer, field, value) => {
    const input = `#summary input[data-layer="${layer}"][data-field="${field}"]`;
    await ui.fill(input, value);
    await ui.press(input, 'Enter');
  };
  await setField(1, 'units', '24');
  await page.waitForFunction(() => /1\s*dense\s*24\s*72/.test(document.getElementById('summary').innerText));
  assert.equal((await spec())[0].units, 24);
  // Batch norm before the output layer: γ and β for each of the 16 features.
  await ui.selectOption('#add-layer-kind', 'batch_norm');
  await ui.click('#add-layer');
  await page.waitForFunction(() => /5\s*batch_norm\s*16\s*32/.test(document.getElementById('summary').innerText));
  assert.deepEqual((await spec())[4], { type: 'batch_norm', momentum: 0.1 });
  await ui.click('#summary button[data-layer="5"][title="Remove"]');
  await page.waitForFunction(() => document.querySelectorAll('#summary tr.layer').length === 5);
  // Layers the core's catalogue adds reach the editor with no page change: layer norm and GELU.
  for (const [kind, params] of [
    ['layer_norm', 32],
    ['gelu', 0],
  ]) {
    await ui.selectOption('#add-layer-kind', kind);
    await ui.click('#add-layer');
    const row = new RegExp(`5\\s*${kind}\\s*16\\s*${params}`);
    await page.waitForFunction(
      (source) => new RegExp(source).test(document.getElementById('summary').innerText),
      row.source,
    );
    await ui.click('#summary button[data-layer="5"][title="Remove"]');
    await page.waitForFunction(() => document.querySelectorAll('#summary tr.layer').length === 5);
  }
  // A residual block fits itself to its input: x + relu(dense 16 (x)).
  await ui.selectOption('#add-layer-kind', 'residual');
  await ui.click('#add-layer');
  await page.waitForFunction(() => /5\s*residual\s*16\s*272/.test(document.getElementById('summary').innerText));
  assert.match(await ui.text('#summary'), /x \+ \(dense → relu\)/);
  await ui.click('#summary button[data-layer="5"][title="Remove"]');
  await page.waitForFunction(() => document.querySelectorAll('#summary tr.layer').length === 5);
  await ui.selectOption('#add-layer-kind', 'dropout');
  await ui.click('#add-layer');
  await page.waitForFunction(() => document.querySelectorAll('#summary tr.layer').length === 6);
  assert.deepEqual(
    (await spec()).map((l) => l.type),
    ['dense', 'tanh', 'dense', 'tanh', 'dropout', 'dense'],
  );
  await ui.click('#summary button[data-layer="5"][title="Move up"]');
  await page.waitForFunction(() =>
    /"dropout"[\s\S]*"tanh"[\s\S]*"dense"\s*,?\s*"units": 2/.test(globalThis.whetstone.state.settings.spec),
  );
  assert.deepEqual(
    (await spec()).map((l) => l.type),
    ['dense', 'tanh', 'dense', 'dropout', 'tanh', 'dense'],
  );
  await ui.click('#summary button[data-layer="4"][title="Remove"]');
  await page.waitForFunction(() => document.querySelectorAll('#summary tr.layer').length === 5);
  // Without the output layer the model gives 16 scores where the data has 2 classes: Train says so.
  await ui.click('#summary button[data-layer="5"][title="Remove"]');
  await page.waitForFunction(() => document.querySelectorAll('#summary tr.layer').length === 4);
  await ui.click('#train');
  await page.waitForFunction(() =>
    /outputs 16 values but the data has 2 classes/.test(document.getElementById('notice').textContent),
  );
  await ui.selectOption('#add-layer-kind', 'dense');
  await ui.click('#add-layer');
  await page.waitForFunction(() => document.querySelectorAll('#summary tr.layer').length === 5);
  await ui.click('#summary button[data-layer="4"][title="Move down"]');
  await setField(5, 'units', '2');
  await page.waitForFunction(() => !document.getElementById('summary').classList.contains('invalid'));
  assert.deepEqual(
    (await spec()).map((l) => l.type),
    ['dense', 'tanh', 'dense', 'tanh', 'dense'],
  );

  // Freeze layer 1: two runs with other learning rates leave it exactly as initialised.
  await ui.check('#summary input[data-layer="1"][data-field="frozen"]');
  await ui.fill('#epochs', '3');
  const trainAndSave = async (lr) => {
    await ui.fill('#lr', lr);
    await ui.click('#train');
    await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
    const [d] = await Promise.all([page.waitForEvent('download'), ui.click('#download-model')]);
    return tensors(readFileSync(await d.path()));
  };
  const a = await trainAndSave('0.02');
  const b = await trainAndSave('0.05');
  assert.ok(
    a['layers.0.weight'].equals(b['layers.0.weight']),
    'the frozen layer has the same weights after either run',
  );
  assert.ok(!a['layers.2.weight'].equals(b['layers.2.weight']), 'the layer above it trained differently');
  await page.screenshot({ path: join(shots, 'playground-layer-editor.png'), fullPage: true });
  await setField(3, 'l2', 'lots');
  await ui.click('#train');
  await page.waitForFunction(() =>
    /layer 3's L2 penalty must be a number/.test(document.getElementById('notice').textContent),
  );
  await ui.selectOption('#preset', 'mlp');
  await ui.selectOption('#preset', 'toy');
  await page.waitForFunction(
    () => document.querySelectorAll('#summary input[data-field="frozen"]:checked').length === 0,
  );
  await ui.fill('#lr', '0.02');
});

test('starting from the pretrained CNN learns digits 5–9 from 50 samples better than random weights, side by side', async () => {
  await ui.chooseDataset('digits-5-9', /samples of 1 × 28 × 28, 5 classes/);
  assert.deepEqual(
    [await page.inputValue('#samples'), await page.inputValue('#heldout'), await page.inputValue('#epochs')],
    ['1050', '1000', '6'],
  );
  await ui.selectOption('#start-from', 'random');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  const scratch = parseFloat(await ui.text('#stat-val-acc'));
  await ui.selectOption('#start-from', 'pretrained');
  await page.waitForFunction(() =>
    /layers of a CNN trained on the digits 0–4/.test(document.getElementById('start-from-info').textContent),
  );
  assert.deepEqual(await page.evaluate(() => JSON.parse(globalThis.whetstone.state.settings.spec).layers.at(-1)), {
    type: 'dense',
    units: 5,
  });
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  const transferred = parseFloat(await ui.text('#stat-val-acc'));
  const notice = await ui.text('#notice');
  assert.match(notice, /started from the pretrained CNN \(layers 1, 4, 8 taken, a fresh output layer\)/);
  assert.match(notice, /previous run \(random weights\) reached/);
  assert.ok(
    transferred > scratch,
    `pretrained ${transferred} % against random weights ${scratch} % on 1,000 held-out digits`,
  );
  assert.match(
    await page.evaluate(() => globalThis.whetstone.charts.acc.reference.label),
    /^previous run \(random weights\)/,
  );
  await page.screenshot({ path: join(shots, 'playground-transfer.png'), fullPage: true });
  await ui.selectOption('#start-from', 'random');
});

test('a GRU learns the noisy waveforms, shows them, and predicts a drawn sequence', async () => {
  await ui.chooseDataset('waves', /2,400 samples of 48 × 1, 4 classes/);
  assert.equal(await page.inputValue('#preset'), 'gru');
  assert.match(await ui.text('#summary'), /gru[\s\S]*32[\s\S]*dense/);
  assert.equal(await page.locator('#sequence-examples figure').count(), 4);
  assert.equal(await page.isVisible('#draw-area'), false);
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 300_000 });
  const acc = parseFloat(await ui.text('#stat-val-acc'));
  assert.ok(acc >= 80, `waveform validation accuracy ${acc} % (chance 25 %)`);
  // The held-out gallery plots sequences, not images.
  await page.waitForFunction(() => document.querySelectorAll('#gallery canvas.sequence').length > 0);
  // Clicking the square-wave example puts it on the pad and predicts it.
  await ui.reveal('#sequence-examples');
  await page.locator('#sequence-examples figure', { hasText: 'square' }).click();
  await page.waitForFunction(() => document.getElementById('probs').dataset.prediction);
  assert.equal(await page.getAttribute('#probs', 'data-prediction'), 'square');
  // A hand-drawn zig-zag (two teeth rising slowly and falling at once): a sawtooth.
  await ui.click('#clear-wave');
  await ui.reveal('#wave');
  await page.locator('#wave').scrollIntoViewIfNeeded();
  const box = await page.locator('#wave').boundingBox();
  const at = (fx, fy) => [box.x + fx * box.width, box.y + fy * box.height];
  await page.mouse.move(...at(0, 0.8));
  await page.mouse.down();
  for (let i = 0; i <= 100; i++) {
    const t = i / 100;
    await page.mouse.move(...at(t, 0.8 - 0.6 * ((2 * t) % 1)));
  }
  await page.mouse.up();
  await page.waitForFunction(() => document.getElementById('probs').dataset.prediction);
  await page.screenshot({ path: join(shots, 'playground-waves.png'), fullPage: true });
  assert.equal(await page.getAttribute('#probs', 'data-prediction'), 'sawtooth');
});

test('the Transformer preset attends over patches of the waveforms and learns them', async () => {
  await ui.chooseDataset('waves', /2,400 samples of 48 × 1, 4 classes/);
  await ui.selectOption('#preset', 'transformer');
  await page.waitForFunction(() => /transformer_block/.test(document.getElementById('summary').textContent));
  const summary = await ui.text('#summary');
  for (const kind of ['reshape', 'transformer_block', 'mean_pool'])
    assert.match(summary, new RegExp(kind), `${kind} in the summary`);
  // A curve's phase is random: the patches are attended to as a set, without positions.
  assert.doesNotMatch(summary, /^\d+\tpositional\t/m);
  await ui.fill('#epochs', '6');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 300_000 });
  const acc = parseFloat(await ui.text('#stat-val-acc'));
  assert.ok(acc >= 60, `waveform validation accuracy ${acc} % after 6 epochs (chance 25 %)`);
  await ui.selectOption('#preset', 'gru');
  await ui.fill('#epochs', '12');
});

noErrors(session);
