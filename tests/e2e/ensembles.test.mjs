// The ensembles view: bagging, snapshots of one cosine-restart run, a search's best trials, and a
// saved model that does not fit refused.
import { test } from 'node:test';
import { join } from 'node:path';
import { assert, noErrors, openPage, pageOf, person, shots } from './page.mjs';

const session = openPage();
const ui = person(session);
const page = pageOf(session);

/** The members listed in the ensemble panel. */
const ensembleMembers = () => page.locator('#ensemble-members li .name').allInnerTexts();

test('bagging members trained side by side make an ensemble that beats its mean member', async () => {
  await ui.chooseDataset('digits', /10,000 samples of 1 × 28 × 28, 10 classes/);
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
  assert.match(await ui.text('#ensemble-info'), /5 of 5 members trained/);
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
  assert.match(await ui.text('#ensemble-table'), /mean member[\s\S]*soft voting/);
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
  await ui.chooseDataset('spiral', /3 classes/);
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
  await ui.searchRow('lr', { on: true, low: 0.003, high: 0.1, log: true });
  await ui.searchRow('units', { on: false });
  await ui.selectOption('#tune-strategy', 'random');
  await ui.fill('#tune-budget', '4');
  await ui.fill('#tune-workers', '2');
  await ui.click('#tune-start');
  await ui.finishedSearch(4);
  await ui.click('#ensemble-trials');
  await page.waitForFunction(() => document.querySelectorAll('#ensemble-members li').length === 3);
  const best = await page.evaluate(() => globalThis.whetstone.tuner.bestTrials(3).map((m) => m.name));
  assert.deepEqual(await ensembleMembers(), best);
  await ui.click('#ensemble-compare');
  await page.waitForFunction(() => globalThis.whetstone.ensembler.comparison?.members.length === 3);
  // A model saved on the circle set knows two classes; the spiral has three.
  await ui.chooseDataset('circle', /2 classes/);
  await ui.fill('#epochs', '3');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  await ui.click('#store-model');
  await page.waitForFunction(() => document.querySelectorAll('#saved-models li').length === 1);
  await ui.chooseDataset('spiral', /3 classes/);
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
});

noErrors(session);
