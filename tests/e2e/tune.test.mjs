// The tune view: a Bayesian search in parallel workers whose best trains the final model, bad
// search settings, a diverging trial, a stopped search resumed after a reload.
import { test } from 'node:test';
import { join } from 'node:path';
import { assert, noErrors, openPage, pageOf, person, shots } from './page.mjs';

const session = openPage();
const ui = person(session);
const page = pageOf(session);

test('a Bayesian search runs trials in parallel workers, ranks them, and its best trains the final model', async () => {
  await ui.chooseDataset('circle', /1,000 samples of 2, 2 classes/);
  await ui.fill('#epochs', '30');
  await ui.reveal('#tune-panel');
  await page.locator('#tune-panel').scrollIntoViewIfNeeded();
  await ui.searchRow('lr', { on: true, low: 0.0003, high: 0.03, log: true });
  await ui.searchRow('units', { on: true, low: 2, high: 64, log: true });
  await ui.selectOption('#tune-strategy', 'bayesian');
  await ui.fill('#tune-budget', '8');
  await ui.fill('#tune-workers', '2');
  await ui.click('#tune-start');
  // Two trials train at the same time, each in its own worker.
  await page.waitForFunction(() => globalThis.whetstone.tuner.pool?.running === 2);
  await ui.finishedSearch(8);
  const rows = page.locator('#tune-trials tr[data-trial]');
  assert.equal(await rows.count(), 8);
  assert.equal(await page.locator('#tune-trials tr[data-trial] td:nth-child(2)', { hasText: 'done' }).count(), 8);
  assert.equal(await page.locator('#tune-trials tr.best').count(), 1);
  assert.match(await ui.text('#notice'), /Search finished: 8 trials; the best, trial #\d+, scored \d+\.\d %/);
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
  assert.equal(await ui.text('#stat-val-acc'), `${(best.outcome.score * 100).toFixed(1)} %`);
});

test('every setting the core offers to search has a row in the space editor and changes a trial’s run', async () => {
  await ui.chooseDataset('circle', /2 classes/);
  const results = await page.evaluate(async () => {
    const { catalogue } = await import('./www/state/catalogue.js');
    const { applyTrial, trainingRequest } = await import('./www/state/request.js');
    const base = trainingRequest(globalThis.whetstone.state);
    // An augmentation with a strength, for the strength factor to scale.
    const scaled = catalogue.augmentations.find((a) => a.fields.length && a.name !== 'mixup');
    base.config.augment = [{ type: scaled.name, [scaled.fields[0].name]: scaled.fields[0].default, p: 0.5 }];
    const rows = [...document.querySelectorAll('#tune-space input[data-field="on"]')].map((i) => i.dataset.param);
    const { engine } = globalThis.whetstone;
    // The request as JSON with every object's keys in order: the core writes them sorted.
    const canonical = (request) =>
      JSON.stringify({ ...request, spec: JSON.parse(request.spec) }, (_, v) =>
        v && typeof v === 'object' && !Array.isArray(v)
          ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
          : v,
      );
    const unchanged = await applyTrial(engine, base, {});
    if (canonical(unchanged) !== canonical(base)) return [{ name: 'no values', changed: 'the request itself' }];
    return Promise.all(
      catalogue.search.map(async (p) => {
        const value = p.type === 'choice' ? p.values.at(-1) : p.type === 'int' ? p.high : p.high / 2;
        const trial = await applyTrial(engine, base, { [p.name]: value });
        return { name: p.name, row: rows.includes(p.name), changed: canonical(trial) !== canonical(base) };
      }),
    );
  });
  assert.ok(results.length >= 8, JSON.stringify(results));
  for (const r of results) assert.ok(r.row && r.changed, JSON.stringify(r));
});

test('bad search settings are refused, and a trial that diverges fails while the search goes on', async () => {
  await ui.chooseDataset('circle', /2 classes/);
  await ui.fill('#epochs', '30');
  await ui.searchRow('lr', { on: true, low: 0.0003, high: 0.03, log: true });
  await ui.fill('#tune-budget', '0');
  await ui.click('#tune-start');
  await page.waitForFunction(() => /the budget is 0 trials/.test(document.getElementById('notice').textContent));
  await ui.fill('#tune-budget', '3');
  await ui.searchRow('lr', { low: 0, log: true });
  await ui.click('#tune-start');
  await page.waitForFunction(() =>
    /'lr': a log-scale range must be above 0, but it starts at 0/.test(document.getElementById('notice').textContent),
  );
  // A grid over rates from 0.01 to 10,000: the largest ones blow the loss up.
  await ui.searchRow('lr', { low: 0.01, high: 10000, log: true });
  await ui.searchRow('units', { on: false });
  await ui.selectOption('#tune-strategy', 'grid');
  await ui.fill('#tune-points', '3');
  await ui.selectOption('#optimizer', 'sgd');
  await ui.click('#tune-start');
  await ui.finishedSearch(3);
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
  assert.match(await ui.text('#notice'), /Search finished: 3 trials \([12] failed\)/);
  await ui.selectOption('#optimizer', 'adam');
});

test('a stopped search is kept, and resumes after a reload where it stopped', async () => {
  await ui.chooseDataset('circle', /2 classes/);
  await ui.searchRow('lr', { low: 0.001, high: 0.05, log: true });
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
    await ui.text('#tune-info'),
    new RegExp(`random search on “circle” was stopped with ${done.length} trials done`),
  );
  // The finished trials show at once, before Resume.
  assert.equal(
    await page.locator('#tune-trials tr[data-trial] td:nth-child(2)', { hasText: 'done' }).count(),
    done.length,
  );
  await ui.click('#tune-resume');
  await ui.finishedSearch(16);
  const trials = await page.evaluate(() => globalThis.whetstone.tuner.trials);
  assert.equal(trials.filter((t) => t.outcome.state === 'done').length, 16);
  // The trials finished before the reload are kept as they were.
  assert.deepEqual(
    trials.slice(0, done.length).map((t) => t.config.lr),
    done,
  );
  assert.equal(await page.isVisible('#tune-resume'), false);
});

noErrors(session);
