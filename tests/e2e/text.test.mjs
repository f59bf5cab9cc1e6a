// Text: the built-in word-language set shown as words, a Transformer trained on their characters,
// a typed word classified as it is typed, and the evaluation's mistakes shown as words.
import { test } from 'node:test';
import { join } from 'node:path';
import { assert, noErrors, openPage, pageOf, person, shots } from './page.mjs';

const session = openPage();
const ui = person(session);
const page = pageOf(session);

test('a Transformer learns which language a word is in, and a typed word is classified as it is typed', async () => {
  await ui.chooseDataset('words', /18,000 samples of up to 12 characters \(a vocabulary of \d+ tokens/);
  // The data view shows words of each language.
  const texts = await ui.text('#data-texts');
  for (const language of ['english', 'french', 'german', 'spanish', 'dutch', 'portuguese'])
    assert.match(texts, new RegExp(`^${language}\\n[\\p{L}, ]+$`, 'mu'), texts);
  assert.equal(await page.inputValue('#preset'), 'transformer');
  const summary = await ui.text('#summary');
  for (const kind of ['embedding', 'positional', 'transformer_block', 'mean_pool'])
    assert.match(summary, new RegExp(kind), `${kind} in the summary`);
  // Typing before training says what to do.
  await ui.fill('#try-text', 'maison');
  await page.waitForFunction(() => /Train a model first/.test(document.getElementById('notice').textContent));
  await ui.fill('#epochs', '2');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 300_000 });
  const acc = parseFloat(await ui.text('#stat-val-acc'));
  assert.ok(acc >= 40, `word-language validation accuracy ${acc} % after 2 epochs (chance 16.7 %)`);
  assert.match(await ui.text('#notice'), /Type a word under Start/);
  // Each keystroke asks again: the probabilities are there for the word as typed.
  for (const word of ['schmetterling', 'corazón']) {
    await page.evaluate(() => delete document.getElementById('probs').dataset.prediction);
    await ui.fill('#try-text', word);
    await page.waitForFunction(() => document.getElementById('probs').dataset.prediction);
    const probs = await page.locator('#probs li .value').allInnerTexts();
    assert.equal(probs.length, 6);
    const total = probs.reduce((sum, p) => sum + parseFloat(p), 0);
    assert.ok(Math.abs(total - 100) < 0.5, `the shares add up to ${total} %`);
  }
  assert.equal(await ui.text('#try-text-note'), '');
  // The Transformer's one block has four heads: a heat map of each over the typed characters,
  // whose label says where each character looks most.
  await page.waitForFunction(() => document.querySelectorAll('#attention canvas').length === 4);
  const label = await page.getAttribute('#attention canvas >> nth=0', 'aria-label');
  assert.match(label, /^Layer 1, head 1: c \(1\) looks most at \p{L} \(\d\); o \(2\) looks most at/u);
  assert.equal((label.match(/looks most at/g) ?? []).length, 'corazón'.length);
  // Capitals read as the list's lower case: the same probabilities.
  const shares = async (word) => {
    await page.evaluate(() => delete document.getElementById('probs').dataset.prediction);
    await ui.fill('#try-text', word);
    await page.waitForFunction(() => document.getElementById('probs').dataset.prediction);
    return page.locator('#probs li .value').allInnerTexts();
  };
  assert.deepEqual(await shares('HAUS'), await shares('haus'));
  await ui.fill('#try-text', 'unverhältnismäßigkeiten');
  await page.waitForFunction(() =>
    /Only the first 12 characters/.test(document.getElementById('try-text-note').textContent),
  );
  // An empty box clears the prediction, the heat maps and the note.
  await ui.fill('#try-text', '');
  await page.waitForFunction(
    () =>
      !document.querySelector('#probs li') &&
      !document.querySelector('#attention canvas') &&
      document.getElementById('try-text-note').textContent === '',
  );
  // The most confident mistakes are words, not token ids.
  await page.waitForFunction(() => document.querySelectorAll('#gallery .text-sample').length > 0);
  const mistakes = await page.locator('#gallery .text-sample').allInnerTexts();
  assert.ok(
    mistakes.every((w) => /^[\p{L}]+$/u.test(w)),
    mistakes.join(', '),
  );
  await page.screenshot({ path: join(shots, 'playground-words.png'), fullPage: true });
  await ui.chooseDataset('circle', /2 classes/);
});

test('token augmentation is offered for text, previewed as words, and trains', async () => {
  await ui.chooseDataset('words', /18,000 samples/);
  await ui.click('#augment-editor summary');
  // Only what works on texts: no image augmentation, no mixup (token ids cannot be blended).
  const offered = await page.$$eval('#augment-table [data-field="on"]', (boxes) => boxes.map((b) => b.dataset.augment));
  assert.deepEqual(offered, ['delete_tokens', 'swap_tokens', 'insert_tokens', 'mask_tokens']);
  await page.waitForFunction(() => document.querySelectorAll('#augment-preview li').length === 8);
  const plain = await page.locator('#augment-preview li').allInnerTexts();
  assert.equal(new Set(plain).size, 1, `eight draws of no augmentation are one word: ${plain}`);
  const row = (field) => `#augment-table [data-augment="mask_tokens"][data-field="${field}"]`;
  await ui.check(row('on'));
  await ui.fill(row('strength'), '0.9');
  await ui.press(row('strength'), 'Tab');
  await page.waitForFunction(() =>
    /augmentation 'mask_tokens': rate must be between 0 and 0.5, got 0.9/.test(
      document.getElementById('augment-info').textContent,
    ),
  );
  await ui.fill(row('strength'), '0.5');
  await ui.fill(row('p'), '1');
  await ui.press(row('p'), 'Tab');
  await page.waitForFunction(() => /8 draws of the 1 chosen/.test(document.getElementById('augment-info').textContent));
  const masked = await page.locator('#augment-preview li').allInnerTexts();
  assert.ok(masked.some((w) => w.includes('\uFFFD')) && new Set(masked).size > 1, masked.join(' | '));
  assert.ok(
    masked.every((w) => w.length === plain[0].length),
    `masking keeps the length: ${masked}`,
  );
  await ui.fill('#epochs', '1');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 300_000 });
  const acc = parseFloat(await ui.text('#stat-val-acc'));
  assert.ok(acc >= 25, `one epoch with half the characters masked: ${acc} % (chance 16.7 %)`);
  await ui.uncheck(row('on'));
  await ui.chooseDataset('circle', /2 classes/);
});

noErrors(session);
