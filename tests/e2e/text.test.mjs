// Text: the built-in word-language set shown as words, a Transformer trained on their characters,
// a typed word classified as it is typed, and the evaluation's mistakes shown as words.
import { test } from 'node:test';
import { join } from 'node:path';
import { putOversizedCsv, seeded } from './files.mjs';
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
  // The Transformer's two blocks have four heads each: a heat map of each over the typed
  // characters, whose label says where each character looks most.
  await page.waitForFunction(() => document.querySelectorAll('#attention canvas').length === 8);
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
  // The texts' recipe starts with masking and swaps on, and a cosine schedule.
  const at = (type, field) => `#augment-table [data-augment="${type}"][data-field="${field}"]`;
  const on = await page.$$eval('#augment-table [data-field="on"]:checked', (boxes) =>
    boxes.map((b) => b.dataset.augment),
  );
  assert.deepEqual(on, ['swap_tokens', 'mask_tokens']);
  assert.equal(await page.inputValue('#schedule'), 'cosine');
  await page.waitForFunction(() => /8 draws of the 2 chosen/.test(document.getElementById('augment-info').textContent));
  await ui.uncheck(at('swap_tokens', 'on'));
  await ui.uncheck(at('mask_tokens', 'on'));
  await page.waitForFunction(() => /No augmentation chosen/.test(document.getElementById('augment-info').textContent));
  await page.waitForFunction(() => document.querySelectorAll('#augment-preview li').length === 8);
  const plain = await page.locator('#augment-preview li').allInnerTexts();
  assert.equal(new Set(plain).size, 1, `eight draws of no augmentation are one word: ${plain}`);
  const row = (field) => at('mask_tokens', field);
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

/** A CSV of `n` sentences about the weather or food (words of each topic among shared ones), the
 * label in the first column; every twentieth sentence runs on. */
function sentences(n) {
  const random = seeded(11);
  const pick = (words) => words[Math.floor(random() * words.length)];
  const topics = {
    weather: ['rain', 'sun', 'cloudy', 'wind', 'storm', 'snow', 'warm', 'cold', 'forecast', 'fog'],
    food: ['bread', 'soup', 'cheese', 'salad', 'apple', 'pasta', 'spicy', 'sweet', 'dinner', 'rice'],
  };
  const shared = ['the', 'a', 'today', 'was', 'very', 'and', 'we', 'had', 'some', 'really'];
  const rows = ['topic,sentence'];
  for (let i = 0; i < n; i++) {
    const topic = i % 2 ? 'food' : 'weather';
    const length = i % 20 === 3 ? 30 : 4 + Math.floor(random() * 5);
    const words = Array.from({ length }, () => (random() < 0.4 ? pick(topics[topic]) : pick(shared)));
    words[Math.floor(random() * length)] = pick(topics[topic]);
    rows.push(`${topic},"${words.join(' ')}, indeed"`);
  }
  return rows.join('\n');
}

const csv = (name, text) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });

test('a CSV of texts loads split per label, bad ones are named and change nothing, and a model trains on its words', async () => {
  await ui.chooseDataset('words', /18,000 samples/);
  await ui.expand('upload');
  const [before, described] = [await page.inputValue('#dataset'), await ui.text('#dataset-info')];
  const refused = async (file, message) => {
    await page.setInputFiles('#text-file', file);
    await page.waitForFunction(
      (m) => document.getElementById('notice').textContent.includes(m),
      `Could not load “${file.name}”: ${message}`,
    );
    assert.deepEqual([await page.inputValue('#dataset'), await ui.text('#dataset-info')], [before, described]);
  };
  await refused(csv('numbers.csv', 'label,text\na,1\nb,2\na,3\nb,4\n'), "the text column 'text' holds only numbers");
  await refused(
    csv('lonely.csv', 'label,text\na,hello there\na,hi you\nb,good day\n'),
    "the label 'b' has one text only (line 4): each label needs at least two",
  );
  await refused(csv('ragged.csv', 'label,text\na,hello, there\n'), 'line 2 has 3 fields where the header has 2');
  await refused(csv('empty.csv', 'label,text\na,\nb, \n'), "every text in the column 'text' is empty");
  await putOversizedCsv(page, 'text-file');
  await page.waitForFunction(() =>
    document
      .getElementById('notice')
      .textContent.includes('Could not load “big.csv”: “big.csv” is 65 MB; the limit is 64 MB'),
  );
  // A good file, with two empty texts: they are left out and said so.
  await ui.selectOption('#text-level', 'words');
  await page.setInputFiles('#text-file', csv('topics.csv', `${sentences(400)}\nfood,\nweather,""\n`));
  await page.waitForFunction(() =>
    /320 samples of up to \d+ words \(a vocabulary of \d+ tokens/.test(
      document.getElementById('dataset-info').textContent,
    ),
  );
  assert.match(await ui.text('#notice'), /Loaded, but: 2 rows with an empty text were left out \(lines 402, 403\)/);
  assert.match(await ui.text('#dataset'), /Your texts: topics.csv/);
  assert.match(
    await ui.text('#dataset-info'),
    /; \d+ training texts \(\d+\.\d %\) are longer: only their first \d+ words are read/,
  );
  assert.equal(await page.isDisabled('#heldout'), true);
  assert.equal(await page.inputValue('#heldout'), '80');
  assert.match(await ui.text('#data-texts'), /^weather\n.*indeed/m);
  await ui.expand('upload', false);
  await ui.fill('#epochs', '6');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 300_000 });
  const acc = parseFloat(await ui.text('#stat-val-acc'));
  assert.ok(acc >= 85, `weather against food sentences: ${acc} % held out`);
  assert.match(await ui.text('#notice'), /Type a text under Start/);
  await ui.fill('#try-text', 'The SOUP was very spicy');
  await page.waitForFunction(() => document.getElementById('probs').dataset.prediction);
  assert.match(await ui.text('#probs'), /food/);
  await page.waitForFunction(() => document.querySelectorAll('#attention canvas').length === 8);
  const label = await page.getAttribute('#attention canvas >> nth=0', 'aria-label');
  assert.match(label, /^Layer 1, head 1: the \(1\) looks most at \w+ \(\d\); soup \(2\) looks most at/);
  await page.screenshot({ path: join(shots, 'playground-texts.png'), fullPage: true });
  // Kept for the next visit.
  await page.reload();
  await page.waitForFunction(() => /320 samples of up to/.test(document.getElementById('dataset-info').textContent));
  assert.match(await page.inputValue('#dataset'), /^text:/);
  await ui.expand('upload');
  await ui.click('#delete-upload');
  await page.waitForFunction(() =>
    /Deleted “Your texts: topics.csv”/.test(document.getElementById('notice').textContent),
  );
});

test('the quality report of texts finds near duplicates, texts of outlying length and mislabelled texts, and drops them', async () => {
  await ui.expand('upload');
  await ui.selectOption('#text-level', 'characters');
  // Long enough that the run-on sentences are read whole.
  await ui.fill('#text-length', '200');
  const extra = [
    'weather,"Rain, rain and wind today!"',
    'weather,rain rain and wind TODAY',
    'weather,"RAIN rain, and wind today."',
    'weather,"we had some cheese and bread and soup and pasta and rice for dinner"',
  ];
  await page.setInputFiles('#text-file', csv('messy.csv', `${sentences(300)}\n${extra.join('\n')}\n`));
  await page.waitForFunction(() =>
    /Your texts: messy.csv/.test(document.getElementById('dataset').selectedOptions[0]?.textContent),
  );
  await ui.expand('quality');
  await ui.click('#quality-check');
  await page.waitForFunction(() =>
    /texts of outlying length/.test(document.getElementById('quality-findings').textContent),
  );
  const findings = await ui.text('#quality-findings');
  assert.match(
    findings,
    /near duplicates \(texts equal but for case, spaces and punctuation\): “Rain, rain and wind today!” = “rain rain and wind TODAY”/,
  );
  // Every twentieth sentence runs on to about four times the median.
  assert.match(
    findings,
    /\d+ texts of outlying length \(the median is \d+ tokens, counted up to the 200 read; modified z-score over 3.5\): “[a-z ,]+” \(1\d\d\)/,
  );
  assert.match(
    findings,
    /nearest neighbours by their character n-grams .*“we had some cheese and bread and soup and pasta and rice for dinner” labelled weather, \d+ of 10 neighbours say food/,
  );
  const [samples] = (await ui.text('#dataset-info')).match(/^[\d,]+/);
  await ui.click('#quality-findings li:has-text("outlying length") button');
  await page.waitForFunction(() =>
    /texts of outlying length/.test(document.querySelector('#quality-findings .before-after')?.textContent),
  );
  assert.ok(parseInt((await ui.text('#dataset-info')).replace(/,/g, ''), 10) < parseInt(samples.replace(/,/g, ''), 10));
  await ui.expand('upload');
  await ui.click('#delete-upload');
  await page.waitForFunction(() =>
    /Deleted “Your texts: messy.csv”/.test(document.getElementById('notice').textContent),
  );
});

noErrors(session);
