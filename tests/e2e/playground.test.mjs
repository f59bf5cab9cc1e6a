// Drives the built page (dist/) in headless Chromium as a person would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch } from './serve.mjs';
import { png, seeded, zip } from './files.mjs';
import { person } from './page.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shots = join(root, 'test-results');
mkdirSync(shots, { recursive: true });

let server, browser, page;
const pageErrors = [];
const ui = person({
  get page() {
    return page;
  },
});

before(async () => {
  server = await serve(join(root, 'dist'));
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && pageErrors.push(`worker: ${m.text()}`)));
  await page.goto(server.url);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** What a person reads in `selector`, in the view that shows it. */
const text = async (selector) => {
  await ui.reveal(selector);
  return page.locator(selector).innerText();
};

/** Picks a data set and waits until the page describes it as `info` says. */
async function chooseDataset(name, info) {
  await ui.selectOption('#dataset', name);
  await page.waitForFunction(
    (source) =>
      new RegExp(source).test(document.getElementById('dataset-info').textContent) &&
      document.body.dataset.setup === 'ready',
    info.source,
  );
}

/** Opens or closes a <details> section, whatever state an earlier test left it in. */
const expand = (id, open = true) =>
  page.evaluate(
    ([i, o]) => {
      document.getElementById(i).open = o;
    },
    [id, open],
  );

/** Where the tests that borrow another data set leave the page: the spiral, 60 epochs. */
async function backToTheSpiral() {
  await chooseDataset('spiral', /3 classes/);
  await ui.fill('#epochs', '60');
}

test('the page opens on the built-in digits with the CNN preset and its summary', async () => {
  await page.waitForFunction(() => document.querySelectorAll('#summary tr').length > 5);
  assert.match(await text('#dataset-info'), /10,000 samples of 1 × 28 × 28, 10 classes/);
  assert.equal(await page.inputValue('#preset'), 'cnn');
  assert.match(await text('#summary'), /conv2d[\s\S]*8×28×28[\s\S]*total\s+29,738/);
  // SwiftShader is a software WebGPU adapter: "fastest available" picks the CPU and says why in
  // plain words beside the choice, once the engine has opened the adapter.
  await page.waitForFunction(() =>
    /runs on the processor, not on a graphics card \(a software adapter/.test(
      document.getElementById('device-info').textContent,
    ),
  );
  assert.equal(await page.isVisible('#notice'), false, 'the page opens without a message');
  assert.match(await text('#backend'), /CPU/);
  assert.equal(await page.inputValue('#device'), 'auto');
});

test('bad input gets a clear message and the page keeps working', async () => {
  await ui.fill('#lr', 'fast');
  await ui.click('#train');
  assert.match(await text('#notice'), /learning rate must be a number, got "fast"/);
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
  await ui.click('#spec-editor summary');
  const good = await page.inputValue('#spec');
  await ui.fill('#spec', '{"input":[1,28,28],"layers":[{"type":"dense","units":10}]}');
  await page.waitForFunction(() => /layer 1 \(dense\)/.test(document.getElementById('summary').textContent));
  await ui.click('#train');
  await page.waitForFunction(() => /layer 1 \(dense\)/.test(document.getElementById('notice').textContent));
  await ui.fill('#spec', good);
  await page.waitForFunction(() => !document.getElementById('summary').classList.contains('invalid'));
  await ui.click('#spec-editor summary');
  assert.equal(await page.getAttribute('body', 'data-status'), 'idle');
});

test('pause holds the run still, resume continues, stop ends it', async () => {
  await ui.fill('#epochs', '3');
  await ui.click('#train');
  await page.waitForFunction(() => document.getElementById('progress').value > 0.02);
  await ui.click('#pause');
  await page.waitForFunction(() => document.body.dataset.status === 'paused');
  await page.waitForTimeout(400);
  const held = await page.evaluate(() => document.getElementById('progress').value);
  await page.waitForTimeout(1000);
  assert.equal(await page.evaluate(() => document.getElementById('progress').value), held);
  await ui.click('#pause');
  await page.waitForFunction((v) => document.getElementById('progress').value > v, held);
  await ui.click('#stop');
  await page.waitForFunction(() => document.body.dataset.status === 'stopped');
  assert.match(await text('#notice'), /stopped/);
});

test('training the CNN preset reaches 90 % validation accuracy in one epoch, then predicts a drawing', async () => {
  await ui.fill('#epochs', '1');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 180_000 });
  const acc = parseFloat(await text('#stat-val-acc'));
  assert.ok(acc >= 90, `validation accuracy on the page: ${acc} %`);
  assert.match(await text('#stat-speed'), /^[\d,]+$/);

  // Draw a "1": one vertical stroke through the middle of the pad.
  // A person scrolls the pad into view first (the settings are further down the page).
  await ui.reveal('#draw');
  await page.locator('#draw').scrollIntoViewIfNeeded();
  const box = await page.locator('#draw').boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.15 + 0.06 * i));
  await page.mouse.up();
  await page.waitForFunction(() => document.getElementById('probs').dataset.prediction !== undefined);
  const probs = await page.locator('#probs li .value').allInnerTexts();
  assert.equal(probs.length, 10);
  const total = probs.reduce((s, p) => s + parseFloat(p), 0);
  assert.ok(Math.abs(total - 100) < 1, `probabilities sum to ${total} %`);
  assert.equal(await page.getAttribute('#probs', 'data-prediction'), '1');
  await page.screenshot({ path: join(shots, 'playground-digits.png'), fullPage: true });
});

/** Up to `count` strokes on the drawing pad while the run lasts; each asks for a prediction. */
async function drawStrokes(count) {
  // A person scrolls the pad into view first (the settings are further down the page).
  await ui.reveal('#draw');
  await page.locator('#draw').scrollIntoViewIfNeeded();
  const box = await page.locator('#draw').boundingBox();
  for (let stroke = 0; stroke < count && (await page.getAttribute('body', 'data-status')) === 'running'; stroke++) {
    await page.mouse.move(box.x + box.width * (0.3 + 0.05 * stroke), box.y + box.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.7, { steps: 5 });
    await page.mouse.up();
    await page.waitForTimeout(100);
  }
}

test('after training, the held-out split is evaluated: a confusion matrix and the metrics', async () => {
  await page.waitForFunction(() => !document.getElementById('evaluation').hidden);
  const matrix = await page.evaluate(() =>
    [...document.querySelectorAll('#confusion tr')]
      .slice(1)
      .map((tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.textContent))),
  );
  assert.equal(matrix.length, 10);
  assert.ok(matrix.every((row) => row.length === 10));
  assert.equal(
    matrix.flat().reduce((a, b) => a + b, 0),
    2000,
    'every held-out digit is counted once',
  );
  const diagonal = matrix.reduce((a, row, i) => a + row[i], 0);
  const accuracy = parseFloat(await text('#stat-val-acc'));
  assert.ok(Math.abs(diagonal / 20 - accuracy) < 0.06, `the diagonal (${diagonal}) is the accuracy ${accuracy} %`);
  assert.match(
    await text('#metrics'),
    new RegExp(
      `Accuracy\\s+${accuracy.toFixed(1)} %[\\s\\S]*Balanced accuracy[\\s\\S]*Cohen's κ\\s+0\\.\\d{3}[\\s\\S]*Log-loss`,
    ),
  );
  assert.equal(await page.locator('#per-class tr').count(), 11);
  const auc = Number((await text('#metrics')).match(/ROC AUC, macro \/ micro\s+(0\.\d+) \//)[1]);
  assert.ok(auc > 0.95, `macro ROC AUC ${auc}`);
  assert.match(await text('#metrics'), /Calibration error \(ECE\)\s+0\.\d{3}/);
  // Each plot has its curves drawn: strongly coloured pixels (the axes and grid are grey).
  for (const id of ['roc', 'pr', 'reliability']) {
    const inked = await page.evaluate((canvasId) => {
      const c = document.getElementById(canvasId);
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4)
        n += d[i + 3] > 200 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 80;
      return n;
    }, id);
    assert.ok(inked > 30, `${id}: ${inked} coloured pixels`);
  }
  assert.equal(await page.isVisible('#threshold-row'), false, 'ten classes have no decision threshold');
  // The gallery opens on the most confident mistakes; a cell shows its own samples.
  await page.waitForFunction(() =>
    /most confident mistakes/.test(document.getElementById('gallery-title').textContent),
  );
  const mistakes = await page.evaluate(() =>
    [...document.querySelectorAll('#gallery figure')].map((f) => [
      Number(f.dataset.label),
      Number(f.dataset.predicted),
    ]),
  );
  assert.ok(
    mistakes.length > 0 && mistakes.length <= 24 && mistakes.every(([t, p]) => t !== p),
    JSON.stringify(mistakes),
  );
  assert.equal(await page.locator('#gallery canvas').count(), mistakes.length, 'each digit is drawn');
  await ui.click('#confusion td[data-cell="1,1"]');
  await page.waitForFunction(() =>
    /^True 1, predicted 1: the 24 most confident/.test(document.getElementById('gallery-title').textContent),
  );
  assert.ok(
    (
      await page.evaluate(() =>
        [...document.querySelectorAll('#gallery figure')].map((f) => f.dataset.label + f.dataset.predicted),
      )
    ).every((c) => c === '11'),
  );
  await ui.check('#normalise');
  const shares = await page.evaluate(() =>
    [...document.querySelectorAll('#confusion tr')]
      .slice(1)
      .map((tr) => [...tr.querySelectorAll('td')].reduce((a, td) => a + Number(td.textContent), 0)),
  );
  assert.ok(
    shares.every((s) => s >= 95 && s <= 105),
    `each row shares out its true class: ${shares}`,
  );
  await ui.reveal('#evaluation');
  await page.locator('#evaluation').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shots, 'playground-evaluation.png'), fullPage: true });
  await ui.uncheck('#normalise');
});

test('drawing while the model trains gets predictions and leaves the run intact', async () => {
  await ui.fill('#epochs', '2');
  await ui.click('#train');
  await page.waitForFunction(
    () => document.getElementById('stat-val-acc').textContent !== '–' && document.body.dataset.status === 'running',
  );
  await drawStrokes(6);
  await page.waitForFunction(() => document.body.dataset.status !== 'running', null, { timeout: 120_000 });
  assert.equal(await page.getAttribute('body', 'data-status'), 'done', await text('#notice'));
  assert.match(await text('#stat-epoch'), /2 \/ 2/);
  await ui.click('#clear');
});

test('a diverging run stops with advice instead of drawing garbage', async () => {
  await ui.selectOption('#optimizer', 'sgd');
  await ui.fill('#lr', '1e30');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'error', null, { timeout: 60_000 });
  assert.match(await text('#notice'), /diverged[\s\S]*Lower the learning rate \(now 1e30\)/);
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
  const acc = parseFloat(await text('#stat-val-acc'));
  assert.ok(acc >= 60, `validation accuracy after one epoch on WebGPU (1,000 samples): ${acc} %`);
  // Predictions asked for while the GPU trains wait their turn instead of breaking the run.
  await page.mouse.move(0, 0);
  await drawStrokes(4);
  await page.waitForFunction(() => document.getElementById('probs').dataset.prediction !== undefined);
  assert.equal(await page.getAttribute('body', 'data-status'), 'running', await text('#notice'));
  await page.evaluate(() => globalThis.whetstone.engine.request('lose-gpu'));
  await page.waitForFunction(() => /GPU was lost/.test(document.getElementById('notice').textContent), null, {
    timeout: 120_000,
  });
  assert.match(await text('#backend'), /CPU/);
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 240_000 });
  assert.match(await text('#stat-epoch'), /3 \/ 3/);
  assert.match(await text('#notice'), /finished on the CPU, after the GPU was lost/);
  assert.equal(await page.isDisabled('#device option[value="gpu"]'), true);
  await page.screenshot({ path: join(shots, 'playground-gpu-fallback.png'), fullPage: true });
  await ui.selectOption('#device', 'auto');
  await ui.fill('#samples', '10000');
  await ui.fill('#heldout', '2000');
});

test('a toy set trains an MLP and shows its decision regions', async () => {
  await chooseDataset('spiral', /1,000 samples of 2, 3 classes/);
  await page.waitForFunction(() => document.getElementById('preset').value === 'toy');
  await ui.fill('#epochs', '60');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  const acc = parseFloat(await text('#stat-val-acc'));
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
  await chooseDataset('circle', /1,000 samples of 2, 2 classes/);
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
    const acc = parseFloat(await text('#stat-val-acc'));
    assert.ok(acc >= 90, `${optimizer}: circle validation accuracy ${acc} %`);
  }
  await ui.selectOption('#optimizer', 'adam');
  await ui.fill('#lr', '0.02');
  // A heavy L2 penalty keeps the weights too small to carve out the circle: the model underfits.
  await ui.fill('#l2', '1');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  const penalised = parseFloat(await text('#stat-val-acc'));
  assert.ok(penalised < 80, `with L2 = 1 the circle should underfit, got ${penalised} %`);
  await ui.fill('#l2', '-1');
  await ui.click('#train');
  await page.waitForFunction(() =>
    /L1 and L2 penalties must be numbers ≥ 0/.test(document.getElementById('notice').textContent),
  );
  await ui.fill('#l2', '0');
  await backToTheSpiral();
});

test('early stopping ends a run where the validation loss stops improving and restores the best epoch', async () => {
  await ui.fill('#patience', '2');
  await ui.fill('#epochs', '60');
  await ui.fill('#lr', '0.02');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  const notice = await text('#notice');
  const [, stopped, best] =
    notice.match(/early at epoch (\d+): the validation loss had not improved since epoch (\d+)/) ?? [];
  assert.ok(stopped, notice);
  assert.equal(Number(best), Number(stopped) - 2, 'with a patience of 2 the best epoch is two before the stop');
  assert.match(await text('#stat-epoch'), new RegExp(`^${stopped} / 60$`));
  await page.screenshot({ path: join(shots, 'playground-early-stop.png'), fullPage: true });
  await ui.fill('#patience', '0');
});

test('the learning-rate schedule is drawn before training and followed step by step, with the gradient norm of every step', async () => {
  await chooseDataset('circle', /2 classes/);
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
  const accuracy = parseFloat(await text('#stat-val-acc'));
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
  await backToTheSpiral();
});

test('a trained model saves to the browser and to a file, and reloads with the same predictions', async () => {
  const points = Array.from({ length: 40 }, (_, i) => [Math.cos(i) * (i / 40), Math.sin(i) * (i / 30)]).flat();
  const predict = () =>
    page.evaluate(
      async (features) => Array.from((await globalThis.whetstone.engine.request('predict', { features })).probs),
      points,
    );
  await chooseDataset('circle', /2 classes/);
  await ui.fill('#epochs', '10');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  const trained = await predict();
  await ui.click('#store-model');
  await page.waitForFunction(() => document.querySelectorAll('#saved-models li').length === 1);
  assert.match(await text('#saved-models li .name'), /^circle · toy · \d+\.\d % · \d{4}-/);
  const file = join(shots, 'circle.safetensors');
  const [modelDownload] = await Promise.all([page.waitForEvent('download'), ui.click('#download-model')]);
  await modelDownload.saveAs(file);
  const bytes = readFileSync(file);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString());
  assert.deepEqual(header['layers.0.weight'].shape, [2, 16]);
  assert.match(header.__metadata__.history, /^epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds\n1,/);
  // The ONNX export: a protobuf ModelProto (ir_version 8 first) with the model's graph.
  const [onnxDownload] = await Promise.all([page.waitForEvent('download'), ui.click('#export-onnx')]);
  const onnx = readFileSync(await onnxDownload.path());
  assert.deepEqual([...onnx.subarray(0, 2)], [0x08, 0x08]);
  for (const op of ['Gemm', 'Tanh', 'Softmax', 'probabilities'])
    assert.ok(onnx.includes(op), `${op} in the ONNX graph`);
  const [historyDownload] = await Promise.all([page.waitForEvent('download'), ui.click('#export-history')]);
  const history = readFileSync(await historyDownload.path(), 'utf8')
    .trim()
    .split('\n');
  assert.equal(history.length, 11, 'a header and one row per epoch');
  assert.equal(history[10].split(',')[0], '10');

  // After a reload nothing is trained; the model saved in the browser comes back exactly.
  await page.reload();
  await page.waitForFunction(
    () =>
      document.querySelectorAll('#saved-models li').length === 1 && document.querySelectorAll('#summary tr').length > 3,
  );
  await ui.click('#saved-models li button:text("Load")');
  await page.waitForFunction(() => /^Loaded “circle/.test(document.getElementById('notice').textContent));
  assert.deepEqual(await predict(), trained);
  // Another run changes the model; the downloaded file brings the saved one back.
  await ui.fill('#seed', '5');
  await ui.fill('#epochs', '1');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  assert.notDeepEqual(await predict(), trained);
  await page.setInputFiles('#model-file', file);
  await page.waitForFunction(() =>
    /^Loaded “circle.safetensors”: \d+\.\d % validation accuracy/.test(document.getElementById('notice').textContent),
  );
  assert.deepEqual(await predict(), trained);
  await page.screenshot({ path: join(shots, 'playground-saved-models.png'), fullPage: true });

  // A damaged file and a model for other data are refused, and the loaded model stays.
  const damaged = join(shots, 'damaged.safetensors');
  writeFileSync(damaged, bytes.subarray(0, bytes.length - 20));
  await page.setInputFiles('#model-file', damaged);
  await page.waitForFunction(() =>
    /Could not load “damaged.safetensors”: this is not a readable Whetstone model file/.test(
      document.getElementById('notice').textContent,
    ),
  );
  assert.deepEqual(await predict(), trained);
  await chooseDataset('spiral', /3 classes/);
  await page.setInputFiles('#model-file', file);
  await page.waitForFunction(() =>
    /Could not load “circle.safetensors”: the last layer outputs 2 values but the data has 3 classes/.test(
      document.getElementById('notice').textContent,
    ),
  );
  await ui.click('#saved-models li button:text("Delete")');
  await page.waitForFunction(() => document.querySelectorAll('#saved-models li').length === 0);
  await ui.fill('#seed', '1');
  await ui.fill('#epochs', '60');
});

/** The raw bytes of each tensor in a .safetensors file. */
function tensors(bytes) {
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString());
  return Object.fromEntries(
    Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .map(([k, v]) => [k, bytes.subarray(8 + length + v.data_offsets[0], 8 + length + v.data_offsets[1])]),
  );
}

test('the layer editor changes, adds, moves and removes layers, and a frozen layer keeps its weights', async () => {
  await chooseDataset('circle', /2 classes/);
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
  // A residual block fits itself to its input: x + relu(dense 16 (x)).
  await ui.selectOption('#add-layer-kind', 'residual');
  await ui.click('#add-layer');
  await page.waitForFunction(() => /5\s*residual\s*16\s*272/.test(document.getElementById('summary').innerText));
  assert.match(await text('#summary'), /x \+ \(dense → relu\)/);
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
  await backToTheSpiral();
});

test('starting from the pretrained CNN learns digits 5–9 from 50 samples better than random weights, side by side', async () => {
  await chooseDataset('digits-5-9', /samples of 1 × 28 × 28, 5 classes/);
  assert.deepEqual(
    [await page.inputValue('#samples'), await page.inputValue('#heldout'), await page.inputValue('#epochs')],
    ['1050', '1000', '6'],
  );
  await ui.selectOption('#start-from', 'random');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  const scratch = parseFloat(await text('#stat-val-acc'));
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
  const transferred = parseFloat(await text('#stat-val-acc'));
  const notice = await text('#notice');
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
  await backToTheSpiral();
});

test('a GRU learns the noisy waveforms, shows them, and predicts a drawn sequence', async () => {
  await chooseDataset('waves', /2,400 samples of 48 × 1, 4 classes/);
  assert.equal(await page.inputValue('#preset'), 'gru');
  assert.match(await text('#summary'), /gru[\s\S]*32[\s\S]*dense/);
  assert.equal(await page.locator('#sequence-examples figure').count(), 4);
  assert.equal(await page.isVisible('#draw-area'), false);
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 300_000 });
  const acc = parseFloat(await text('#stat-val-acc'));
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

test('a CSV of sequences uploads and trains, a ragged one is refused with its line, and the upload survives a reload', async () => {
  await page.waitForFunction(() => /samples of/.test(document.getElementById('dataset-info').textContent));
  await ui.click('#upload summary');
  const [before, described] = [await page.inputValue('#dataset'), await text('#dataset-info')];
  const ragged = 'label,t0,t1,t2\nup,1,2,3\ndown,3,2\n';
  await page.setInputFiles('#sequence-file', { name: 'ragged.csv', mimeType: 'text/csv', buffer: Buffer.from(ragged) });
  await page.waitForFunction(() =>
    /Could not load “ragged.csv”: line 3 has 3 columns, but the first row has 4/.test(
      document.getElementById('notice').textContent,
    ),
  );
  assert.deepEqual([await page.inputValue('#dataset'), await text('#dataset-info')], [before, described]);
  // Rising and falling ramps of 12 steps with noise, labels in the last column.
  const random = seeded(7);
  const noise = () => (random() - 0.5) * 0.6;
  const rows = ['t0,t1,t2,t3,t4,t5,t6,t7,t8,t9,t10,t11,direction'];
  for (let i = 0; i < 200; i++) {
    const up = i % 2 === 0;
    rows.push(
      [...Array(12).keys()].map((s) => ((up ? s : 11 - s) / 11 + noise()).toFixed(3)).join(',') +
        (up ? ',rising' : ',falling'),
    );
  }
  await page.setInputFiles('#sequence-file', {
    name: 'ramps.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(rows.join('\n')),
  });
  await page.waitForFunction(() =>
    /200 samples of 12 × 1, 2 classes/.test(document.getElementById('dataset-info').textContent),
  );
  assert.equal(await page.inputValue('#dataset'), 'upload');
  assert.match(await text('#dataset'), /Your sequences: ramps.csv/);
  assert.deepEqual([await page.inputValue('#samples'), await page.inputValue('#heldout')], ['200', '40']);
  await ui.fill('#epochs', '8');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  const acc = parseFloat(await text('#stat-val-acc'));
  assert.ok(acc >= 90, `rising against falling ramps: ${acc} %`);
  await page.reload();
  await page.waitForFunction(() =>
    /200 samples of 12 × 1, 2 classes/.test(document.getElementById('dataset-info').textContent),
  );
  assert.equal(await page.inputValue('#dataset'), 'upload');
  await backToTheSpiral();
});

/** Sets one searched setting's row in the search space editor. */
async function searchRow(param, { on, low, high, log }) {
  const field = (f) => `#tune-space [data-param="${param}"][data-field="${f}"]`;
  if (on !== undefined) await ui.setChecked(field('on'), on);
  if (low !== undefined) await ui.fill(field('low'), String(low));
  if (high !== undefined) await ui.fill(field('high'), String(high));
  if (log !== undefined) await ui.setChecked(field('log'), log);
}

/** Waits for the search just started to finish with `trials` trials. */
const finishedSearch = (trials) =>
  page.waitForFunction(
    (n) =>
      document.body.dataset.search === 'finished' &&
      new RegExp(`Search finished: ${n} trials`).test(document.getElementById('notice').textContent),
    trials,
    { timeout: 180_000 },
  );

test('the quality report finds duplicates, conflicting labels and imbalance, and one click fixes each', async () => {
  // Sequences of 4 steps: 30 distinct "up" rows, one of them three times, and 3 "down" rows, one
  // of which also appears labelled "up".
  const rows = ['t0,t1,t2,t3,label'];
  for (let i = 0; i < 30; i++) rows.push(`${i},${i + 1},${i + 2},${i + 3},up`);
  rows.push('0,1,2,3,up', '0,1,2,3,up');
  for (let i = 0; i < 3; i++) rows.push(`${90 - i},${80 - i},${70 - i},${60 - i},down`);
  rows.push('90,80,70,60,up');
  await ui.click('#upload summary');
  await page.setInputFiles('#sequence-file', {
    name: 'messy.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(rows.join('\n')),
  });
  await page.waitForFunction(() =>
    /36 samples of 4 × 1, 2 classes/.test(document.getElementById('dataset-info').textContent),
  );
  await ui.click('#quality summary');
  await ui.click('#quality-check');
  await page.waitForFunction(() => document.querySelectorAll('#quality-findings li').length > 1);
  const findings = await text('#quality-findings');
  assert.match(findings, /36 samples: down 3, up 33/);
  assert.match(findings, /2 groups of exact duplicates \(3 extra copies\)/);
  assert.match(findings, /1 of them with different labels/);
  assert.match(findings, /Class down is only 8\.3 % of the samples \(the largest is 11\.0× its size\)/);
  await ui.click('#quality-findings button[data-fix="duplicates"] >> nth=0');
  await page.waitForFunction(() =>
    /samples\s*36\s*33/.test(document.querySelector('#quality-findings .before-after')?.textContent),
  );
  assert.doesNotMatch(await text('#quality-findings'), /groups of exact duplicates/);
  // Imbalance is fixed in training, on the training split only: copies in both splits would leak.
  await ui.click('#quality-findings button[data-fix="oversample"]');
  await page.waitForFunction(() =>
    /Training will oversample the training split/.test(document.getElementById('quality-findings').textContent),
  );
  assert.equal(await page.inputValue('#rebalance'), 'oversample');
  await ui.fill('#epochs', '3');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  assert.match(await text('#notice'), /Training finished/);
  await ui.reveal('#quality');
  await page.locator('#quality').screenshot({ path: join(shots, 'playground-quality.png') });
  await ui.selectOption('#rebalance', '');
  await ui.click('#quality summary');
});

/** Rows of a table where `small` (0–1) decides the class, `huge` (0–1000) and `colour` are noise;
 * every tenth `small` is missing, row 7's `huge` is a million, `notes` is empty throughout and
 * `site` is A on every row but one. */
function plantsCsv(rows) {
  const random = seeded(11);
  const lines = ['small,huge,colour,notes,site,kind'];
  for (let i = 0; i < rows; i++) {
    const [small, huge, colour] = [random(), random() * 1000, ['red', 'green', 'blue'][Math.floor(random() * 3)]];
    lines.push(
      `${i % 10 === 3 ? 'NA' : small.toFixed(4)},${i === 7 ? 1e6 : huge.toFixed(2)},${colour},,${i === 5 ? 'B' : 'A'},${small > 0.5 ? 'tall' : 'short'}`,
    );
  }
  return lines.join('\n');
}

test('a CSV table loads with its first rows shown, the quality report finds missing values and outliers, and standardising beats raw numbers side by side', async () => {
  await expand('upload');
  const [before, described] = [await page.inputValue('#dataset'), await text('#dataset-info')];
  await ui.fill('#table-label', 'height');
  await page.setInputFiles('#table-file', {
    name: 'plants.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(plantsCsv(400)),
  });
  await page.waitForFunction(() =>
    /Could not load “plants.csv”: there is no column 'height'; the columns are small, huge, colour, notes, site, kind/.test(
      document.getElementById('notice').textContent,
    ),
  );
  assert.deepEqual([await page.inputValue('#dataset'), await text('#dataset-info')], [before, described]);
  // A file far over the size limit is refused before it is read.
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(65 * 2 ** 20)], 'big.csv', { type: 'text/csv' }));
    const input = document.getElementById('table-file');
    input.files = dt.files;
    input.dispatchEvent(new Event('change'));
  });
  await page.waitForFunction(() =>
    /Could not load “big.csv”: “big.csv” is 65 MB; the limit is 64 MB/.test(
      document.getElementById('notice').textContent,
    ),
  );
  assert.deepEqual([await page.inputValue('#dataset'), await text('#dataset-info')], [before, described]);
  await ui.fill('#table-label', '');
  await page.setInputFiles('#table-file', {
    name: 'plants.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(plantsCsv(400)),
  });
  await page.waitForFunction(() =>
    /400 samples of 4, 2 classes/.test(document.getElementById('dataset-info').textContent),
  );
  assert.match(await text('#notice'), /Loaded, but: column 'notes' was left out: every value in it is missing/);
  assert.match(await text('#dataset'), /Your table: plants.csv/);
  await expand('upload', false);
  const view = await text('#data-table');
  assert.match(view, /small\s+huge\s+colour\s+site\s+label/);
  assert.match(view, /missing/);
  assert.equal(await page.locator('#data-table tr').count(), 9);
  await expand('quality');
  await ui.click('#quality-check');
  await page.waitForFunction(() => /Missing values/.test(document.getElementById('quality-findings').textContent));
  const findings = await text('#quality-findings');
  assert.match(findings, /Missing values: small 40 \(40 rows have some\)/);
  assert.match(findings, /1 extreme values in huge .*rows 7\b/);
  assert.match(findings, /Nearly constant \(one value in 95 % of the rows or more\): site/);
  await ui.click('#quality-findings button[data-fix="columns"]');
  await page.waitForFunction(() =>
    /400 samples of 3, 2 classes/.test(document.getElementById('dataset-info').textContent),
  );
  await page.waitForFunction(() => !/Nearly constant/.test(document.getElementById('quality-findings').textContent));
  assert.doesNotMatch(await text('#data-table'), /site/);
  await ui.click('#quality-findings button:has-text("Drop those rows") >> nth=0');
  await page.waitForFunction(() =>
    /samples\s*400\s*360/.test(document.querySelector('#quality-findings .before-after')?.textContent),
  );
  assert.match(await text('#quality-findings .before-after'), /rows with missing values\s*40\s*0/);
  await ui.reveal('#quality');
  await page.locator('#quality').screenshot({ path: join(shots, 'playground-table-quality.png') });
  await expand('quality', false);
  // Feature engineering: standardised numbers and one-hot colours, fitted on the training split.
  await expand('features-editor');
  await ui.selectOption('#feature-scale', 'standardize');
  await ui.check('#feature-one_hot');
  await page.waitForFunction(() =>
    /samples of 5: small, huge, colour=blue, colour=green, colour=red/.test(
      document.getElementById('feature-info').textContent,
    ),
  );
  await page.waitForFunction(() => /"input": \[\s*5\s*\]/.test(document.getElementById('spec').value));
  await ui.selectOption('#optimizer', 'sgd');
  await ui.fill('#lr', '0.05');
  await ui.fill('#epochs', '10');
  await ui.click('#feature-compare');
  await page.waitForFunction(() => document.body.dataset.featureCompare, null, { timeout: 120_000 });
  // Plain SGD on raw numbers a thousand times apart diverges, or learns far less.
  const compared = JSON.parse(await page.getAttribute('body', 'data-feature-compare'));
  assert.ok(
    compared.with >= 0.9 && (compared.without === null || compared.with > compared.without + 0.15),
    await text('#feature-compare-result'),
  );
  assert.match(await text('#feature-compare-result'), /with the features: \d+\.\d %/);
  await ui.reveal('#features-editor');
  await page.locator('#features-editor').screenshot({ path: join(shots, 'playground-features.png') });
  // The model trained with the transform saves it: a reloaded file predicts the same.
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  assert.ok(parseFloat(await text('#stat-val-acc')) >= 90, await text('#stat-val-acc'));
  // Raw rows (a missing value included) go through the fitted transform at prediction too.
  const rows = [0.9, 10, 2, NaN, 500, 0, 0.1, 999, 1];
  const predict = () =>
    page.evaluate(
      async (features) => Array.from((await globalThis.whetstone.engine.request('predict', { features })).probs),
      rows,
    );
  const trained = await predict();
  // Classes in order: short, tall.
  assert.ok(trained[1] > 0.5 && trained[4] > 0.5, `tall, then short: ${trained}`);
  const [download] = await Promise.all([page.waitForEvent('download'), ui.click('#download-model')]);
  const file = join(shots, 'plants.safetensors');
  await download.saveAs(file);
  const bytes = readFileSync(file);
  const meta = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString()).__metadata__;
  assert.deepEqual(
    JSON.parse(meta.features).columns.map((c) => c.name),
    ['small', 'huge', 'colour'],
  );
  // With other feature settings on the page, the file still brings its own transform.
  await ui.selectOption('#feature-scale', 'none');
  await ui.uncheck('#feature-one_hot');
  await page.waitForFunction(() => /"input": \[\s*3\s*\]/.test(document.getElementById('spec').value));
  await page.setInputFiles('#model-file', file);
  await page.waitForFunction(() => /^Loaded “plants.safetensors”/.test(document.getElementById('notice').textContent));
  assert.deepEqual(await predict(), trained);
  await expand('features-editor', false);
  await ui.selectOption('#optimizer', 'adam');
  await backToTheSpiral();
});

/** A folder `shapes/` of 24 × 24 PNGs, white circles and squares at random places and sizes on black,
 * plus a copy of one square, a truncated PNG and a text file. */
function shapesFolder(perClass) {
  const dir = mkdtempSync(join(tmpdir(), 'whetstone-images-'));
  const random = seeded(5);
  const image = (kind) => {
    const r = 5 + random() * 4;
    const [cx, cy] = [r + random() * (24 - 2 * r), r + random() * (24 - 2 * r)];
    const inside =
      kind === 'circle'
        ? (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r
        : (x, y) => Math.abs(x - cx) <= r && Math.abs(y - cy) <= r;
    return png(24, 24, (x, y) => (inside(x + 0.5, y + 0.5) ? [255, 255, 255] : [0, 0, 0]));
  };
  for (const kind of ['circle', 'square']) {
    mkdirSync(join(dir, 'shapes', kind), { recursive: true });
    for (let i = 0; i < perClass; i++)
      writeFileSync(join(dir, 'shapes', kind, `${String(i).padStart(2, '0')}.png`), image(kind));
  }
  writeFileSync(join(dir, 'shapes', 'square', 'copy.png'), readFileSync(join(dir, 'shapes', 'square', '00.png')));
  writeFileSync(join(dir, 'shapes', 'circle', 'broken.png'), image('circle').subarray(0, 60));
  writeFileSync(join(dir, 'shapes', 'readme.txt'), 'circles and squares');
  return join(dir, 'shapes');
}

test('a folder of PNGs uploads with progress, bad files are named, each class shows in the gallery, and the quality report reads it', async () => {
  await expand('upload');
  await ui.selectOption('#image-channels', '1');
  await ui.selectOption('#image-size', '28');
  await page.setInputFiles('#image-folder', shapesFolder(80));
  await page.waitForFunction(
    () => /161 samples of 1 × 28 × 28, 2 classes/.test(document.getElementById('dataset-info').textContent),
    null,
    { timeout: 60_000 },
  );
  assert.match(await text('#dataset'), /Your images: 161 images from shapes/);
  const problems = await text('#upload-problems');
  assert.match(problems, /shapes\/circle\/broken.png: it could not be decoded/);
  assert.match(problems, /shapes\/readme.txt: not an image/);
  await page.waitForFunction(() => /2 files were left out/.test(document.getElementById('notice').textContent));
  assert.equal(await page.locator('#data-gallery .gallery-row').count(), 2);
  assert.equal(await page.locator('#data-gallery .gallery-row >> nth=0 >> canvas').count(), 6);
  await expand('quality');
  await ui.click('#quality-check');
  await page.waitForFunction(() => /exact duplicates/.test(document.getElementById('quality-findings').textContent));
  assert.match(await text('#quality-findings'), /161 samples: circle 80, square 81/);
  // The copy of a square at least (two small random shapes may come out the same pixels too).
  assert.ok(
    Number(/(\d+) groups of exact duplicates/.exec(await text('#quality-findings'))?.[1]) >= 1,
    await text('#quality-findings'),
  );
  await expand('quality', false);
  await ui.fill('#epochs', '15');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  const acc = parseFloat(await text('#stat-val-acc'));
  assert.ok(acc >= 80, `circles against squares: ${acc} %`);
  await ui.reveal('#data-detail');
  await page.locator('#data-detail').screenshot({ path: join(shots, 'playground-images.png') });
  // A .zip with one class and an empty class folder: refused, each reason shown, nothing replaced.
  const one = zip([
    { path: 'set/dots/' },
    { path: 'set/dots/a.png', data: png(8, 8, () => [9, 9, 9]) },
    { path: 'set/empty/' },
  ]);
  await page.setInputFiles('#image-files', { name: 'one.zip', mimeType: 'application/zip', buffer: one });
  await page.waitForFunction(() =>
    /Could not load the images: found only one class \('dots'\)/.test(document.getElementById('notice').textContent),
  );
  assert.match(await text('#upload-problems'), /set\/empty\/: this class folder is empty/);
  assert.match(await text('#dataset-info'), /161 samples/);
  await page.reload();
  await page.waitForFunction(() =>
    /161 samples of 1 × 28 × 28/.test(document.getElementById('dataset-info').textContent),
  );
  await expand('upload');
  await ui.click('#delete-upload');
  await page.waitForFunction(() => /Deleted your images/.test(document.getElementById('notice').textContent));
  assert.equal(await page.locator('#dataset option[value=images]').count(), 0);
  await ui.selectOption('#image-channels', '3');
  await ui.selectOption('#image-size', '32');
  // A JPEG, a WebP and a GIF (its first frame) with a labels CSV; one far over the size limit is
  // named and left out. The browser encodes the JPEG and the WebP.
  const gif = [
    ...Buffer.from('47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b', 'hex'),
  ];
  await page.evaluate(async (gifBytes) => {
    const encode = async (colour, type) => {
      const canvas = new OffscreenCanvas(8, 8);
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = colour;
      ctx.fillRect(0, 0, 8, 8);
      return canvas.convertToBlob({ type });
    };
    const dt = new DataTransfer();
    dt.items.add(new File([await encode('#c00', 'image/jpeg')], 'x.jpg', { type: 'image/jpeg' }));
    dt.items.add(new File([await encode('#00c', 'image/webp')], 'y.webp', { type: 'image/webp' }));
    dt.items.add(new File([new Uint8Array(gifBytes)], 'z.gif', { type: 'image/gif' }));
    dt.items.add(new File([new Uint8Array(33 * 2 ** 20)], 'big.png', { type: 'image/png' }));
    dt.items.add(
      new File(['file,label\nx.jpg,red\ny.webp,blue\nz.gif,red\nbig.png,red\n'], 'labels.csv', { type: 'text/csv' }),
    );
    const input = document.getElementById('image-files');
    input.files = dt.files;
    input.dispatchEvent(new Event('change'));
  }, gif);
  await page.waitForFunction(() =>
    /3 samples of 3 × 32 × 32, 2 classes/.test(document.getElementById('dataset-info').textContent),
  );
  assert.match(await text('#upload-problems'), /big.png: 33 MB is over the 32 MB limit for one image/);
  assert.deepEqual(await page.evaluate(() => globalThis.whetstone.state.dataset.classes), ['blue', 'red']);
  // Decoded as drawn: the JPEG red, the WebP blue (a pixel's red and blue planes, 0–1).
  const first = await page.evaluate(() =>
    globalThis.whetstone.state.dataset.gallery.map((g) => [
      g.label,
      g.images[0][16 * 32 + 16],
      g.images[0][2 * 1024 + 16 * 32 + 16],
    ]),
  );
  assert.ok(first[0][0] === 0 && first[0][1] < 0.2 && first[0][2] > 0.6, `blue: ${first[0]}`);
  assert.ok(first[1][0] === 1 && first[1][1] > 0.6 && first[1][2] < 0.2, `red: ${first[1]}`);
  await ui.click('#delete-upload');
  await page.waitForFunction(() => /Deleted your images/.test(document.getElementById('notice').textContent));
  await expand('upload', false);
  await backToTheSpiral();
});

test('a Bayesian search runs trials in parallel workers, ranks them, and its best trains the final model', async () => {
  await chooseDataset('circle', /1,000 samples of 2, 2 classes/);
  await ui.fill('#epochs', '30');
  await ui.reveal('#tune-panel');
  await page.locator('#tune-panel').scrollIntoViewIfNeeded();
  await searchRow('lr', { on: true, low: 0.0003, high: 0.03, log: true });
  await searchRow('units', { on: true, low: 2, high: 64, log: true });
  await ui.selectOption('#tune-strategy', 'bayesian');
  await ui.fill('#tune-budget', '8');
  await ui.fill('#tune-workers', '2');
  await ui.click('#tune-start');
  // Two trials train at the same time, each in its own worker.
  await page.waitForFunction(() => globalThis.whetstone.tuner.pool?.running === 2);
  await finishedSearch(8);
  const rows = page.locator('#tune-trials tr[data-trial]');
  assert.equal(await rows.count(), 8);
  assert.equal(await page.locator('#tune-trials tr[data-trial] td:nth-child(2)', { hasText: 'done' }).count(), 8);
  assert.equal(await page.locator('#tune-trials tr.best').count(), 1);
  assert.match(await text('#notice'), /Search finished: 8 trials; the best, trial #\d+, scored \d+\.\d %/);
  // Sorting by the score puts the best trial first.
  await ui.click('#tune-trials th[data-sort="score"]');
  assert.equal(await rows.first().getAttribute('class'), 'best');
  const best = await page.evaluate(() => globalThis.whetstone.tuner.best);
  assert.ok(best.outcome.score >= 0.9, `best trial scored ${best.outcome.score}`);
  assert.equal(await page.locator('#tune-scatter canvas').count(), 2);
  await page.screenshot({ path: join(shots, 'playground-tuning.png'), fullPage: true });
  // One click trains the final model with the best trial's values.
  await ui.click('#tune-train-best');
  // The new run's 30 epochs, not the status an earlier run left.
  await page.waitForFunction(
    () => document.body.dataset.status === 'done' && globalThis.whetstone.state.run.history.length === 30,
    null,
    { timeout: 120_000 },
  );
  assert.equal(Number(await page.inputValue('#lr')), best.config.lr);
  assert.match(await page.inputValue('#spec'), new RegExp(`"units": ${best.config.units}`));
  // The same seed, split and values: the final model scores what the trial did.
  assert.equal(await text('#stat-val-acc'), `${(best.outcome.score * 100).toFixed(1)} %`);
});

test('bad search settings are refused, and a trial that diverges fails while the search goes on', async () => {
  await ui.fill('#tune-budget', '0');
  await ui.click('#tune-start');
  await page.waitForFunction(() => /the budget is 0 trials/.test(document.getElementById('notice').textContent));
  await ui.fill('#tune-budget', '3');
  await searchRow('lr', { low: 0, log: true });
  await ui.click('#tune-start');
  await page.waitForFunction(() =>
    /'lr': a log-scale range must be above 0, but it starts at 0/.test(document.getElementById('notice').textContent),
  );
  // A grid over rates from 0.01 to 10,000: the largest ones blow the loss up.
  await searchRow('lr', { low: 0.01, high: 10000, log: true });
  await searchRow('units', { on: false });
  await ui.selectOption('#tune-strategy', 'grid');
  await ui.fill('#tune-points', '3');
  await ui.selectOption('#optimizer', 'sgd');
  await ui.click('#tune-start');
  await finishedSearch(3);
  const statuses = await page.locator('#tune-trials tr[data-trial] td:nth-child(2)').allInnerTexts();
  assert.equal(statuses.length, 3);
  assert.ok(
    statuses.some((s) => /^failed: training diverged/.test(s)),
    statuses.join(' | '),
  );
  assert.ok(
    statuses.some((s) => s === 'done'),
    statuses.join(' | '),
  );
  assert.match(await text('#notice'), /Search finished: 3 trials \([12] failed\)/);
  await ui.selectOption('#optimizer', 'adam');
});

test('a stopped search is kept, and resumes after a reload where it stopped', async () => {
  await searchRow('lr', { low: 0.001, high: 0.05, log: true });
  await ui.selectOption('#tune-strategy', 'random');
  await ui.fill('#tune-budget', '16');
  await ui.fill('#tune-workers', '1');
  await ui.fill('#epochs', '60');
  await ui.click('#tune-start');
  // Trials on the circle set are short enough for the whole search to end between two polls of
  // the test, so Stop is pressed from inside the page the moment the second trial is done.
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const watch = setInterval(() => {
          if (globalThis.whetstone.tuner.trials.filter((t) => t.outcome.state === 'done').length < 2) return;
          clearInterval(watch);
          document.getElementById('tune-stop').click();
          resolve();
        }, 1);
      }),
  );
  await page.waitForFunction(() => document.body.dataset.search === 'idle');
  const done = await page.evaluate(() =>
    globalThis.whetstone.tuner.trials.filter((t) => t.outcome.state === 'done').map((t) => t.config.lr),
  );
  assert.ok(done.length < 16, `stopped after ${done.length} trials`);
  await page.reload();
  await page.waitForFunction(() => !document.getElementById('tune-resume').hidden);
  assert.match(
    await text('#tune-info'),
    new RegExp(`random search on “circle” was stopped with ${done.length} trials done`),
  );
  await ui.click('#tune-resume');
  await finishedSearch(16);
  const trials = await page.evaluate(() => globalThis.whetstone.tuner.trials);
  assert.equal(trials.filter((t) => t.outcome.state === 'done').length, 16);
  // The trials finished before the reload are kept as they were.
  assert.deepEqual(
    trials.slice(0, done.length).map((t) => t.config.lr),
    done,
  );
  assert.equal(await page.isVisible('#tune-resume'), false);
  await backToTheSpiral();
});

/** The members listed in the ensemble panel. */
const ensembleMembers = () => page.locator('#ensemble-members li .name').allInnerTexts();

test('bagging members trained side by side make an ensemble that beats its mean member', async () => {
  await chooseDataset('digits', /10,000 samples of 1 × 28 × 28, 10 classes/);
  await ui.selectOption('#preset', 'mlp');
  await page.waitForFunction(() => /dense/.test(document.getElementById('summary').textContent));
  await ui.fill('#samples', '3000');
  await ui.fill('#heldout', '1000');
  await ui.fill('#epochs', '2');
  await ui.reveal('#ensemble-panel');
  await page.locator('#ensemble-panel').scrollIntoViewIfNeeded();
  await ui.click('#ensemble-clear');
  await ui.fill('#ensemble-bag-count', '5');
  await ui.click('#ensemble-bag');
  await page.waitForFunction(() => document.querySelectorAll('#ensemble-members li').length === 5, null, {
    timeout: 180_000,
  });
  assert.match(await text('#ensemble-info'), /5 of 5 members trained/);
  await ui.click('#ensemble-compare');
  await page.waitForFunction(() => !document.getElementById('ensemble-results').hidden);
  const c = await page.evaluate(() => globalThis.whetstone.ensembler.comparison);
  assert.equal(c.test_samples, 500);
  const [hard, soft, weighted] = c.ensembles;
  assert.deepEqual([hard.name, soft.name, weighted.name], ['hard voting', 'soft voting', 'weighted average']);
  assert.ok(
    soft.accuracy > c.mean_member.accuracy && soft.log_loss < c.mean_member.log_loss,
    `soft ${soft.accuracy} against the mean member ${c.mean_member.accuracy}`,
  );
  assert.ok(
    weighted.accuracy > c.mean_member.accuracy,
    `weighted ${weighted.accuracy} against ${c.mean_member.accuracy}`,
  );
  assert.ok(Math.abs(c.weights.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.ok(c.disagreement > 0);
  assert.ok((await page.locator('#ensemble-disagreements figure').count()) > 0);
  assert.match(await text('#ensemble-table'), /mean member[\s\S]*soft voting/);
  await ui.reveal('#ensemble-panel');
  await page.locator('#ensemble-panel').screenshot({ path: join(shots, 'playground-ensemble.png') });
  // Members scored on another held-out split cannot join.
  await ui.fill('#heldout', '900');
  await ui.fill('#ensemble-bag-count', '2');
  await ui.click('#ensemble-bag');
  await page.waitForFunction(
    () => /“bagging 1” was scored on another held-out split/.test(document.getElementById('notice').textContent),
    null,
    { timeout: 60_000 },
  );
  assert.equal((await ensembleMembers()).length, 5);
  await ui.fill('#heldout', '1000');
});

test('the snapshots of one cosine-restart run, and the best trials of a search, make ensembles', async () => {
  await chooseDataset('spiral', /3 classes/);
  await ui.fill('#epochs', '30');
  await ui.click('#ensemble-clear');
  // Too few snapshots: the last run did not use restarts.
  await ui.click('#ensemble-snapshots');
  await page.waitForFunction(() =>
    /train a model first|snapshot ensemble takes one at the end of each cosine-restart cycle/.test(
      document.getElementById('notice').textContent,
    ),
  );
  await ui.selectOption('#schedule', 'cosine_restarts');
  await ui.fill('#schedule-period', '10');
  await ui.fill('#schedule-mult', '1');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  await ui.click('#ensemble-snapshots');
  await page.waitForFunction(() => document.querySelectorAll('#ensemble-members li').length === 3);
  assert.deepEqual(await ensembleMembers(), ['snapshot at epoch 10', 'snapshot at epoch 20', 'snapshot at epoch 30']);
  await ui.click('#ensemble-compare');
  await page.waitForFunction(() => globalThis.whetstone.ensembler.comparison?.members.length === 3);
  await ui.selectOption('#schedule', 'constant');
  // A short search on the same split, then its three best trials.
  await ui.click('#ensemble-clear');
  await searchRow('lr', { on: true, low: 0.003, high: 0.1, log: true });
  await searchRow('units', { on: false });
  await ui.selectOption('#tune-strategy', 'random');
  await ui.fill('#tune-budget', '4');
  await ui.fill('#tune-workers', '2');
  await ui.click('#tune-start');
  await finishedSearch(4);
  await ui.click('#ensemble-trials');
  await page.waitForFunction(() => document.querySelectorAll('#ensemble-members li').length === 3);
  const best = await page.evaluate(() => globalThis.whetstone.tuner.bestTrials(3).map((m) => m.name));
  assert.deepEqual(await ensembleMembers(), best);
  await ui.click('#ensemble-compare');
  await page.waitForFunction(() => globalThis.whetstone.ensembler.comparison?.members.length === 3);
  // A model saved on the circle set knows two classes; the spiral has three.
  await chooseDataset('circle', /2 classes/);
  await ui.fill('#epochs', '3');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  await ui.click('#store-model');
  await page.waitForFunction(() => document.querySelectorAll('#saved-models li').length === 1);
  await chooseDataset('spiral', /3 classes/);
  await ui.reveal('#saved-models');
  await page.locator('#saved-models .ensemble-pick').first().check();
  await ui.click('#ensemble-saved');
  await page.waitForFunction(() =>
    /“circle · toy[^”]*” cannot join the ensemble: the last layer outputs 2 values but the data has 3 classes/.test(
      document.getElementById('notice').textContent,
    ),
  );
  assert.equal((await ensembleMembers()).length, 3);
  await ui.click('#saved-models li button:text("Delete")');
  await page.waitForFunction(() => document.querySelectorAll('#saved-models li').length === 0);
  await backToTheSpiral();
});

test('a deployed model meets a drifting stream: the alert rises, feedback is kept, retraining with replay recovers, and versions roll back', async () => {
  await chooseDataset('digits', /10,000 samples/);
  await ui.selectOption('#preset', 'mlp');
  await page.waitForFunction(() => document.body.dataset.setup === 'ready');
  await ui.fill('#samples', '4000');
  await ui.fill('#heldout', '800');
  await ui.fill('#epochs', '2');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  await ui.reveal('#deploy-panel');
  await page.locator('#deploy-panel').scrollIntoViewIfNeeded();
  await ui.click('#deploy');
  await page.waitForFunction(() =>
    /deployed: v1 \(\d+\.\d % on the held-out split\)/.test(document.getElementById('deploy-version').textContent),
  );
  // Held-out digits: a third as they are, then turned up to 90°.
  await ui.fill('#stream-count', '600');
  await ui.fill('#stream-degrees', '90');
  await ui.click('#stream-play');
  await page.waitForFunction(() => document.body.dataset.stream === 'done', null, { timeout: 120_000 });
  // The live accuracy as plotted: over the last 50 answers of the calm third, and at the end.
  const [xs, accuracy] = await page.evaluate(() => globalThis.whetstone.deployment.monitorChart.columns);
  const calm = accuracy[xs.indexOf(200)];
  const drifted = Number(await page.getAttribute('body', 'data-live-accuracy'));
  assert.equal(drifted, accuracy.at(-1));
  assert.ok(drifted < calm - 0.2, `live accuracy ${calm} on the calm stream, ${drifted} once turned`);
  assert.equal(await page.isVisible('#deploy-alert'), true);
  assert.match(
    await text('#deploy-alert'),
    /Drift alert: the last 100 inputs no longer look like the training data \(PSI \d+\.\d+, over 0\.2;/,
  );
  const drift = JSON.parse(await page.getAttribute('body', 'data-drift'));
  assert.ok(drift.psi > 0.2 && drift.p_value < 0.01, JSON.stringify(drift));
  await page.waitForFunction(() =>
    /600 answers with feedback kept in this browser/.test(document.getElementById('feedback-info').textContent),
  );
  assert.equal(await page.locator('#deploy-recent li').count(), 8);
  // A drawn "1" goes to the deployed model; correcting its answer by hand is feedback too.
  await ui.click('#clear');
  await ui.reveal('#draw');
  await page.locator('#draw').scrollIntoViewIfNeeded();
  const box = await page.locator('#draw').boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.85, { steps: 10 });
  await page.mouse.up();
  await ui.reveal('#deploy-panel');
  await page.locator('#deploy-panel').scrollIntoViewIfNeeded();
  await ui.click('#deploy-drawing');
  await page.waitForFunction(() => !/✓|✗/.test(document.querySelector('#deploy-recent li')?.textContent));
  await ui.selectOption('#deploy-recent li >> nth=0 >> select', '7');
  await page.waitForFunction(() =>
    /601 answers with feedback kept in this browser/.test(document.getElementById('feedback-info').textContent),
  );
  assert.match(await text('#deploy-recent li >> nth=0'), /is 7/);
  // An image dropped on the panel is resized to the digits' shape and answered too.
  const bar = [...png(20, 20, (x) => (x >= 8 && x < 12 ? [255, 255, 255] : [0, 0, 0]))];
  await page.evaluate((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], 'bar.png', { type: 'image/png' }));
    document
      .getElementById('deploy-drop')
      .dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bar);
  await page.waitForFunction(() => /602 predictions/.test(document.getElementById('monitor-info').textContent));
  // Fine-tuning on the feedback with a replay of old samples: better on the new data, and the old
  // data is not forgotten.
  await ui.fill('#retrain-replay', '500');
  await ui.fill('#retrain-epochs', '4');
  await ui.click('#retrain');
  await page.waitForFunction(() => document.body.dataset.retrained, null, { timeout: 180_000 });
  const m = JSON.parse(await page.getAttribute('body', 'data-retrained'));
  assert.ok(m.new.new > m.old.new + 0.1, `new data: deployed ${m.old.new}, retrained ${m.new.new}`);
  assert.ok(m.new.old > m.old.old - 0.05, `old data: deployed ${m.old.old}, retrained ${m.new.old}`);
  assert.match(await text('#retrain-compare'), /deployed v1[\s\S]*retrained/);
  await ui.reveal('#deploy-panel');
  await page.locator('#deploy-panel').screenshot({ path: join(shots, 'playground-deploy.png') });
  // From scratch on the same feedback and replay: a comparison too, not promoted.
  await ui.selectOption('#retrain-mode', 'scratch');
  await page.evaluate(() => {
    delete document.body.dataset.retrained;
  });
  await ui.click('#retrain');
  await page.waitForFunction(() => document.body.dataset.retrained, null, { timeout: 180_000 });
  const scratch = JSON.parse(await page.getAttribute('body', 'data-retrained'));
  assert.ok(
    scratch.new.new > scratch.old.new,
    `new data: deployed ${scratch.old.new}, trained from scratch ${scratch.new.new}`,
  );
  // Back to fine-tuning, which is promoted.
  await ui.selectOption('#retrain-mode', 'fine-tune');
  await page.evaluate(() => {
    delete document.body.dataset.retrained;
  });
  await ui.click('#retrain');
  await page.waitForFunction(() => document.body.dataset.retrained, null, { timeout: 180_000 });
  await ui.click('#promote');
  await page.waitForFunction(
    () => document.body.dataset.deployed === 'v2' && /v2/.test(document.getElementById('versions').textContent),
  );
  assert.match(
    await text('#versions'),
    /v1[\s\S]*trained in the page[\s\S]*v2[\s\S]*fine-tuned on 480 feedback answers \+ 500 replayed/,
  );
  // Versions and feedback survive a reload; rolling back deploys the old version again.
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.deployed === 'v2', null, { timeout: 60_000 });
  assert.match(await text('#feedback-info'), /601 answers with feedback/);
  await ui.click('#versions li >> nth=0 >> button');
  await page.waitForFunction(() => document.body.dataset.deployed === 'v1');
  await ui.click('#versions-clear');
  await ui.click('#feedback-clear');
  await page.waitForFunction(() => /No feedback yet/.test(document.getElementById('feedback-info').textContent));
  await ui.fill('#samples', '10000');
  await ui.fill('#heldout', '2000');
  await backToTheSpiral();
});

test('the deployed model takes CSV rows of a table and refuses bad rows, a webcam that is not there, and feedback for a class it does not know', async () => {
  await chooseDataset('table', /samples of 4, 2 classes/);
  await ui.fill('#epochs', '5');
  // Raw, a million in one row makes the first step diverge; the message says what to do.
  await ui.click('#train');
  await page.waitForFunction(
    () =>
      /diverged[\s\S]*This table's numbers are not scaled: standardise them under “Feature engineering”/.test(
        document.getElementById('notice').textContent,
      ),
    null,
    { timeout: 60_000 },
  );
  await expand('features-editor');
  await ui.selectOption('#feature-scale', 'standardize');
  await page.waitForFunction(() => document.body.dataset.setup === 'ready');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  await ui.reveal('#deploy-panel');
  await page.locator('#deploy-panel').scrollIntoViewIfNeeded();
  await ui.click('#deploy');
  await page.waitForFunction(() => /deployed: v1/.test(document.getElementById('deploy-version').textContent));
  const rowsSay = async (rows, pattern) => {
    await ui.fill('#deploy-rows', rows);
    await ui.click('#deploy-rows-predict');
    await page.waitForFunction(
      (p) => new RegExp(p).test(document.getElementById('notice').textContent),
      pattern.source,
    );
  };
  await rowsSay('0.9,500', /row 1 has 2 values where the table has 4 columns \(small, huge, colour, site\)/);
  await rowsSay('0.9,500,purple,A', /row 1: 'purple' is not a category of colour \(blue, green, red\)/);
  await rowsSay('0.9,fast,red,A', /row 1: huge must be a number, got 'fast'/);
  await ui.fill('#deploy-rows', '0.95,500,red,A\n0.05,NA,blue,A');
  await ui.click('#deploy-rows-predict');
  await page.waitForFunction(() => document.querySelectorAll('#deploy-recent li').length === 2);
  assert.match(await text('#deploy-recent li >> nth=0'), /^short/);
  assert.match(await text('#deploy-recent li >> nth=1'), /^tall/);
  await ui.click('#deploy-webcam');
  await page.waitForFunction(() =>
    /this data is not images: the webcam cannot feed it/.test(document.getElementById('notice').textContent),
  );
  // Feedback that names a class the model does not have (from another project, say) is refused.
  await page.evaluate(async () => {
    const { putFeedback } = await import('./www/engine/store.js');
    const dataKey = globalThis.whetstone.deployment.loaded;
    await putFeedback(
      Array.from({ length: 12 }, (_, i) => ({
        name: `bad${i}`,
        at: i,
        features: [0.5, 100, 0, 0],
        predicted: 0,
        label: i === 11 ? 5 : i % 2,
        dataKey,
      })),
    );
  });
  await ui.click('#retrain');
  await page.waitForFunction(
    () => /feedback label 5 is not one of the model's 2 classes/.test(document.getElementById('notice').textContent),
    null,
    { timeout: 60_000 },
  );
  await ui.click('#feedback-clear');
  await ui.click('#versions-clear');
  await ui.selectOption('#feature-scale', 'none');
  await expand('features-editor', false);
  // Images: headless Chromium has no camera, so the webcam is refused with the reason.
  await chooseDataset('digits', /10,000 samples/);
  await ui.click('#deploy-webcam');
  await page.waitForFunction(
    () =>
      /no webcam picture: (access was refused|there is no camera)|this browser offers no webcam/.test(
        document.getElementById('notice').textContent,
      ),
    null,
    { timeout: 30_000 },
  );
  await backToTheSpiral();
});

test('a project exports to one file and opens in another browser, a link carries the settings, and damaged or newer files are refused', async () => {
  await chooseDataset('circle', /2 classes/);
  await ui.fill('#epochs', '5');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  await ui.click('#store-model');
  await page.waitForFunction(() => document.querySelectorAll('#saved-models li').length === 1);
  const [download] = await Promise.all([page.waitForEvent('download'), ui.click('#export-project')]);
  const file = join(shots, 'whetstone-project.json');
  await download.saveAs(file);
  const project = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(project.format, 'whetstone-project');
  assert.equal(project.records.models.length, 1);
  assert.match(project.local['whetstone.settings.v1'], /"dataset":"circle"/);
  await ui.click('#copy-link');
  const link = await page.inputValue('#settings-link');
  assert.match(link, /#settings=[A-Za-z0-9_-]+$/);

  // Another browser with nothing stored: a damaged file and a newer one change nothing.
  const other = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const fresh = await other.newPage();
  await fresh.goto(server.url);
  await fresh.waitForFunction(() => document.body.dataset.setup === 'ready', null, { timeout: 60_000 });
  const notice = () => fresh.locator('#notice').innerText();
  const raw = readFileSync(file, 'utf8');
  await fresh.setInputFiles('#project-file', {
    name: 'cut.json',
    mimeType: 'application/json',
    buffer: Buffer.from(raw.slice(0, raw.length / 2)),
  });
  await fresh.waitForFunction(() =>
    /Could not import “cut.json”: this is not a readable Whetstone project file/.test(
      document.getElementById('notice').textContent,
    ),
  );
  await fresh.setInputFiles('#project-file', {
    name: 'newer.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ ...project, version: 99 })),
  });
  await fresh.waitForFunction(() =>
    /saved by a newer Whetstone \(project format 99\)/.test(document.getElementById('notice').textContent),
  );
  assert.equal(await fresh.locator('#saved-models li').count(), 0);
  await fresh.setInputFiles('#project-file', file);
  await fresh.waitForFunction(
    () => /Imported “whetstone-project.json”: 1 saved models/.test(document.getElementById('notice').textContent),
    null,
    { timeout: 60_000 },
  );
  await fresh.waitForFunction(() =>
    /1,000 samples of 2, 2 classes/.test(document.getElementById('dataset-info').textContent),
  );
  assert.equal(await fresh.locator('#saved-models li').count(), 1);
  assert.equal(await fresh.inputValue('#epochs'), '5');
  assert.match(await notice(), /Imported/);
  await other.close();

  // A link opens a fresh browser on the same settings.
  const linked = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const visitor = await linked.newPage();
  await visitor.goto(link);
  await visitor.waitForFunction(
    () => /1,000 samples of 2, 2 classes/.test(document.getElementById('dataset-info').textContent),
    null,
    { timeout: 60_000 },
  );
  assert.equal(await visitor.inputValue('#dataset'), 'circle');
  assert.equal(await visitor.inputValue('#epochs'), '5');
  await visitor.waitForFunction(() =>
    /Opened with the settings of the link/.test(document.getElementById('notice').textContent),
  );
  // Only the fragment changes: the open page reads it at once, without a reload.
  await visitor.goto(`${server.url}#settings=AAAA`);
  await visitor.waitForFunction(
    () => /the link's settings cannot be read/.test(document.getElementById('notice').textContent),
    null,
    {
      timeout: 60_000,
    },
  );
  assert.equal(await visitor.inputValue('#epochs'), '5', 'a damaged link changes nothing');
  await linked.close();

  await ui.click('#saved-models li button:text("Delete")');
  await page.waitForFunction(() => document.querySelectorAll('#saved-models li').length === 0);
  await backToTheSpiral();
});

test('colour jitter lifts a CNN on the biased shapes, and the preview shows each draw', async () => {
  await chooseDataset('shapes', /2,000 samples of 3 × 32 × 32, 4 classes/);
  assert.equal(await page.inputValue('#heldout'), '600');
  assert.equal(await page.isDisabled('#heldout'), true);
  await ui.click('#augment-editor summary');
  await page.waitForFunction(() => document.querySelectorAll('#augment-preview canvas').length === 12);
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 180_000 });
  const without = parseFloat(await text('#stat-val-acc'));
  // A strength out of range is refused by name.
  await ui.check('#augment-table [data-augment="hue"][data-field="on"]');
  await ui.fill('#augment-table [data-augment="hue"][data-field="strength"]', '500');
  await ui.press('#augment-table [data-augment="hue"][data-field="strength"]', 'Tab');
  await ui.click('#train');
  await page.waitForFunction(() =>
    /augmentation 'hue': degrees must be between 0 and 180, got 500/.test(
      document.getElementById('notice').textContent,
    ),
  );
  await ui.fill('#augment-table [data-augment="hue"][data-field="strength"]', '180');
  await ui.fill('#augment-table [data-augment="hue"][data-field="p"]', '1');
  await ui.press('#augment-table [data-augment="hue"][data-field="p"]', 'Tab');
  // The preview now shows the same circle in different colours.
  await page.waitForFunction(() =>
    /12 draws of the 1 chosen augmentation/.test(document.getElementById('augment-info').textContent),
  );
  const colours = await page.evaluate(() =>
    [...document.querySelectorAll('#augment-preview canvas')].map((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let best = [0, 0, 0, 0];
      for (let i = 0; i < d.length; i += 4)
        if (d[i] + d[i + 1] + d[i + 2] > best[0] + best[1] + best[2]) best = [d[i], d[i + 1], d[i + 2], 0];
      return best.slice(0, 3).join(',');
    }),
  );
  assert.ok(new Set(colours).size >= 6, `preview colours ${colours.join(' | ')}`);
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 180_000 });
  const jittered = parseFloat(await text('#stat-val-acc'));
  await page.screenshot({ path: join(shots, 'playground-shapes.png'), fullPage: true });
  assert.ok(
    jittered > without + 10,
    `test accuracy on random colours: ${without} % without augmentation, ${jittered} % with hue jitter`,
  );
  // The augmentation strength is a setting a search can tune: a grid over 0, ½ and 1.
  await ui.fill('#epochs', '2');
  for (const param of ['lr', 'units', 'dropout', 'optimizer', 'batch', 'weight_decay', 'epochs'])
    await searchRow(param, { on: false });
  await searchRow('augmentation', { on: true, low: 0, high: 1, log: false });
  await ui.selectOption('#tune-strategy', 'grid');
  await ui.fill('#tune-points', '3');
  await ui.fill('#tune-budget', '3');
  await ui.click('#tune-start');
  await finishedSearch(3);
  const trials = await page.evaluate(() =>
    globalThis.whetstone.tuner.trials.map((t) => [t.config.augmentation, t.outcome.score]),
  );
  assert.deepEqual(
    trials.map((t) => t[0]),
    [0, 0.5, 1],
  );
  assert.ok(trials[2][1] > trials[0][1], `accuracy by augmentation strength: ${JSON.stringify(trials)}`);
  await searchRow('augmentation', { on: false });
  await ui.uncheck('#augment-table [data-augment="hue"][data-field="on"]');
  await backToTheSpiral();
});

test('reloading keeps the settings', async () => {
  await page.reload();
  await page.waitForFunction(() => document.getElementById('dataset').value === 'spiral');
  assert.equal(await page.inputValue('#epochs'), '60');
  await page.waitForFunction(() => document.querySelectorAll('#summary tr').length > 3);
});

test('no errors reached the console', () => {
  assert.deepEqual(pageErrors, []);
});

after(() => {
  if (pageErrors.length) console.log('console errors:', pageErrors);
});
