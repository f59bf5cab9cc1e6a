// The start view: the digits and the CNN on the first screen, a run paused, resumed and stopped,
// the CNN trained to 90 % and a drawn digit classified, drawing while it trains.
import { test } from 'node:test';
import { join } from 'node:path';
import { assert, noErrors, openPage, pageOf, person, shots } from './page.mjs';

const session = openPage();
const ui = person(session);
const page = pageOf(session);

test('the page opens on the built-in digits with the CNN preset and its summary', async () => {
  await page.waitForFunction(() => document.querySelectorAll('#summary tr').length > 5);
  assert.match(await ui.text('#dataset-info'), /10,000 samples of 1 × 28 × 28, 10 classes/);
  assert.equal(await page.inputValue('#preset'), 'cnn');
  assert.match(await ui.text('#summary'), /conv2d[\s\S]*8×28×28[\s\S]*total\s+29,738/);
  // SwiftShader is a software WebGPU adapter: "fastest available" picks the CPU and says why in
  // plain words beside the choice, once the engine has opened the adapter.
  await page.waitForFunction(() =>
    /runs on the processor, not on a graphics card \(a software adapter/.test(
      document.getElementById('device-info').textContent,
    ),
  );
  assert.equal(await page.isVisible('#notice'), false, 'the page opens without a message');
  assert.match(await ui.text('#backend'), /CPU/);
  assert.equal(await page.inputValue('#device'), 'auto');
});

test('pause holds the run still, resume continues, stop ends it', async () => {
  await ui.fill('#epochs', '3');
  await ui.click('#train');
  await page.waitForFunction(() => document.getElementById('progress').value > 0.02);
  await ui.click('#pause');
  await page.waitForFunction(() => document.body.dataset.status === 'paused');
  await page.waitForTimeout(400);
  const held = await page.evaluate(() => document.getElementById('progress').value);
  await page.waitForTimeout(1000);
  assert.equal(await page.evaluate(() => document.getElementById('progress').value), held);
  await ui.click('#pause');
  await page.waitForFunction((v) => document.getElementById('progress').value > v, held);
  await ui.click('#stop');
  await page.waitForFunction(() => document.body.dataset.status === 'stopped');
  assert.match(await ui.text('#notice'), /stopped/);
});

test('training the CNN preset reaches 90 % validation accuracy in one epoch, then predicts a drawing', async () => {
  await ui.fill('#epochs', '1');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 180_000 });
  const acc = parseFloat(await ui.text('#stat-val-acc'));
  assert.ok(acc >= 90, `validation accuracy on the page: ${acc} %`);
  assert.match(await ui.text('#stat-speed'), /^[\d,]+$/);

  // Draw a "1": one vertical stroke through the middle of the pad.
  // A person scrolls the pad into view first (the settings are further down the page).
  await ui.reveal('#draw');
  await page.locator('#draw').scrollIntoViewIfNeeded();
  const box = await page.locator('#draw').boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.15 + 0.06 * i));
  await page.mouse.up();
  await page.waitForFunction(() => document.getElementById('probs').dataset.prediction !== undefined);
  const probs = await page.locator('#probs li .value').allInnerTexts();
  assert.equal(probs.length, 10);
  const total = probs.reduce((s, p) => s + parseFloat(p), 0);
  assert.ok(Math.abs(total - 100) < 1, `probabilities sum to ${total} %`);
  assert.equal(await page.getAttribute('#probs', 'data-prediction'), '1');
  await page.screenshot({ path: join(shots, 'playground-digits.png'), fullPage: true });
});

test('drawing while the model trains gets predictions and leaves the run intact', async () => {
  await ui.fill('#epochs', '2');
  await ui.click('#train');
  await page.waitForFunction(
    () => document.getElementById('stat-val-acc').textContent !== '–' && document.body.dataset.status === 'running',
  );
  await ui.drawStrokes(6);
  await page.waitForFunction(() => document.body.dataset.status !== 'running', null, { timeout: 120_000 });
  assert.equal(await page.getAttribute('body', 'data-status'), 'done', await ui.text('#notice'));
  assert.match(await ui.text('#stat-epoch'), /2 \/ 2/);
  await ui.click('#clear');
});

noErrors(session);
