// The train view: bad settings named, a diverging run, WebGPU and the fall-back to the CPU, a toy
// set's decision regions, every optimiser, L2, early stopping, the learning-rate schedule and clipping,
// settings kept across a reload.
import { test } from 'node:test';
import { join } from 'node:path';
import { assert, noErrors, openPage, pageOf, person, shots } from './page.mjs';

const session = openPage();
const ui = person(session);
const page = pageOf(session);

test('bad input gets a clear message and the page keeps working', async () => {
  await ui.fill('#lr', 'fast');
  await ui.click('#train');
  assert.match(await ui.text('#notice'), /learning rate must be a number, got "fast"/);
  await ui.fill('#lr', '-1');
  await ui.click('#train');
  await page.waitForFunction(() => /positive number/.test(document.getElementById('notice').textContent));
  await ui.fill('#lr', '0.002');
  await ui.fill('#batch', '0');
  await ui.click('#train');
  await page.waitForFunction(() =>
    /batch size must be between 1 and/.test(document.getElementById('notice').textContent),
  );
  await ui.fill('#batch', '32');
  // The limits are stated on the field and in the message.
  assert.equal(await page.getAttribute('#epochs', 'max'), '10000');
  await ui.fill('#epochs', '1000000');
  await ui.click('#train');
  await page.waitForFunction(() =>
    /Epochs must be at most 10,000, got 1,000,000/.test(document.getElementById('notice').textContent),
  );
  await ui.fill('#epochs', '3');
  await ui.click('#spec-editor summary');
  const good = await page.inputValue('#spec');
  await ui.fill('#spec', '{"input":[1,28,28],"layers":[{"type":"dense","units":10}]}');
  await page.waitForFunction(() => /layer 1 \(dense\)/.test(document.getElementById('summary').textContent));
  await ui.click('#train');
  await page.waitForFunction(() => /layer 1 \(dense\)/.test(document.getElementById('notice').textContent));
  // Sizes past 32 bits and values of the wrong kind are named in words, at their layer, which is marked.
  for (const [layer, said] of [
    ['{"type":"dense","units":100000000}', /layer 2 \(dense\): units must be at most 1,048,576, got 100,000,000/],
    ['{"type":"dense","units":70000}', /layer 2 \(dense\) brings the model to 54,950,000 parameters[\s\S]*50,000,000/],
    ['{"type":"dense","units":-5}', /layer 2 \(dense\): units must be a whole number of at least 1, got -5/],
  ]) {
    await ui.fill('#spec', `{"input":[1,28,28],"layers":[{"type":"flatten"},${layer},{"type":"dense","units":10}]}`);
    await page.waitForFunction(
      (source) => new RegExp(source).test(document.getElementById('summary').textContent),
      said.source,
    );
    assert.equal(await page.locator('#summary tr.layer.bad').count(), 1);
    // The setting named is marked as the cause.
    const marked = await page
      .locator('#summary input[aria-invalid="true"]')
      .evaluateAll((inputs) => inputs.map((i) => `${i.dataset.layer}.${i.dataset.field}`));
    assert.deepEqual(marked, said.source.includes('brings the model') ? [] : ['2.units']);
    assert.doesNotMatch(await ui.text('#summary'), /usize|f32|unreachable/);
  }
  await ui.fill('#spec', good);
  await page.waitForFunction(() => !document.getElementById('summary').classList.contains('invalid'));
  await ui.click('#spec-editor summary');
  assert.equal(await page.getAttribute('body', 'data-status'), 'idle');
});

test('a diverging run stops with advice instead of drawing garbage', async () => {
  await ui.selectOption('#optimizer', 'sgd');
  await ui.fill('#lr', '1e30');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'error', null, { timeout: 60_000 });
  assert.match(await ui.text('#notice'), /diverged[\s\S]*Lower the learning rate \(now 1e30\)/);
  assert.equal(await page.isEnabled('#train'), true);
  await ui.selectOption('#optimizer', 'adam');
  await ui.fill('#lr', '0.002');
});

test('the CNN preset trains on WebGPU, and carries on on the CPU when the GPU is lost', async () => {
  await ui.selectOption('#device', 'gpu');
  await ui.fill('#samples', '1500');
  await ui.fill('#heldout', '500');
  await ui.fill('#epochs', '3');
  await ui.click('#train');
  await page.waitForFunction(() => /WebGPU|GPU \(/.test(document.getElementById('backend').textContent));
  await page.waitForFunction(() => document.getElementById('stat-val-acc').textContent !== '–', null, {
    timeout: 240_000,
  });
  const acc = parseFloat(await ui.text('#stat-val-acc'));
  assert.ok(acc >= 60, `validation accuracy after one epoch on WebGPU (1,000 samples): ${acc} %`);
  // Predictions asked for while the GPU trains wait their turn instead of breaking the run.
  await page.mouse.move(0, 0);
  await ui.drawStrokes(4);
  await page.waitForFunction(() => document.getElementById('probs').dataset.prediction !== undefined);
  assert.equal(await page.getAttribute('body', 'data-status'), 'running', await ui.text('#notice'));
  await page.evaluate(() => globalThis.whetstone.engine.request('lose-gpu'));
  await page.waitForFunction(() => /GPU was lost/.test(document.getElementById('notice').textContent), null, {
    timeout: 120_000,
  });
  assert.match(await ui.text('#backend'), /CPU/);
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 240_000 });
  assert.match(await ui.text('#stat-epoch'), /3 \/ 3/);
  assert.match(await ui.text('#notice'), /finished on the CPU, after the GPU was lost/);
  assert.equal(await page.isDisabled('#device option[value="gpu"]'), true);
  await page.screenshot({ path: join(shots, 'playground-gpu-fallback.png'), fullPage: true });
  await ui.selectOption('#device', 'auto');
  await ui.fill('#samples', '10000');
  await ui.fill('#heldout', '2000');
});

test('a toy set trains an MLP and shows its decision regions', async () => {
  await ui.chooseDataset('spiral', /1,000 samples of 2, 3 classes/);
  await page.waitForFunction(() => document.getElementById('preset').value === 'toy');
  await ui.fill('#epochs', '60');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  const acc = parseFloat(await ui.text('#stat-val-acc'));
  assert.ok(acc >= 80, `spiral validation accuracy ${acc} %`);
  // The region canvas is shaded by the model's prediction: its pixels are not all white any more.
  const shaded = await page.evaluate(() => {
    const c = document.getElementById('boundary');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250) n++;
    return n / (d.length / 4);
  });
  assert.ok(shaded > 0.5, `shaded fraction ${shaded}`);
  await page.screenshot({ path: join(shots, 'playground-spiral.png'), fullPage: true });
});

test('every optimiser in the menu trains the circle set, and a heavy L2 penalty makes it underfit', async () => {
  await ui.chooseDataset('circle', /1,000 samples of 2, 2 classes/);
  await ui.fill('#epochs', '30');
  const options = await page.locator('#optimizer option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(options, ['adam', 'adamw', 'rmsprop', 'momentum', 'nesterov', 'sgd']);
  for (const [optimizer, lr] of [
    ['adam', '0.02'],
    ['adamw', '0.02'],
    ['rmsprop', '0.01'],
    ['momentum', '0.1'],
    ['nesterov', '0.1'],
    ['sgd', '0.5'],
  ]) {
    await ui.selectOption('#optimizer', optimizer);
    await ui.fill('#lr', lr);
    await ui.click('#train');
    await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
    const acc = parseFloat(await ui.text('#stat-val-acc'));
    assert.ok(acc >= 90, `${optimizer}: circle validation accuracy ${acc} %`);
  }
  await ui.selectOption('#optimizer', 'adam');
  await ui.fill('#lr', '0.02');
  // A heavy L2 penalty keeps the weights too small to carve out the circle: the model underfits.
  await ui.fill('#l2', '1');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  const penalised = parseFloat(await ui.text('#stat-val-acc'));
  assert.ok(penalised < 80, `with L2 = 1 the circle should underfit, got ${penalised} %`);
  await ui.fill('#l2', '-1');
  await ui.click('#train');
  await page.waitForFunction(() =>
    /L1 and L2 penalties must be numbers ≥ 0/.test(document.getElementById('notice').textContent),
  );
  await ui.fill('#l2', '0');
});

test('early stopping ends a run where the validation loss stops improving and restores the best epoch', async () => {
  await ui.chooseDataset('spiral', /3 classes/);
  await ui.fill('#patience', '2');
  await ui.fill('#epochs', '60');
  await ui.fill('#lr', '0.02');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  const notice = await ui.text('#notice');
  const [, stopped, best] =
    notice.match(/early at epoch (\d+): the validation loss had not improved since epoch (\d+)/) ?? [];
  assert.ok(stopped, notice);
  assert.equal(Number(best), Number(stopped) - 2, 'with a patience of 2 the best epoch is two before the stop');
  assert.match(await ui.text('#stat-epoch'), new RegExp(`^${stopped} / 60$`));
  await page.screenshot({ path: join(shots, 'playground-early-stop.png'), fullPage: true });
  await ui.fill('#patience', '0');
});

test('the learning-rate schedule is drawn before training and followed step by step, with the gradient norm of every step', async () => {
  await ui.chooseDataset('circle', /2 classes/);
  await ui.fill('#epochs', '8');
  await ui.selectOption('#schedule', 'step');
  await ui.fill('#schedule-every', '2');
  await ui.fill('#schedule-gamma', '0.5');
  await ui.fill('#clip-norm', '0.25');
  // 1,000 samples, 300 held out, batch 16: 44 steps per epoch.
  await page.waitForFunction(() =>
    /Planned: 352 steps \(44 per epoch\)/.test(document.getElementById('schedule-info').textContent),
  );
  const planned = await page.evaluate(() => Array.from(globalThis.whetstone.charts.lr.columns[1]));
  assert.equal(planned.length, 352);
  // f32 rates: 0.02, halved every second epoch.
  assert.deepEqual(
    [planned[0], planned[87], planned[88], planned[351]].map((r) => Number(r.toPrecision(6))),
    [0.02, 0.02, 0.01, 0.0025],
  );
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  await page.waitForTimeout(100);
  const { actual, norms, limit } = await page.evaluate(() => {
    const { lr, norm } = globalThis.whetstone.charts;
    return {
      actual: Array.from(lr.columns[2]),
      norms: Array.from(norm.columns[1]),
      limit: Array.from(norm.columns[2]),
    };
  });
  assert.equal(actual.length, 352);
  for (const [i, r] of actual.entries())
    assert.ok(Math.abs(r - planned[i]) < 1e-9, `step ${i}: rate ${r}, planned ${planned[i]}`);
  assert.ok(
    norms.every((n) => Number.isFinite(n) && n > 0),
    'every step has its gradient norm',
  );
  assert.ok(
    norms.some((n) => n > 0.25),
    'some steps were over the clip limit, so clipping acted',
  );
  assert.ok(limit.every((l) => l === 0.25));
  const accuracy = parseFloat(await ui.text('#stat-val-acc'));
  assert.ok(accuracy >= 85, `the clipped, decaying run still learns the circle: ${accuracy} %`);
  await page.screenshot({ path: join(shots, 'playground-schedule.png'), fullPage: true });
  // A binary task gets a decision threshold: near 0, everything is predicted as the second class.
  await page.waitForFunction(
    () => !document.getElementById('evaluation').hidden && !document.getElementById('threshold-row').hidden,
  );
  const confusion = () =>
    page.evaluate(() =>
      [...document.querySelectorAll('#confusion tr')]
        .slice(1)
        .map((tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.textContent))),
    );
  const atHalf = await confusion();
  await page.evaluate(() => {
    const t = document.getElementById('threshold');
    t.value = '0';
    t.dispatchEvent(new Event('input'));
  });
  await page.waitForFunction(
    () =>
      document.getElementById('threshold-value').textContent === '0.00' &&
      [...document.querySelectorAll('#confusion tr')]
        .slice(1)
        .every((tr) => tr.querySelector('td').textContent === '0'),
  );
  const atZero = await confusion();
  assert.deepEqual(
    atZero.map((r) => r[1]),
    atHalf.map((r) => r[0] + r[1]),
    'every sample moves to the second class',
  );
  await page.evaluate(() => {
    const t = document.getElementById('threshold');
    t.value = '0.5';
    t.dispatchEvent(new Event('input'));
  });
  await page.waitForFunction(() => document.getElementById('threshold-value').textContent === '0.50');
  // A bad schedule setting is named before training and stops the run from starting.
  await ui.fill('#schedule-gamma', '1.5');
  await page.waitForFunction(() => /gamma in \(0, 1\]/.test(document.getElementById('schedule-info').textContent));
  await ui.click('#train');
  await page.waitForFunction(() => /gamma in \(0, 1\]/.test(document.getElementById('notice').textContent));
  await ui.fill('#clip-norm', 'x');
  await ui.click('#train');
  await page.waitForFunction(() =>
    /gradient-norm clip must be a number/.test(document.getElementById('notice').textContent),
  );
  await ui.fill('#clip-norm', '0');
  await ui.fill('#schedule-gamma', '0.5');
  await ui.selectOption('#schedule', 'constant');
});

test('a run interrupted by a reload resumes to the same result as one that never stopped, or gives its model', async () => {
  await ui.chooseDataset('circle', /2 classes/);
  await ui.selectOption('#device', 'cpu');
  await ui.selectOption('#optimizer', 'adam');
  await ui.fill('#lr', '0.01');
  // Long enough that a reload lands before the run ends, on a machine of any speed.
  await ui.fill('#epochs', '150');
  const finished = () =>
    page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 240_000 });
  const outcome = () =>
    page.evaluate(async () => ({
      losses: globalThis.whetstone.state.run.history.map((r) => r[3]),
      probs: Array.from((await globalThis.whetstone.engine.request('held-out')).probs),
    }));
  // A run that ended is forgotten (a moment after it ends).
  const forgotten = () =>
    page.waitForFunction(async () => !(await (await import('./www/engine/store.js')).getRun()), null, {
      polling: 100,
    });
  await ui.click('#train');
  await finished();
  const straight = await outcome();
  assert.equal(straight.losses.length, 150);
  await forgotten();
  // The same run again, reloaded once a few epochs are kept.
  const interrupt = async () => {
    await ui.click('#train');
    await page.waitForFunction(
      async () => ((await (await import('./www/engine/store.js')).getRun())?.epoch ?? 0) >= 3,
      null,
      { timeout: 120_000, polling: 50 },
    );
    // Leaving the page mid-run asks first.
    page.once('dialog', (dialog) => dialog.accept());
    await page.reload();
    await page.waitForFunction(() => !document.getElementById('run-kept').hidden, null, {
      timeout: 60_000,
      polling: 100,
    });
    assert.match(await ui.text('#run-kept-info'), /A run on “Toy: circle” stopped after epoch \d+ of 150/);
  };
  await interrupt();
  await ui.click('#run-kept-resume');
  await finished();
  const resumed = await outcome();
  assert.deepEqual(resumed.losses, straight.losses);
  assert.deepEqual(resumed.probs, straight.probs);
  assert.equal(await page.locator('#run-kept').isHidden(), true);
  await forgotten();
  // Or its model, as it was at the last kept epoch.
  await interrupt();
  // The epoch the offer names, as the person reads it.
  const at = Number((await ui.text('#run-kept-info')).match(/after epoch (\d+)/)[1]);
  await ui.click('#run-kept-model');
  await page.waitForFunction(() => globalThis.whetstone.state.run.trained && document.body.dataset.status === 'idle');
  assert.equal(await page.evaluate(() => globalThis.whetstone.state.run.history.length), 0);
  await forgotten();
  assert.ok(at >= 3, `the offer names epoch ${at}`);
  await ui.selectOption('#device', 'auto');
});

test('reloading keeps the settings', async () => {
  await ui.chooseDataset('spiral', /3 classes/);
  await ui.fill('#epochs', '60');
  await page.reload();
  await page.waitForFunction(() => document.getElementById('dataset').value === 'spiral');
  assert.equal(await page.inputValue('#epochs'), '60');
  await page.waitForFunction(() => document.querySelectorAll('#summary tr').length > 3);
});

noErrors(session);
