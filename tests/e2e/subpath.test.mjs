// The built page works from any static host, under a sub-path as well as at the root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch } from './serve.mjs';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');

test('dist/ served under /app/ loads the digits, the wasm and the worker', async () => {
  const server = await serve(join(dist, 'no-root'), { app: dist });
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${server.url}app/`);
    await page.waitForFunction(() => document.querySelectorAll('#summary tr').length > 5);
    assert.match(await page.locator('#dataset-info').innerText(), /10,000 samples/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
