// Helpers shared by the end-to-end tests: a served dist/ and a browser page of its own for each
// test file, the console errors and foreign requests it saw, and the moves a person makes — open a
// view, choose a data set, train, wait for a status, expect a message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, serve } from './serve.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const shots = join(root, 'test-results');
mkdirSync(shots, { recursive: true });

/** The viewports the page is checked at: a laptop, a projector and a phone. */
export const VIEWPORTS = {
  desktop: { width: 1366, height: 768 },
  projector: { width: 1280, height: 720 },
  phone: { width: 390, height: 844 },
};

/**
 * Serves dist/ and opens the page in a fresh browser context before the file's tests, closes both
 * after (`isolated`: served with the headers that make the page cross-origin isolated, as
 * `trunk serve` does). Returns an object whose `page`, `errors` (console errors, page errors and requests to
 * other hosts) and helpers the tests use once `before` has run.
 */
export function openPage({ viewport = { width: 1400, height: 900 }, path = '', isolated = false } = {}) {
  const session = { errors: [] };
  before(async () => {
    session.server = await serve(join(root, 'dist'), {}, { isolated });
    session.browser = await launch();
    session.context = await session.browser.newContext({ viewport });
    const page = await session.context.newPage();
    session.page = page;
    const host = new URL(session.server.url).host;
    page.on('pageerror', (e) => session.errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && session.errors.push(m.text()));
    page.on('worker', (w) =>
      w.on('console', (m) => m.type() === 'error' && session.errors.push(`worker: ${m.text()}`)),
    );
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (!['data:', 'blob:'].includes(url.protocol) && url.host !== host)
        session.errors.push(`request to another host: ${r.url()}`);
    });
    await page.goto(`${session.server.url}${path}`);
    await ready(page);
  });
  after(async () => {
    if (session.errors.length) console.log('console errors:', session.errors);
    await session.browser?.close();
    await session.server?.close();
  });
  return session;
}

/** The session's page, to call from inside the tests (it exists once the file's `before` has run). */
export function pageOf(session) {
  return new Proxy(
    {},
    {
      get(_, key) {
        const value = session.page[key];
        return typeof value === 'function' ? value.bind(session.page) : value;
      },
    },
  );
}

/** Waits until the page has loaded its data set and model. */
export const ready = (page) =>
  page.waitForFunction(
    () =>
      document.body.dataset.setup === 'ready' &&
      document.querySelectorAll('#summary tr').length > 3 &&
      !document.getElementById('train').disabled,
    null,
    { timeout: 60_000 },
  );

/** Opens a view by its address, as a click on its link in the header does. */
export async function view(page, name) {
  await page.evaluate((v) => {
    location.hash = v === 'start' ? '#/' : `#/${v}`;
  }, name);
  await page.waitForFunction((v) => document.getElementById('view').dataset.view === v.split('/')[0], name);
}

/** Opens the view that shows `selector` if the current one does not (a person goes where the control is). */
export async function reveal(page, selector) {
  const target = await page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const section = el.closest('main > section');
      const views = section?.dataset.views?.split(' ') ?? [];
      return views.includes(document.getElementById('view').dataset.view) ? null : views[0];
    });
  if (target) await view(page, target);
}

/** The moves a person makes on `page`, each in the view that shows the control. */
export function person(session) {
  const on =
    (method) =>
    async (selector, ...args) => {
      await reveal(session.page, selector);
      return session.page[method](selector, ...args);
    };
  return {
    click: on('click'),
    fill: on('fill'),
    press: on('press'),
    check: on('check'),
    uncheck: on('uncheck'),
    setChecked: on('setChecked'),
    selectOption: on('selectOption'),
    reveal: (selector) => reveal(session.page, selector),

    /** What a person reads in `selector`, in the view that shows it. */
    async text(selector) {
      await reveal(session.page, selector);
      return session.page.locator(selector).innerText();
    },

    /** Picks a data set and waits until the page describes it as `info` says. */
    async chooseDataset(name, info) {
      await this.selectOption('#dataset', name);
      await session.page.waitForFunction(
        (source) =>
          new RegExp(source).test(document.getElementById('dataset-info').textContent) &&
          document.body.dataset.setup === 'ready',
        info.source,
      );
    },

    /** Opens or closes a <details> section. */
    expand: (id, open = true) =>
      session.page.evaluate(
        ([i, o]) => {
          document.getElementById(i).open = o;
        },
        [id, open],
      ),

    /** Up to `count` strokes on the drawing pad while the run lasts; each asks for a prediction. */
    async drawStrokes(count) {
      const { page } = session;
      await reveal(page, '#draw');
      await page.locator('#draw').scrollIntoViewIfNeeded();
      const box = await page.locator('#draw').boundingBox();
      for (let stroke = 0; stroke < count && (await page.getAttribute('body', 'data-status')) === 'running'; stroke++) {
        await page.mouse.move(box.x + box.width * (0.3 + 0.05 * stroke), box.y + box.height * 0.3);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.7, { steps: 5 });
        await page.mouse.up();
        await page.waitForTimeout(100);
      }
    },

    /** Sets one searched setting's row in the search space editor. */
    async searchRow(param, { on, low, high, log }) {
      const field = (f) => `#tune-space [data-param="${param}"][data-field="${f}"]`;
      if (on !== undefined) await this.setChecked(field('on'), on);
      if (low !== undefined) await this.fill(field('low'), String(low));
      if (high !== undefined) await this.fill(field('high'), String(high));
      if (log !== undefined) await this.setChecked(field('log'), log);
    },

    /** Waits for the search just started to finish with `trials` trials. */
    finishedSearch: (trials) =>
      session.page.waitForFunction(
        (n) =>
          document.body.dataset.search === 'finished' &&
          new RegExp(`Search finished: ${n} trials`).test(document.getElementById('notice').textContent),
        trials,
        { timeout: 180_000 },
      ),
  };
}

/** The file's last test: nothing reached the browser's console, and no request left the machine. */
export function noErrors(session) {
  test('no errors reached the console, and no request went to another host', () => {
    assert.deepEqual(session.errors, []);
  });
}

/** The text of the first element `selector` finds. */
export const textOf = (page, selector) => page.locator(selector).first().innerText();

/** Waits for the body's run status to become `status`. */
export const status = (page, value, timeout = 120_000) =>
  page.waitForFunction((s) => document.body.dataset.status === s, value, { timeout });

/** Waits for the status area to say something matching `pattern`. */
export const notice = (page, pattern, timeout = 30_000) =>
  page.waitForFunction(
    (source) => new RegExp(source).test(document.getElementById('notice').textContent),
    pattern.source,
    { timeout },
  );

export { assert };
