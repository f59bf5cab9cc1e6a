// Lessons as a teacher shows them: each opens alone at its address (#/lessons/<name>) on a
// projector-sized page, runs its "without" and "with" variants side by side when Run is pressed,
// and states the difference it measured; "Next lesson" leads on.
import { test } from 'node:test';
import { join } from 'node:path';
import { VIEWPORTS, assert, openPage, shots, view } from './page.mjs';

const session = openPage({ viewport: VIEWPORTS.projector });

/** Opens lesson `id` by its address, runs it and returns what it measured ({id, without, with}). */
async function present(id) {
  const { page } = session;
  await view(page, `lessons/${id}`);
  await page.waitForFunction((l) => document.body.dataset.lessonShown === l, id);
  assert.equal(await page.isVisible('#lesson-list'), false, 'the lesson shows alone');
  await page.click('#lesson-run');
  await page.waitForFunction(
    (l) => document.body.dataset.lesson && JSON.parse(document.body.dataset.lesson).id === l,
    id,
    { timeout: 300_000 },
  );
  await page.screenshot({ path: join(shots, `lesson-${id}-1280x720.png`) });
  return {
    ...JSON.parse(await page.getAttribute('body', 'data-lesson')),
    said: await page.locator('#lesson-result').innerText(),
  };
}

test('data quality: hue jitter beats colour bias on the shapes', async () => {
  const r = await present('bias');
  assert.ok(r.with > r.without + 0.15, JSON.stringify(r));
  assert.match(r.said, /Test accuracy on random colours: \d+\.\d % trained as it is, \d+\.\d % with hue jitter/);
  // The Run button, the chart and the verdict fit a projector's screen.
  const bottom = await session.page.locator('#lesson-result').evaluate((el) => el.getBoundingClientRect().bottom);
  assert.ok(bottom <= 720, `the verdict ends at ${bottom} px`);
});

test('"Next lesson" leads from one lesson to the next', async () => {
  const { page } = session;
  await page.click('#lesson-next');
  await page.waitForFunction(
    () => document.body.dataset.lessonShown === 'transfer' && location.hash === '#/lessons/transfer',
  );
});

test('architecture and transfer: the pretrained CNN beats random weights on 50 samples', async () => {
  const r = await present('transfer');
  assert.ok(r.with > r.without, JSON.stringify(r));
});

test('regularisation: early stopping keeps a lower validation loss than 40 epochs of overfitting', async () => {
  const r = await present('early-stopping');
  assert.ok(r.with < r.without, JSON.stringify(r));
  assert.match(r.said, /it stopped at epoch \d+ and went back to epoch \d+/);
});

test('efficient training: batch norm lets a deep sigmoid network train', async () => {
  const r = await present('batch-norm');
  assert.ok(r.with > r.without + 0.3, JSON.stringify(r));
});

test('tuning: Bayesian search spends its trials on better models than random search, and says how its best compares', async () => {
  const r = await present('search');
  assert.ok(r.with > r.without, JSON.stringify(r));
  assert.match(
    r.said,
    /After 20 trials the best model Bayesian search found scores \d+\.\d % against \d+\.\d % for random search's: \d+\.\d points (better|worse) \(means of 5 searches\)/,
  );
});

test('evaluation: class weights raise the balanced accuracy that plain accuracy hides', async () => {
  const r = await present('rare-class');
  assert.ok(r.with > r.without + 0.1, JSON.stringify(r));
  assert.match(r.said, /Plain loss: \d+\.\d % accurate, but balanced accuracy \d+\.\d %/);
});

test('architecture: a bag of characters, a GRU and a Transformer learn which language a word is in, side by side', async () => {
  const r = await present('attention');
  assert.equal(r.values.length, 3, JSON.stringify(r));
  // Six languages: chance is 1/6.
  for (const v of r.values) assert.ok(v > 0.3, JSON.stringify(r));
  assert.match(
    r.said,
    /^Held-out accuracy on 1,500 words of six languages \(chance 16\.7 %\): [\d.]+ % for the bag of characters, [\d.]+ % for the GRU \([\d.]+ points (above|below) the bag\), [\d.]+ % for the Transformer \([\d.]+ points (above|below) the bag\)\.$/,
  );
});

test('continuous learning: retraining on feedback with replay recovers the drifted stream', async () => {
  const r = await present('drift');
  assert.ok(r.with > r.without + 0.15, JSON.stringify(r));
});

test('an address that names no lesson says which there are', async () => {
  const { page } = session;
  await page.evaluate(() => {
    location.hash = '#/lessons/nothing';
  });
  await page.waitForFunction(() =>
    /There is no lesson “nothing”; the lessons are bias, transfer/.test(document.getElementById('notice').textContent),
  );
});

test('no errors reached the console', () => {
  assert.deepEqual(session.errors, []);
});
