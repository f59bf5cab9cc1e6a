// A run over several threads on a cross-origin isolated page (served as `trunk serve` serves it):
// the badge says how many, the model equals a one-thread run's up to summation order, pause and
// stop reach every thread, and a model that cannot be split trains on one thread and says why.
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { tensors } from './files.mjs';
import { assert, noErrors, openPage, pageOf, person } from './page.mjs';

const session = openPage({ isolated: true });
const ui = person(session);
const page = pageOf(session);

const status = (s) => page.waitForFunction((want) => document.body.dataset.status === want, s, { timeout: 120_000 });

/** Trains the current settings on `threads` threads; the badge and the model file's tensors. */
async function trainOn(threads) {
  await ui.fill('#threads', threads);
  await ui.click('#train');
  await status('done');
  const badge = await ui.text('#backend');
  const [download] = await Promise.all([page.waitForEvent('download'), ui.click('#download-model')]);
  return { badge, weights: tensors(readFileSync(await download.path())) };
}

test('a run split over two threads trains the model one thread trains', async () => {
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  await ui.selectOption('#preset', 'mlp');
  await ui.fill('#samples', '3000');
  await ui.fill('#heldout', '600');
  await ui.fill('#epochs', '2');
  const one = await trainOn('1');
  const two = await trainOn('2');
  assert.match(one.badge, /CPU · 1 thread$/);
  assert.match(two.badge, /CPU · 2 threads/);
  assert.equal(await ui.text('#threads-info'), '');
  assert.match(await page.getAttribute('#backend', 'title'), /split over 2 threads/);
  assert.deepEqual(Object.keys(two.weights), Object.keys(one.weights));
  for (const [name, bytes] of Object.entries(one.weights)) {
    const a = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const other = two.weights[name];
    const b = new Float32Array(other.buffer.slice(other.byteOffset, other.byteOffset + other.length));
    const worst = a.reduce((w, v, i) => Math.max(w, Math.abs(v - b[i]) / (1 + Math.abs(v))), 0);
    assert.ok(worst < 1e-4, `${name}: weights differ by up to ${worst}`);
  }
});

test('with every core asked for, a model whose steps gain takes them and a small one does not', async () => {
  await trainOn('0');
  assert.match(await ui.text('#backend'), /CPU · 1 thread$/);
  assert.match(await ui.text('#threads-info'), /each step is small against the model's 101,770 weights/);
  await ui.selectOption('#preset', 'cnn');
  await ui.fill('#epochs', '1');
  const cnn = await trainOn('0');
  const cores = await page.evaluate(() => Math.min(navigator.hardwareConcurrency, 8));
  assert.match(cnn.badge, new RegExp(`CPU · ${cores} threads`));
  assert.equal(await ui.text('#threads-info'), '');
});

test('pause and stop reach every thread, and the next run trains', async () => {
  await ui.fill('#threads', '2');
  await ui.fill('#epochs', '50');
  await ui.click('#train');
  await page.waitForFunction(() => Number(document.getElementById('progress').value) > 0.02, null, {
    timeout: 60_000,
  });
  await ui.click('#pause');
  await status('paused');
  await ui.click('#pause');
  await status('running');
  await ui.click('#stop');
  await status('stopped');
  await ui.fill('#epochs', '1');
  await ui.click('#train');
  await status('done');
  assert.match(await ui.text('#backend'), /CPU · 2 threads/);
});

test('a model with batch norm trains on one thread, and says why', async () => {
  await ui.click('#spec-editor summary');
  await ui.fill(
    '#spec',
    '{"input":[1,28,28],"layers":[{"type":"flatten"},{"type":"dense","units":32},{"type":"batch_norm"},{"type":"relu"},{"type":"dense","units":10}]}',
  );
  await page.waitForFunction(() => !document.getElementById('summary').classList.contains('invalid'));
  await ui.click('#train');
  await status('done');
  assert.match(await ui.text('#backend'), /CPU · 1 thread$/);
  // Said under the threads field, where the person asked for more.
  assert.match(
    await ui.text('#threads-info'),
    /trained on one thread: batch norm needs the statistics of the whole batch/,
  );
});

noErrors(session);
