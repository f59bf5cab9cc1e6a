// The share view: models saved in the browser and as files, loaded back with the same predictions;
// a project exported and opened in another browser; a settings link; damaged projects refused
// part by part with nothing changed, and the reset.
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
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
  // The PyTorch project: a zip of the model as a torch module, its weights, the run's data and
  // settings, the training script, pins and a README (tests/pytorch/ runs such projects in PyTorch).
  const [torchDownload] = await Promise.all([page.waitForEvent('download'), ui.click('#export-pytorch')]);
  assert.equal(torchDownload.suggestedFilename(), 'whetstone-circle-pytorch.zip');
  const project = await page.evaluate(
    async (bytes) => {
      const { unzip } = await import('./www/engine/archive.js');
      const { entries } = await unzip(new Blob([new Uint8Array(bytes)]), 'project.zip');
      return Object.fromEntries(await Promise.all(entries.map(async (e) => [e.path, await e.blob.text()])));
    },
    Array.from(readFileSync(await torchDownload.path())),
  );
  assert.deepEqual(Object.keys(project), [
    'README.md',
    'requirements.txt',
    'experiment.json',
    'model.py',
    'data.py',
    'train.py',
    'model.safetensors',
    'data.safetensors',
    'search.py',
    'search.json',
  ]);
  // The search as the Tune view is set: its settings, the score and the core's tables.
  const search = JSON.parse(project['search.json']);
  assert.deepEqual(
    search.params.map((p) => p.name),
    ['lr', 'units'],
  );
  assert.deepEqual(
    [search.strategy.type, search.budget, search.score, search.maximize],
    ['bayesian', 8, 'val_accuracy', true],
  );
  assert.equal(search.optimizers.momentum.momentum, 0.9);
  assert.match(project['search.py'], /optuna\.samplers\.GPSampler/);
  const experiment = JSON.parse(project['experiment.json']);
  assert.equal(experiment.dataset, 'circle');
  assert.equal(experiment.config.epochs, 10);
  assert.deepEqual(experiment.spec.input, [2]);
  assert.match(
    project['model.py'],
    /^SPEC = json\.loads\(r"""\{"input":\[2\],"layers":\[\{"type":"dense","units":16\}/m,
  );
  assert.match(project['model.py'], /^BUILDERS\["dense"\] = build_dense$/m);
  assert.match(project['requirements.txt'], /^torch==[\d.]+\nsafetensors==[\d.]+\noptuna==[\d.]+\nscipy==[\d.]+\n$/);
  assert.match(project['README.md'], /^# circle: a Whetstone experiment as a PyTorch project/);
  assert.match(project['README.md'], /torchrun --nproc_per_node=4 train\.py/);
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

test('a PyTorch project searches and trains outside the browser, and its model file comes back with the same held-out accuracy', async () => {
  await ui.chooseDataset('circle', /2 classes/);
  await ui.fill('#epochs', '5');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  const python = join(process.env.WHETSTONE_TOOLS ?? '/opt/whetstone-tools', 'venv', 'bin', 'python');
  const exportTo = async (name) => {
    const [download] = await Promise.all([page.waitForEvent('download'), ui.click('#export-pytorch')]);
    const folder = join(shots, name);
    rmSync(folder, { recursive: true, force: true });
    const zip = join(shots, `${name}.zip`);
    await download.saveAs(zip);
    execFileSync(python, [
      '-c',
      `import zipfile; zipfile.ZipFile(${JSON.stringify(zip)}).extractall(${JSON.stringify(folder)})`,
    ]);
    return folder;
  };
  // Search settings the Tune view would refuse leave search.py out, and say so.
  await ui.fill('#tune-budget', '0');
  const without = await exportTo('circle-pytorch-without-search');
  await page.waitForFunction(() =>
    /without search\.py: the search settings under Tune are not valid \(.*budget is 0 trials/.test(
      document.getElementById('notice').textContent,
    ),
  );
  assert.ok(!existsSync(join(without, 'search.py')) && existsSync(join(without, 'train.py')));
  await ui.fill('#tune-budget', '3');
  await ui.selectOption('#tune-strategy', 'random');
  const folder = await exportTo('circle-pytorch');
  // Optuna runs the page's search (three random trials), then PyTorch trains its best for longer
  // and writes a Whetstone model file.
  const searched = execFileSync(python, ['search.py'], { cwd: folder, encoding: 'utf8' });
  assert.match(searched, /^3 trials finished; the best, trial \d, scored val_accuracy [\d.]+ with /m);
  const best = JSON.parse(readFileSync(join(folder, 'best.json'), 'utf8'));
  assert.equal(Object.keys(best.values).join(), 'lr,units');
  const log = execFileSync(
    python,
    ['train.py', '--settings', 'best.json', '--epochs', '20', '--out', 'trained.safetensors'],
    { cwd: folder, encoding: 'utf8' },
  );
  const accuracy = Number(/held-out accuracy ([\d.]+)/.exec(log)[1]);
  await page.setInputFiles('#model-file', join(folder, 'trained.safetensors'));
  await page.waitForFunction(() =>
    /^Loaded “trained.safetensors”: \d+\.\d % validation accuracy/.test(document.getElementById('notice').textContent),
  );
  const shown = Number(/([\d.]+) % validation accuracy/.exec(await ui.text('#notice'))[1]);
  assert.ok(Math.abs(shown - 100 * accuracy) < 0.051, `the page shows ${shown} %, PyTorch printed ${100 * accuracy} %`);
  // The model is the searched one: its hidden layer has the best trial's width.
  const spec = JSON.parse(await page.evaluate(() => globalThis.whetstone.state.settings.spec));
  assert.equal(spec.layers[0].units, best.values.units);
  await ui.fill('#epochs', '60');
  await ui.fill('#tune-budget', '8');
  await ui.selectOption('#tune-strategy', 'bayesian');
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

test('a link with a bad value of every kind opens a working page that names each, and nothing bad is kept', async () => {
  const bad = {
    dataset: 'nowhere',
    preset: 'bogus',
    schedule: 'warp',
    optimizer: 7,
    spec: '{"input": [2], "layers": ',
    epochs: { many: true },
    searchSpace: 5,
    layerOptions: 'x',
    stranger: 1,
    lr: '0.01',
  };
  const link = `${session.server.url}#settings=${Buffer.from(JSON.stringify(bad)).toString('base64url')}`;
  const other = await session.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const visitor = await other.newPage();
  const errors = [];
  visitor.on('pageerror', (e) => errors.push(e.message));
  await visitor.goto(link);
  await visitor.waitForFunction(
    () => /Opened with the settings of the link/.test(document.getElementById('notice').textContent),
    null,
    {
      timeout: 60_000,
    },
  );
  const said = await visitor.locator('#notice').innerText();
  for (const name of [
    'dataset',
    'preset',
    'schedule',
    'optimizer',
    'spec',
    'epochs',
    'searchSpace',
    'layerOptions',
    'stranger',
  ])
    assert.match(said, new RegExp(name === 'dataset' ? 'no data set is called “nowhere”' : `${name}`), said);
  // The values that fit are taken; the page works.
  assert.equal(await visitor.inputValue('#lr'), '0.01');
  await visitor.waitForFunction(() => !document.getElementById('train').disabled, null, { timeout: 60_000 });
  assert.ok((await visitor.locator('#summary tr.layer').count()) > 0);
  // Nothing that did not fit was kept: a reload says nothing was set aside.
  await visitor.reload();
  await visitor.waitForFunction(() => !document.getElementById('train').disabled, null, { timeout: 60_000 });
  assert.doesNotMatch(await visitor.locator('#notice').textContent(), /Set aside/);
  const kept = await visitor.evaluate(() => JSON.parse(localStorage.getItem('whetstone.settings.v1')));
  assert.equal(kept.lr, '0.01');
  assert.notEqual(kept.schedule, 'warp');
  assert.equal(kept.stranger, undefined);
  assert.deepEqual(errors, []);
  await other.close();
});

test('two tabs keep in step: a model saved or deleted in one shows in the other, and their settings merge', async () => {
  const context = await session.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const [a, b] = [await context.newPage(), await context.newPage()];
  for (const tab of [a, b]) {
    await tab.goto(`${session.server.url}#/share`);
    await tab.waitForFunction(() => document.body.dataset.setup === 'ready', null, { timeout: 60_000 });
  }
  // Tab A keeps a model record (as Save in browser does); tab B's list shows it without a reload.
  await a.evaluate(async () => {
    const { putModel } = await import('./www/engine/store.js');
    await putModel({ name: 'from tab A', savedAt: Date.now(), bytes: new ArrayBuffer(8) });
  });
  await b.waitForFunction(() => document.querySelectorAll('#saved-models li').length === 1, null, { timeout: 10_000 });
  assert.match(await b.locator('#saved-models').innerText(), /from tab A/);
  await a.evaluate(async () => (await import('./www/engine/store.js')).deleteModel('from tab A'));
  await b.waitForFunction(() => document.querySelectorAll('#saved-models li').length === 0, null, { timeout: 10_000 });
  // Each tab's change of a setting is kept; neither undoes the other's.
  for (const tab of [a, b]) await tab.evaluate(() => (location.hash = '#/train'));
  await a.fill('#epochs', '7');
  await b.fill('#lr', '0.05');
  const c = await context.newPage();
  await c.goto(`${session.server.url}#/train`);
  await c.waitForFunction(() => document.body.dataset.setup === 'ready', null, { timeout: 60_000 });
  assert.equal(await c.inputValue('#epochs'), '7');
  assert.equal(await c.inputValue('#lr'), '0.05');
  await context.close();
});

test('a damaged part of a project changes nothing and is named; bad settings are set aside; a reset clears the page', async () => {
  await ui.chooseDataset('circle', /2 classes/);
  await ui.fill('#epochs', '2');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  await ui.click('#store-model');
  await page.waitForFunction(() => document.querySelectorAll('#saved-models li').length >= 1);
  const [download] = await Promise.all([page.waitForEvent('download'), ui.click('#export-project')]);
  const path = join(shots, 'whetstone-project-parts.json');
  await download.saveAs(path);
  const project = JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(project.version, 2);
  const model = project.records.models[0];
  const sum = (value) => crc32(JSON.stringify(value)).toString(16).padStart(8, '0');
  assert.equal(project.checksums[`models/${model.name}`], sum(model), 'each part carries its CRC-32');
  // Variants of the project, each with one part damaged (and its checksum made to match, so that
  // the part itself is what is checked), or with a checksum that no longer matches.
  const variant = (change) => {
    const copy = structuredClone(project);
    change(copy);
    for (const [store, list] of Object.entries(copy.records))
      for (const r of list) copy.checksums[`${store}/${r.name}`] ??= sum(r);
    return Buffer.from(JSON.stringify(copy));
  };
  const bytes = Buffer.from(model.bytes.$binary, 'base64');
  const resum = (copy) => {
    const m = copy.records.models[0];
    copy.checksums[`models/${m.name}`] = sum(m);
  };
  const cases = [
    [
      'flipped.json',
      variant((c) => {
        c.records.models[0].savedAt += 1;
      }),
      /the models part “[^”]+” is damaged: its checksum does not match/,
    ],
    [
      'cut-weights.json',
      variant((c) => {
        c.records.models[0].bytes.$binary = bytes.subarray(0, bytes.length - 64).toString('base64');
        resum(c);
      }),
      /the saved model “[^”]+” cannot be opened: this is not a readable Whetstone model file: its weights are cut short/,
    ],
    [
      'junk-model.json',
      variant((c) => {
        c.records.models[0].bytes.$binary = Buffer.alloc(4096, 7).toString('base64');
        resum(c);
      }),
      /the saved model “[^”]+” cannot be opened/,
    ],
    [
      'versions.json',
      variant((c) => {
        c.records.versions = [{ name: 'v2', version: 2, bytes: c.records.models[0].bytes, at: 1 }];
      }),
      /the versions part “v2” is damaged or out of order/,
    ],
    [
      'unknown-part.json',
      variant((c) => {
        c.records.secrets = [];
      }),
      /parts this version does not know: secrets/,
    ],
  ];
  const other = await session.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const fresh = await other.newPage();
  await fresh.goto(session.server.url);
  await fresh.waitForFunction(() => document.body.dataset.setup === 'ready', null, { timeout: 60_000 });
  for (const [name, buffer, said] of cases) {
    await fresh.setInputFiles('#project-file', { name, mimeType: 'application/json', buffer });
    await fresh.waitForFunction(
      ([file, source]) => {
        const text = document.getElementById('notice').textContent;
        return text.includes(`Could not import “${file}”`) && new RegExp(source).test(text);
      },
      [name, said.source],
      { timeout: 60_000 },
    );
    assert.equal(await fresh.locator('#saved-models li').count(), 0, `${name} changed nothing`);
  }
  // Settings that do not fit are set aside by name; the rest of the project comes in.
  const settings = JSON.parse(project.local['whetstone.settings.v1']);
  const badSettings = variant((c) => {
    c.local['whetstone.settings.v1'] = JSON.stringify({ ...settings, schedule: 'warp', optimizer: 7 });
    c.checksums.local = sum(c.local);
  });
  await fresh.setInputFiles('#project-file', {
    name: 'settings.json',
    mimeType: 'application/json',
    buffer: badSettings,
  });
  await fresh.waitForFunction(
    () => /Imported “settings.json”: 1 saved models/.test(document.getElementById('notice').textContent),
    null,
    { timeout: 60_000 },
  );
  const imported = await fresh.locator('#notice').innerText();
  assert.match(imported, /set aside from its settings: /);
  assert.match(imported, /schedule = "warp" does not fit/);
  assert.match(imported, /optimizer = 7 does not fit/);
  assert.equal(await fresh.locator('#saved-models li').count(), 1);
  assert.equal(await fresh.inputValue('#schedule'), 'constant');
  // The reset deletes everything this page keeps here, after a confirmation.
  fresh.once('dialog', (dialog) => dialog.accept());
  await fresh.evaluate(() => {
    location.hash = '#/share';
  });
  await fresh.click('#reset summary');
  await fresh.click('#reset-page');
  await fresh.waitForFunction(
    () => /This page’s data was reset/.test(document.getElementById('notice').textContent),
    null,
    { timeout: 60_000 },
  );
  assert.equal(await fresh.locator('#saved-models li').count(), 0);
  assert.equal(
    await fresh.evaluate(() => localStorage.getItem('whetstone.settings.v1')?.includes('circle') ?? false),
    false,
  );
  await other.close();
  await ui.click('#saved-models li button:text("Delete")');
  await page.waitForFunction(() => document.querySelectorAll('#saved-models li').length === 0);
});

noErrors(session);
