// The page as an app: the first screen, a view per address, layouts at a laptop's, a projector's
// and a phone's size, the keyboard and screen readers, and messages where the person is looking.
import { test } from 'node:test';
import { join } from 'node:path';
import { VIEWPORTS, assert, notice, openPage, pageOf, person, ready, shots, status, view } from './page.mjs';

const session = openPage({ viewport: VIEWPORTS.desktop });
const ui = person(session);
const page = pageOf(session);
const VIEWS = ['start', 'data', 'model', 'train', 'evaluate', 'tune', 'ensembles', 'deploy', 'lessons', 'share'];

/** Whether an element's box lies inside the viewport. */
const inViewport = (page, selector) =>
  page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
    });

/** Visible elements that reach outside their card (unless a scrolling box holds them), and whether
 * the page scrolls sideways. */
const overflow = (page) =>
  page.evaluate(() => {
    const out = [];
    const clips = (el) => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(el).overflowX);
    for (const card of document.querySelectorAll('main > section:not([hidden])')) {
      const box = card.getBoundingClientRect();
      for (const el of card.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (!r.width || !el.checkVisibility()) continue;
        let clipped = false;
        for (let a = el.parentElement; a && a !== card; a = a.parentElement) if (clips(a)) clipped = true;
        if (!clipped && (r.right > box.right + 1 || r.left < box.left - 1)) {
          out.push(`${card.id} › ${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className}`);
        }
      }
    }
    return { sideways: document.documentElement.scrollWidth > innerWidth + 1, out: [...new Set(out)].slice(0, 8) };
  });

test('the first screen at 1366×768 holds the data, the preset, Train, the live curves and the drawing pad', async () => {
  const { page } = session;
  assert.equal(await page.evaluate(() => document.getElementById('view').dataset.view), 'start');
  for (const selector of [
    '#dataset',
    '#data-strip canvas',
    '#preset',
    '#train',
    '#loss-chart canvas',
    '#acc-chart canvas',
    '#draw',
  ]) {
    assert.ok(await inViewport(page, selector), `${selector} is on the first screen`);
  }
  assert.equal(await page.locator('#data-strip canvas').count(), 10, 'one sample of each digit');
  assert.match(await page.locator('#status-data').innerText(), /Handwritten digits/);
  assert.match(await page.locator('#status-model').innerText(), /Small CNN/);
  assert.match(await page.locator('#run-status').innerText(), /not trained yet/);
  await page.screenshot({ path: join(shots, 'first-screen-1366x768.png') });
});

test('Train is early in the tab order, and T trains from the keyboard', async () => {
  const { page } = session;
  await page.locator('body').focus();
  let presses = 0;
  for (; presses < 30; presses++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.id === 'train')) break;
  }
  assert.ok(presses < 20, `Train after ${presses + 1} presses of Tab`);
  assert.match(await page.getAttribute('#train', 'title'), /\(T\)/);
  await ui.fill('#epochs', '20');
  await ui.selectOption('#preset', 'mlp');
  await view(page, 'start');
  await page.locator('body').focus();
  await page.keyboard.press('t');
  await page.waitForFunction(() => document.body.dataset.status === 'running');
  // The run keeps training while the person moves between views; the header shows how far it is.
  await view(page, 'tune');
  const before = await page.evaluate(() => document.getElementById('header-progress').value);
  assert.ok(await page.isVisible('#header-progress'), 'the header shows the run');
  await page.waitForFunction((v) => document.getElementById('header-progress').value > v, before);
  assert.match(await page.locator('#run-status').innerText(), /training: epoch \d+ \/ 20/);
  await view(page, 'evaluate');
  await page.keyboard.press('s');
  await status(page, 'stopped');
  await view(page, 'start');
});

test('each view opens by its address, after a reload, and with back and forward', async () => {
  const { page } = session;
  for (const name of VIEWS) {
    await view(page, name);
    assert.equal(await page.getAttribute(`nav a[data-route="${name}"]`, 'aria-current'), 'page');
    const shown = await page.evaluate(() =>
      [...document.querySelectorAll('main > section:not([hidden])')].map((s) => s.id),
    );
    assert.ok(shown.length > 0, `${name} shows something`);
  }
  await page.goBack();
  await page.waitForFunction(() => document.getElementById('view').dataset.view === 'lessons');
  await page.goBack();
  await page.waitForFunction(() => document.getElementById('view').dataset.view === 'deploy');
  await page.goForward();
  await page.waitForFunction(() => document.getElementById('view').dataset.view === 'lessons');
  await view(page, 'evaluate');
  await page.reload();
  await ready(page);
  assert.equal(await page.evaluate(() => document.getElementById('view').dataset.view), 'evaluate');
  assert.equal(await page.isVisible('#evaluate-card'), true);
  assert.equal(await page.isVisible('#tune-panel'), false);
  // An address that names no view says so and shows the start.
  await page.evaluate(() => {
    location.hash = '#/nowhere';
  });
  await notice(page, /names no view \(“nowhere”\)/);
  assert.equal(await page.evaluate(() => document.getElementById('view').dataset.view), 'start');
});

test('a settings link opened in the open tab applies at once, without a reload', async () => {
  const { page } = session;
  const settings = { dataset: 'circle', epochs: 7, schedule: 'not-a-schedule' };
  const hash = `#settings=${Buffer.from(JSON.stringify(settings)).toString('base64url')}`;
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  await page.waitForFunction(() =>
    /1,000 samples of 2, 2 classes/.test(document.getElementById('dataset-info').textContent),
  );
  await notice(
    page,
    /Opened with the settings of the link\. Set aside from the link: schedule = "not-a-schedule" does not fit/,
  );
  assert.equal(await page.inputValue('#epochs'), '7');
  assert.equal(await page.inputValue('#schedule'), 'constant');
  // The model kept from the digits does not take points: the circle gets its own preset.
  assert.deepEqual(await page.evaluate(() => JSON.parse(globalThis.whetstone.state.settings.spec).input), [2]);
  assert.equal(await page.evaluate(() => location.hash), '#/');
});

test('an error appears beside the control that caused it, and the bad field is marked', async () => {
  const { page } = session;
  await ui.fill('#lr', 'fast');
  await page.locator('#train').scrollIntoViewIfNeeded();
  await ui.click('#train');
  await notice(page, /learning rate must be a number, got "fast"/);
  assert.ok(await inViewport(page, '.local-notice'), 'the message is in view where Train was pressed');
  assert.match(await page.locator('.local-notice').innerText(), /learning rate must be a number/);
  assert.equal(await page.getAttribute('#lr', 'aria-invalid'), 'true');
  await ui.fill('#lr', '0.02');
  assert.equal(await page.getAttribute('#lr', 'aria-invalid'), null, 'editing the field clears the mark');
  assert.equal(await page.isVisible('.local-notice'), false, 'and the message about it');
});

test('every file picker is a focusable control that opens from the keyboard', async () => {
  const { page } = session;
  await page.waitForFunction(() => document.body.dataset.setup === 'ready');
  const pickers = await page.locator('input[type=file]').evaluateAll((inputs) => inputs.map((i) => i.id));
  assert.ok(pickers.length >= 7, pickers.join());
  for (const id of pickers) {
    await ui.reveal(`#${id}`);
    // A picker inside a folded section is reached by unfolding it, as a person would.
    await page.evaluate((i) => document.getElementById(i).closest('details')?.setAttribute('open', ''), id);
    if (id === 'deploy-image' || id === 'model-file')
      await page.evaluate((i) => {
        document.getElementById(i).disabled = false;
      }, id);
    await page.focus(`#${id}`);
    assert.equal(await page.evaluate(() => document.activeElement.id), id, `${id} takes the focus`);
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser', { timeout: 15_000 }),
      page.keyboard.press('Space'),
    ]).catch((err) => assert.fail(`${id} opens no file chooser from the keyboard: ${err.message}`));
    assert.ok(chooser, `${id} opens a file chooser`);
  }
});

test('every control in every view has an accessible name', async () => {
  const { page } = session;
  const unnamed = [];
  for (const name of VIEWS) {
    await view(page, name);
    const tree = await page.locator('body').ariaSnapshot();
    for (const line of tree.split('\n')) {
      // A control with no name, or one whose name has no word in it ("↑", "✕").
      const control = /^\s*- (button|textbox|combobox|checkbox|slider|spinbutton|radio|link|listbox)\b(.*)$/u.exec(
        line,
      );
      if (control && !/"[^"]*[\p{L}\p{N}][^"]*"/u.test(control[2])) unnamed.push(`${name}: ${line.trim()}`);
    }
  }
  assert.deepEqual(unnamed, []);
});

test('no view scrolls sideways or spills out of its cards at 1366, 1280 and 390 px', async () => {
  const { page } = session;
  const problems = [];
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    for (const name of [...VIEWS, 'lessons/bias']) {
      await view(page, name);
      await page.waitForTimeout(150);
      const { sideways, out } = await overflow(page);
      if (sideways) problems.push(`${name} at ${size} scrolls sideways`);
      for (const o of out) problems.push(`${name} at ${size}: ${o}`);
      await page.screenshot({ path: join(shots, `view-${name.replace('/', '-')}-${size}.png`) });
    }
  }
  await page.setViewportSize(VIEWPORTS.desktop);
  await view(page, 'start');
  assert.deepEqual(problems, []);
});

test('the page runs under its content security policy, which refuses inline and foreign scripts', async () => {
  const policy = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
  assert.match(policy, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.doesNotMatch(policy, /'unsafe-inline'|'unsafe-eval'/);
  const blocked = await page.evaluate(async () => {
    const violations = [];
    const listen = (e) => violations.push(e.violatedDirective);
    document.addEventListener('securitypolicyviolation', listen);
    const inline = document.createElement('script');
    inline.textContent = 'globalThis.injected = true;';
    document.head.append(inline);
    const foreign = document.createElement('script');
    foreign.src = 'https://example.com/x.js';
    document.head.append(foreign);
    await new Promise((resolve) => setTimeout(resolve, 200));
    document.removeEventListener('securitypolicyviolation', listen);
    inline.remove();
    foreign.remove();
    return { injected: globalThis.injected === true, violations };
  });
  assert.equal(blocked.injected, false);
  assert.ok(blocked.violations.length >= 2, JSON.stringify(blocked.violations));
  // The refusals above (and the refused request's attempt) went to the console on purpose.
  const expected = (e) => /Content Security Policy|example\.com\/x\.js/.test(e);
  session.errors.splice(0, session.errors.length, ...session.errors.filter((e) => !expected(e)));
});

test('no errors reached the console', () => {
  assert.deepEqual(session.errors, []);
});
