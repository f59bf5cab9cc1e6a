// The deploy view: a deployed model on a drifting stream with feedback, retraining, promotion and
// roll-back; table rows, a missing webcam and bad feedback refused.
import { test } from 'node:test';
import { join } from 'node:path';
import { plantsFile, png } from './files.mjs';
import { assert, noErrors, openPage, pageOf, person, shots } from './page.mjs';

const session = openPage();
const ui = person(session);
const page = pageOf(session);

test('a deployed model meets a drifting stream: the alert rises, feedback is kept, retraining with replay recovers, and versions roll back', async () => {
  await ui.chooseDataset('digits', /10,000 samples/);
  await ui.selectOption('#preset', 'mlp');
  await page.waitForFunction(() => document.body.dataset.setup === 'ready');
  await ui.fill('#samples', '4000');
  await ui.fill('#heldout', '800');
  await ui.fill('#epochs', '2');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120_000 });
  await ui.reveal('#deploy-panel');
  await page.locator('#deploy-panel').scrollIntoViewIfNeeded();
  await ui.click('#deploy');
  await page.waitForFunction(() =>
    /deployed: v1 \(\d+\.\d % on the held-out split\)/.test(document.getElementById('deploy-version').textContent),
  );
  // Held-out digits: a third as they are, then turned up to 90°.
  await ui.fill('#stream-count', '600');
  await ui.fill('#stream-degrees', '90');
  await ui.click('#stream-play');
  await page.waitForFunction(() => document.body.dataset.stream === 'done', null, { timeout: 120_000 });
  // The live accuracy as plotted: over the last 50 answers of the calm third, and at the end.
  const [xs, accuracy] = await page.evaluate(() => globalThis.whetstone.deployment.monitor.accuracy.columns);
  const calm = accuracy[xs.indexOf(200)];
  const drifted = Number(await page.getAttribute('body', 'data-live-accuracy'));
  assert.equal(drifted, accuracy.at(-1));
  assert.ok(drifted < calm - 0.2, `live accuracy ${calm} on the calm stream, ${drifted} once turned`);
  assert.equal(await page.isVisible('#deploy-alert'), true);
  assert.match(
    await ui.text('#deploy-alert'),
    /Drift alert: the last 100 inputs no longer look like the training data \(PSI \d+\.\d+, over 0\.2;/,
  );
  const drift = JSON.parse(await page.getAttribute('body', 'data-drift'));
  assert.ok(drift.psi > 0.2 && drift.p_value < 0.01, JSON.stringify(drift));
  await page.waitForFunction(() =>
    /600 answers with feedback kept in this browser/.test(document.getElementById('feedback-info').textContent),
  );
  assert.equal(await page.locator('#deploy-recent li').count(), 8);
  // A drawn "1" goes to the deployed model; correcting its answer by hand is feedback too.
  await ui.click('#clear');
  await ui.reveal('#draw');
  await page.locator('#draw').scrollIntoViewIfNeeded();
  const box = await page.locator('#draw').boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.85, { steps: 10 });
  await page.mouse.up();
  await ui.reveal('#deploy-panel');
  await page.locator('#deploy-panel').scrollIntoViewIfNeeded();
  await ui.click('#deploy-drawing');
  await page.waitForFunction(() => !/✓|✗/.test(document.querySelector('#deploy-recent li')?.textContent));
  await ui.selectOption('#deploy-recent li >> nth=0 >> select', '7');
  await page.waitForFunction(() =>
    /601 answers with feedback kept in this browser/.test(document.getElementById('feedback-info').textContent),
  );
  assert.match(await ui.text('#deploy-recent li >> nth=0'), /is 7/);
  // An image dropped on the panel is resized to the digits' shape and answered too.
  const bar = [...png(20, 20, (x) => (x >= 8 && x < 12 ? [255, 255, 255] : [0, 0, 0]))];
  await page.evaluate((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], 'bar.png', { type: 'image/png' }));
    document
      .getElementById('deploy-drop')
      .dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bar);
  await page.waitForFunction(() => /602 predictions/.test(document.getElementById('monitor-info').textContent));
  // Fine-tuning on the feedback with a replay of old samples: better on the new data, and the old
  // data is not forgotten.
  await ui.fill('#retrain-replay', '500');
  await ui.fill('#retrain-epochs', '4');
  await ui.click('#retrain');
  await page.waitForFunction(() => document.body.dataset.retrained, null, { timeout: 180_000 });
  const m = JSON.parse(await page.getAttribute('body', 'data-retrained'));
  assert.ok(m.new.new > m.old.new + 0.1, `new data: deployed ${m.old.new}, retrained ${m.new.new}`);
  assert.ok(m.new.old > m.old.old - 0.05, `old data: deployed ${m.old.old}, retrained ${m.new.old}`);
  assert.match(await ui.text('#retrain-compare'), /deployed v1[\s\S]*retrained/);
  await ui.reveal('#deploy-panel');
  await page.locator('#deploy-panel').screenshot({ path: join(shots, 'playground-deploy.png') });
  // From scratch on the same feedback and replay: a comparison too, not promoted.
  await ui.selectOption('#retrain-mode', 'scratch');
  await page.evaluate(() => {
    delete document.body.dataset.retrained;
  });
  await ui.click('#retrain');
  await page.waitForFunction(() => document.body.dataset.retrained, null, { timeout: 180_000 });
  const scratch = JSON.parse(await page.getAttribute('body', 'data-retrained'));
  assert.ok(
    scratch.new.new > scratch.old.new,
    `new data: deployed ${scratch.old.new}, trained from scratch ${scratch.new.new}`,
  );
  // Back to fine-tuning, which is promoted.
  await ui.selectOption('#retrain-mode', 'fine-tune');
  await page.evaluate(() => {
    delete document.body.dataset.retrained;
  });
  await ui.click('#retrain');
  await page.waitForFunction(() => document.body.dataset.retrained, null, { timeout: 180_000 });
  await ui.click('#promote');
  await page.waitForFunction(
    () => document.body.dataset.deployed === 'v2' && /v2/.test(document.getElementById('versions').textContent),
  );
  assert.match(
    await ui.text('#versions'),
    /v1[\s\S]*trained in the page[\s\S]*v2[\s\S]*fine-tuned on 480 feedback answers \+ 500 replayed/,
  );
  // Versions and feedback survive a reload; rolling back deploys the old version again.
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.deployed === 'v2', null, { timeout: 60_000 });
  assert.match(await ui.text('#feedback-info'), /601 answers with feedback/);
  await ui.click('#versions li >> nth=0 >> button');
  await page.waitForFunction(() => document.body.dataset.deployed === 'v1');
  await ui.click('#versions-clear');
  await ui.click('#feedback-clear');
  await page.waitForFunction(() => /No feedback yet/.test(document.getElementById('feedback-info').textContent));
  await ui.fill('#samples', '10000');
  await ui.fill('#heldout', '2000');
});

test('the deployed model takes CSV rows of a table and refuses bad rows, a webcam that is not there, and feedback for a class it does not know', async () => {
  // The plants table, uploaded as the data view's test does.
  await ui.expand('upload');
  await page.setInputFiles('#table-file', plantsFile());
  await page.waitForFunction(() =>
    /400 samples of 4, 2 classes/.test(document.getElementById('dataset-info').textContent),
  );
  assert.match(await page.inputValue('#dataset'), /^table:/);
  await ui.fill('#epochs', '5');
  // Raw, a million in one row makes the first step diverge; the message says what to do.
  await ui.click('#train');
  await page.waitForFunction(
    () =>
      /diverged[\s\S]*This table's numbers are not scaled: standardise them under “Feature engineering”/.test(
        document.getElementById('notice').textContent,
      ),
    null,
    { timeout: 60_000 },
  );
  await ui.expand('features-editor');
  await ui.selectOption('#feature-scale', 'standardize');
  await page.waitForFunction(() => document.body.dataset.setup === 'ready');
  await ui.click('#train');
  await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60_000 });
  await ui.reveal('#deploy-panel');
  await page.locator('#deploy-panel').scrollIntoViewIfNeeded();
  await ui.click('#deploy');
  await page.waitForFunction(() => /deployed: v1/.test(document.getElementById('deploy-version').textContent));
  const rowsSay = async (rows, pattern) => {
    await ui.fill('#deploy-rows', rows);
    await ui.click('#deploy-rows-predict');
    await page.waitForFunction(
      (p) => new RegExp(p).test(document.getElementById('notice').textContent),
      pattern.source,
    );
  };
  await rowsSay('0.9,500', /row 1 has 2 values where the table has 4 columns \(small, huge, colour, site\)/);
  await rowsSay('0.9,500,purple,A', /row 1: 'purple' is not a category of colour \(blue, green, red\)/);
  await rowsSay('0.9,fast,red,A', /row 1: huge must be a number, got 'fast'/);
  await ui.fill('#deploy-rows', '0.95,500,red,A\n0.05,NA,blue,A');
  await ui.click('#deploy-rows-predict');
  await page.waitForFunction(() => document.querySelectorAll('#deploy-recent li').length === 2);
  assert.match(await ui.text('#deploy-recent li >> nth=0'), /^short/);
  assert.match(await ui.text('#deploy-recent li >> nth=1'), /^tall/);
  await ui.click('#deploy-webcam');
  await page.waitForFunction(() =>
    /this data is not images: the webcam cannot feed it/.test(document.getElementById('notice').textContent),
  );
  // Feedback that names a class the model does not have (from another project, say) is refused.
  await page.evaluate(async () => {
    const { putFeedback } = await import('./www/engine/store.js');
    const dataKey = globalThis.whetstone.deployment.loaded;
    await putFeedback(
      Array.from({ length: 12 }, (_, i) => ({
        name: `bad${i}`,
        at: i,
        features: [0.5, 100, 0, 0],
        predicted: 0,
        label: i === 11 ? 5 : i % 2,
        dataKey,
      })),
    );
  });
  await ui.click('#retrain');
  await page.waitForFunction(
    () => /feedback label 5 is not one of the model's 2 classes/.test(document.getElementById('notice').textContent),
    null,
    { timeout: 60_000 },
  );
  await ui.click('#feedback-clear');
  await ui.click('#versions-clear');
  await ui.selectOption('#feature-scale', 'none');
  await ui.expand('features-editor', false);
  // Images: headless Chromium has no camera, so the webcam is refused with the reason.
  await ui.chooseDataset('digits', /10,000 samples/);
  await ui.click('#deploy-webcam');
  await page.waitForFunction(
    () =>
      /no webcam picture: (access was refused|there is no camera)|this browser offers no webcam/.test(
        document.getElementById('notice').textContent,
      ),
    null,
    { timeout: 30_000 },
  );
});

noErrors(session);
