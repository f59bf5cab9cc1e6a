// A static host that sends no COOP/COEP headers (this server sends none): the page's service
// worker adds them, the page reloads once on the first visit, and a run splits over threads; where
// no service worker may run, a run trains on one thread and the page says why.
import { test } from 'node:test';
import { assert, noErrors, openPage, pageOf, person, ready } from './page.mjs';

const session = openPage();
const ui = person(session);
const page = pageOf(session);

test('on a host without the headers, the service worker makes the page isolated and a run takes every core', async () => {
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  assert.equal(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)), true);
  // The worker only adds headers: the page's files are the host's.
  const response = await page.evaluate(async () => {
    const r = await fetch('index.html');
    return { status: r.status, coep: r.headers.get('cross-origin-embedder-policy'), text: await r.text() };
  });
  assert.equal(response.status, 200);
  assert.equal(response.coep, 'require-corp');
  assert.match(response.text, /<title>/);
  await ui.selectOption('#preset', 'mlp');
  await ui.fill('#epochs', '1');
  await ui.fill('#threads', '2');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  assert.match(await ui.text('#backend'), /CPU · 2 threads/);
  // A reload is served by the worker at once: no second reload, nothing lost.
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.setup === 'ready', null, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  assert.equal(await page.inputValue('#threads'), '2');
});

test('where no service worker may run, a run trains on one thread and the page says why', async () => {
  const context = await session.browser.newContext({ serviceWorkers: 'block' });
  try {
    const plain = await context.newPage();
    await plain.goto(session.server.url);
    await ready(plain);
    assert.equal(await plain.evaluate(() => crossOriginIsolated), false);
    await plain.evaluate(() => {
      location.hash = '#/train';
    });
    await plain.fill('#threads', '2');
    await plain.fill('#epochs', '1');
    await plain.click('#train');
    await plain.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
    assert.match(await plain.innerText('#backend'), /CPU · 1 thread$/);
    assert.match(await plain.innerText('#threads-info'), /not cross-origin isolated/);
  } finally {
    await context.close();
  }
});

noErrors(session);
