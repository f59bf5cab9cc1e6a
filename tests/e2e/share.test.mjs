// The share view: models saved in the browser and as files, loaded back with the same predictions;
// a project exported and opened in another browser; a settings link.
import { test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, noErrors, openPage, pageOf, person, shots } from './page.mjs';

const session = openPage();
const ui = person(session);
const page = pageOf(session);

test('a trained model saves to the browser and to a file, and reloads with the same predictions', async () => {
  const points = Array.from({ length: 40 }, (_, i) => [Math.cos(i) * (i / 40), Math.sin(i) * (i / 30)]).flat();
  const predict = () =>
    page.evaluate(
      async (features) => Array.from((await globalThis.whetstone.engine.request('predict', { features })).probs),
      points,
    );
  await ui.chooseDataset('circle', /2 classes/);
  await ui.fill('#epochs', '10');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  const trained = await predict();
  await ui.click('#store-model');
  await page.waitForFunction(() => document.querySelectorAll('#saved-models li').length === 1);
  assert.match(await ui.text('#saved-models li .name'), /^circle · toy · \d+\.\d % · \d{4}-/);
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
  await ui.chooseDataset('spiral', /3 classes/);
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

test('a project exports to one file and opens in another browser, a link carries the settings, and damaged or newer files are refused', async () => {
  await ui.chooseDataset('circle', /2 classes/);
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
  const other = await session.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const fresh = await other.newPage();
  await fresh.goto(session.server.url);
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
  const linked = await session.browser.newContext({ viewport: { width: 1400, height: 900 } });
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
  await visitor.goto(`${session.server.url}#settings=AAAA`);
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
});

noErrors(session);
