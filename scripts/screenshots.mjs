// Screenshots of every view of the built page (dist/) at a laptop's, a projector's and a phone's
// size, into test-results/views/: `node scripts/screenshots.mjs [view …]`. For looking at the page
// as a person sees it; the end-to-end tests check what the pictures show.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, serve } from '../tests/e2e/serve.mjs';
import { VIEWPORTS, ready, root, view } from '../tests/e2e/page.mjs';

const VIEWS = [
  'start',
  'data',
  'model',
  'train',
  'evaluate',
  'tune',
  'ensembles',
  'deploy',
  'lessons',
  'lessons/bias',
  'share',
];
const wanted = process.argv.slice(2);
const out = join(root, 'test-results', 'views');
mkdirSync(out, { recursive: true });
const server = await serve(join(root, 'dist'));
const browser = await launch();
try {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    const page = await browser.newPage({ viewport });
    await page.goto(server.url);
    await ready(page);
    for (const name of VIEWS.filter((v) => !wanted.length || wanted.includes(v))) {
      await view(page, name);
      await page.waitForTimeout(300);
      const file = join(out, `${name.replace('/', '-')}-${size}.png`);
      await page.screenshot({ path: file });
      console.log(file);
    }
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
