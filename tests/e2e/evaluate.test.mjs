// The evaluate view: the held-out split of a trained model as a confusion matrix, metrics, curves
// and the samples of each cell.
import { test } from 'node:test';
import { join } from 'node:path';
import { assert, noErrors, openPage, pageOf, person, shots, status } from './page.mjs';

const session = openPage();
const ui = person(session);
const page = pageOf(session);

test('after training, the held-out split is evaluated: a confusion matrix and the metrics', async () => {
  // A model to evaluate: the MLP, one epoch on the digits.
  await ui.selectOption('#preset', 'mlp');
  await page.waitForFunction(() => document.body.dataset.setup === 'ready');
  await ui.fill('#epochs', '1');
  await ui.click('#train');
  await status(page, 'done');
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
  const accuracy = parseFloat(await ui.text('#stat-val-acc'));
  assert.ok(Math.abs(diagonal / 20 - accuracy) < 0.06, `the diagonal (${diagonal}) is the accuracy ${accuracy} %`);
  assert.match(
    await ui.text('#metrics'),
    new RegExp(
      `Accuracy\\s+${accuracy.toFixed(1)} %[\\s\\S]*Balanced accuracy[\\s\\S]*Cohen's κ\\s+0\\.\\d{3}[\\s\\S]*Log-loss`,
    ),
  );
  assert.equal(await page.locator('#per-class tr').count(), 11);
  const auc = Number((await ui.text('#metrics')).match(/ROC AUC, macro \/ micro\s+(0\.\d+) \//)[1]);
  assert.ok(auc > 0.95, `macro ROC AUC ${auc}`);
  assert.match(await ui.text('#metrics'), /Calibration error \(ECE\)\s+0\.\d{3}/);
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

noErrors(session);
