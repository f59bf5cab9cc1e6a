// The data view: uploads (sequences, tables, images), the quality report and its fixes, feature
// engineering with and without, and augmentation against a biased data set.
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { plantsFile, png, putOversizedCsv, seeded, shapesFolder, zip } from './files.mjs';
import { assert, noErrors, openPage, pageOf, person, shots } from './page.mjs';

const session = openPage();
const ui = person(session);
const page = pageOf(session);

test('a CSV of sequences uploads and trains, a ragged one is refused with its line, and the upload survives a reload', async () => {
  await page.waitForFunction(() => /samples of/.test(document.getElementById('dataset-info').textContent));
  await ui.click('#upload summary');
  const [before, described] = [await page.inputValue('#dataset'), await ui.text('#dataset-info')];
  const ragged = 'label,t0,t1,t2\nup,1,2,3\ndown,3,2\n';
  await page.setInputFiles('#sequence-file', { name: 'ragged.csv', mimeType: 'text/csv', buffer: Buffer.from(ragged) });
  await page.waitForFunction(() =>
    /Could not load “ragged.csv”: line 3 has 3 columns, but the first row has 4/.test(
      document.getElementById('notice').textContent,
    ),
  );
  assert.deepEqual([await page.inputValue('#dataset'), await ui.text('#dataset-info')], [before, described]);
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
  assert.match(await page.inputValue('#dataset'), /^upload:/);
  assert.match(await ui.text('#dataset'), /Your sequences: ramps.csv/);
  assert.deepEqual([await page.inputValue('#samples'), await page.inputValue('#heldout')], ['200', '40']);
  await ui.fill('#epochs', '8');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  const acc = parseFloat(await ui.text('#stat-val-acc'));
  assert.ok(acc >= 90, `rising against falling ramps: ${acc} %`);
  await page.reload();
  await page.waitForFunction(() =>
    /200 samples of 12 × 1, 2 classes/.test(document.getElementById('dataset-info').textContent),
  );
  assert.match(await page.inputValue('#dataset'), /^upload:/);
});

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
  const findings = await ui.text('#quality-findings');
  assert.match(findings, /36 samples: down 3, up 33/);
  assert.match(findings, /2 groups of exact duplicates \(3 extra copies\)/);
  assert.match(findings, /1 of them with different labels/);
  assert.match(findings, /Class down is only 8\.3 % of the samples \(the largest is 11\.0× its size\)/);
  await ui.click('#quality-findings button[data-fix="duplicates"] >> nth=0');
  await page.waitForFunction(() =>
    /samples\s*36\s*33/.test(document.querySelector('#quality-findings .before-after')?.textContent),
  );
  assert.doesNotMatch(await ui.text('#quality-findings'), /groups of exact duplicates/);
  // Imbalance is fixed in training, on the training split only: copies in both splits would leak.
  await ui.click('#quality-findings button[data-fix="oversample"]');
  await page.waitForFunction(() =>
    /Training will oversample the training split/.test(document.getElementById('quality-findings').textContent),
  );
  assert.equal(await page.inputValue('#rebalance'), 'oversample');
  await ui.fill('#epochs', '3');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  assert.match(await ui.text('#notice'), /Training finished/);
  await ui.reveal('#quality');
  await page.locator('#quality').screenshot({ path: join(shots, 'playground-quality.png') });
  await ui.selectOption('#rebalance', '');
  await ui.click('#quality summary');
});

test('a CSV table loads with its first rows shown, the quality report finds missing values and outliers, and standardising beats raw numbers side by side', async () => {
  await ui.expand('upload');
  const [before, described] = [await page.inputValue('#dataset'), await ui.text('#dataset-info')];
  await ui.fill('#table-label', 'height');
  await page.setInputFiles('#table-file', plantsFile());
  await page.waitForFunction(() =>
    /Could not load “plants.csv”: there is no column 'height'; the columns are small, huge, colour, notes, site, kind/.test(
      document.getElementById('notice').textContent,
    ),
  );
  assert.deepEqual([await page.inputValue('#dataset'), await ui.text('#dataset-info')], [before, described]);
  // A file far over the size limit is refused before it is read.
  await putOversizedCsv(page, 'table-file');
  await page.waitForFunction(() =>
    /Could not load “big.csv”: “big.csv” is 65 MB; the limit is 64 MB/.test(
      document.getElementById('notice').textContent,
    ),
  );
  assert.deepEqual([await page.inputValue('#dataset'), await ui.text('#dataset-info')], [before, described]);
  await ui.fill('#table-label', '');
  await page.setInputFiles('#table-file', plantsFile());
  await page.waitForFunction(() =>
    /400 samples of 4, 2 classes/.test(document.getElementById('dataset-info').textContent),
  );
  assert.match(await ui.text('#notice'), /Loaded, but: column 'notes' was left out: every value in it is missing/);
  assert.match(await ui.text('#dataset'), /Your table: plants.csv/);
  await ui.expand('upload', false);
  const view = await ui.text('#data-table');
  assert.match(view, /small\s+huge\s+colour\s+site\s+label/);
  assert.match(view, /missing/);
  assert.equal(await page.locator('#data-table tr').count(), 9);
  await ui.expand('quality');
  await ui.click('#quality-check');
  await page.waitForFunction(() => /Missing values/.test(document.getElementById('quality-findings').textContent));
  const findings = await ui.text('#quality-findings');
  assert.match(findings, /Missing values: small 40 \(40 rows have some\)/);
  assert.match(findings, /1 extreme values in huge .*rows 7\b/);
  assert.match(findings, /Nearly constant \(one value in 95 % of the rows or more\): site/);
  await ui.click('#quality-findings button[data-fix="columns"]');
  await page.waitForFunction(() =>
    /400 samples of 3, 2 classes/.test(document.getElementById('dataset-info').textContent),
  );
  await page.waitForFunction(() => !/Nearly constant/.test(document.getElementById('quality-findings').textContent));
  assert.doesNotMatch(await ui.text('#data-table'), /site/);
  await ui.click('#quality-findings button:has-text("Drop those rows") >> nth=0');
  await page.waitForFunction(() =>
    /samples\s*400\s*360/.test(document.querySelector('#quality-findings .before-after')?.textContent),
  );
  assert.match(await ui.text('#quality-findings .before-after'), /rows with missing values\s*40\s*0/);
  await ui.reveal('#quality');
  await page.locator('#quality').screenshot({ path: join(shots, 'playground-table-quality.png') });
  await ui.expand('quality', false);
  // Feature engineering: standardised numbers and one-hot colours, fitted on the training split.
  await ui.expand('features-editor');
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
    await ui.text('#feature-compare-result'),
  );
  assert.match(await ui.text('#feature-compare-result'), /with the features: \d+\.\d %/);
  await ui.reveal('#features-editor');
  await page.locator('#features-editor').screenshot({ path: join(shots, 'playground-features.png') });
  // The model trained with the transform saves it: a reloaded file predicts the same.
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  assert.ok(parseFloat(await ui.text('#stat-val-acc')) >= 90, await ui.text('#stat-val-acc'));
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
  await ui.expand('features-editor', false);
  await ui.selectOption('#optimizer', 'adam');
});

test('a folder of PNGs uploads with progress, bad files are named, each class shows in the gallery, and the quality report reads it', async () => {
  await ui.expand('upload');
  await ui.selectOption('#image-channels', '1');
  await ui.selectOption('#image-size', '28');
  await page.setInputFiles('#image-folder', shapesFolder(80));
  await page.waitForFunction(
    () => /161 samples of 1 × 28 × 28, 2 classes/.test(document.getElementById('dataset-info').textContent),
    null,
    { timeout: 60_000 },
  );
  assert.match(await ui.text('#dataset'), /Your images: 161 images from shapes/);
  const problems = await ui.text('#upload-problems');
  assert.match(problems, /shapes\/circle\/broken.png: it could not be decoded/);
  assert.match(problems, /shapes\/readme.txt: not an image/);
  await page.waitForFunction(() => /2 files were left out/.test(document.getElementById('notice').textContent));
  assert.equal(await page.locator('#data-gallery .gallery-row').count(), 2);
  assert.equal(await page.locator('#data-gallery .gallery-row >> nth=0 >> canvas').count(), 6);
  await ui.expand('quality');
  await ui.click('#quality-check');
  await page.waitForFunction(() => /exact duplicates/.test(document.getElementById('quality-findings').textContent));
  assert.match(await ui.text('#quality-findings'), /161 samples: circle 80, square 81/);
  // The copy of a square at least (two small random shapes may come out the same pixels too).
  assert.ok(
    Number(/(\d+) groups of exact duplicates/.exec(await ui.text('#quality-findings'))?.[1]) >= 1,
    await ui.text('#quality-findings'),
  );
  await ui.expand('quality', false);
  await ui.fill('#epochs', '15');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  const acc = parseFloat(await ui.text('#stat-val-acc'));
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
  assert.match(await ui.text('#upload-problems'), /set\/empty\/: this class folder is empty/);
  assert.match(await ui.text('#dataset-info'), /161 samples/);
  await page.reload();
  await page.waitForFunction(() =>
    /161 samples of 1 × 28 × 28/.test(document.getElementById('dataset-info').textContent),
  );
  const shapesSet = await page.inputValue('#dataset');
  assert.match(shapesSet, /^images:/);
  await ui.expand('upload');
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
  assert.match(await ui.text('#upload-problems'), /big.png: 33 MB is over the 32 MB limit for one image/);
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
  // Each upload is a data set of its own: the shapes are still in the menu, and deleting one set
  // leaves the other.
  const uploads = () =>
    page
      .locator('#dataset option')
      .evaluateAll((os) => os.filter((o) => o.value.startsWith('images:')).map((o) => o.text));
  assert.deepEqual(await uploads(), ['Your images: 161 images from shapes', 'Your images: 3 images']);
  await ui.chooseDataset(shapesSet, /161 samples of 1 × 28 × 28, 2 classes/);
  await ui.click('#delete-upload');
  await page.waitForFunction(() =>
    /Deleted “Your images: 161 images from shapes” from this browser; the other data sets stay/.test(
      document.getElementById('notice').textContent,
    ),
  );
  assert.deepEqual(await uploads(), ['Your images: 3 images']);
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.setup === 'ready');
  assert.deepEqual(await uploads(), ['Your images: 3 images'], 'the other upload is kept across a reload');
  const other = await page.locator('#dataset option', { hasText: '3 images' }).getAttribute('value');
  await ui.chooseDataset(other, /3 samples of 3 × 32 × 32, 2 classes/);
  await ui.expand('upload');
  await ui.click('#delete-upload');
  await page.waitForFunction(() =>
    /Deleted “Your images: 3 images”/.test(document.getElementById('notice').textContent),
  );
  assert.deepEqual(await uploads(), []);
  await ui.expand('upload', false);
});

test('hostile archives and images: entries that climb out or are absolute, and a decompression bomb, are named and skipped', async () => {
  await ui.expand('upload');
  await ui.selectOption('#image-channels', '1');
  await ui.selectOption('#image-size', '28');
  const dot = (v) => png(8, 8, () => [v, v, v]);
  // A PNG whose header declares 20000 × 20000 pixels: 1.6 GB once decoded.
  const bomb = Buffer.from(dot(9));
  bomb.writeUInt32BE(20000, 16);
  bomb.writeUInt32BE(20000, 20);
  const archive = zip([
    { path: 'set/dark/1.png', data: dot(20) },
    { path: 'set/dark/2.png', data: dot(30) },
    { path: 'set/light/1.png', data: dot(220) },
    { path: 'set/light/2.png', data: dot(230) },
    { path: 'set/light/bomb.png', data: bomb },
    { path: '../../x/evil.png', data: dot(1) },
    { path: 'set/../../y/evil.png', data: dot(2) },
    { path: '/etc/z/evil.png', data: dot(3) },
    { path: 'C:\\w\\evil.png', data: dot(4) },
  ]);
  await page.setInputFiles('#image-files', { name: 'hostile.zip', mimeType: 'application/zip', buffer: archive });
  await page.waitForFunction(
    () => /4 samples of 1 × 28 × 28, 2 classes/.test(document.getElementById('dataset-info').textContent),
    null,
    { timeout: 60_000 },
  );
  const problems = await ui.text('#upload-problems');
  assert.match(
    problems,
    /set\/light\/bomb.png: it declares 20000 × 20000 pixels \(400 megapixels\), over the 40-megapixel limit/,
  );
  for (const path of ['../../x/evil.png', 'set/../../y/evil.png'])
    assert.ok(problems.includes(`${path}: its path climbs out of the archive ('..'): it is skipped`), problems);
  for (const path of ['/etc/z/evil.png', 'C:\\w\\evil.png'])
    assert.ok(problems.includes(`${path}: its path is absolute: it is skipped`), problems);
  assert.deepEqual(await page.evaluate(() => globalThis.whetstone.state.dataset.classes), ['dark', 'light']);
  // The header reader knows each format the upload takes, as the browser encodes it.
  const sizes = await page.evaluate(async () => {
    const { declaredSize } = await import('./www/engine/archive.js');
    const encoded = async (type, options) => {
      const canvas = new OffscreenCanvas(37, 23);
      canvas.getContext('2d').fillRect(0, 0, 5, 5);
      return new Uint8Array(await (await canvas.convertToBlob({ type, ...options })).arrayBuffer());
    };
    const gif = Uint8Array.from([71, 73, 70, 56, 57, 97, 37, 0, 23, 0, 0]);
    return [
      declaredSize(await encoded('image/png')),
      declaredSize(await encoded('image/jpeg')),
      declaredSize(await encoded('image/webp', { quality: 0.5 })),
      declaredSize(gif),
      declaredSize(Uint8Array.from([1, 2, 3])),
    ];
  });
  assert.deepEqual(sizes, [[37, 23], [37, 23], [37, 23], [37, 23], null]);
});

test('colour jitter lifts a CNN on the biased shapes, and the preview shows each draw', async () => {
  await ui.chooseDataset('shapes', /2,000 samples of 3 × 32 × 32, 4 classes/);
  assert.equal(await page.inputValue('#heldout'), '600');
  assert.equal(await page.isDisabled('#heldout'), true);
  await ui.click('#augment-editor summary');
  await page.waitForFunction(() => document.querySelectorAll('#augment-preview canvas').length === 12);
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 180_000 });
  const without = parseFloat(await ui.text('#stat-val-acc'));
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
  const jittered = parseFloat(await ui.text('#stat-val-acc'));
  await page.screenshot({ path: join(shots, 'playground-shapes.png'), fullPage: true });
  assert.ok(
    jittered > without + 10,
    `test accuracy on random colours: ${without} % without augmentation, ${jittered} % with hue jitter`,
  );
  // The augmentation strength is a setting a search can tune: a grid over 0, ½ and 1.
  await ui.fill('#epochs', '2');
  for (const param of ['lr', 'units', 'dropout', 'optimizer', 'batch', 'weight_decay', 'epochs'])
    await ui.searchRow(param, { on: false });
  await ui.searchRow('augmentation', { on: true, low: 0, high: 1, log: false });
  await ui.selectOption('#tune-strategy', 'grid');
  await ui.fill('#tune-points', '3');
  await ui.fill('#tune-budget', '3');
  await ui.click('#tune-start');
  await ui.finishedSearch(3);
  const trials = await page.evaluate(() =>
    globalThis.whetstone.tuner.trials.map((t) => [t.config.augmentation, t.outcome.score]),
  );
  assert.deepEqual(
    trials.map((t) => t[0]),
    [0, 0.5, 1],
  );
  assert.ok(trials[2][1] > trials[0][1], `accuracy by augmentation strength: ${JSON.stringify(trials)}`);
  await ui.searchRow('augmentation', { on: false });
  await ui.uncheck('#augment-table [data-augment="hue"][data-field="on"]');
});

noErrors(session);
