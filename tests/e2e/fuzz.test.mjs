// The page's own parsers fuzzed in the browser: settings links, project files, .zip archives and
// image headers, each read a few thousand times from seeded mutations of valid inputs. Each input
// must give a value or an Error with a message of Whetstone's own — never a TypeError or RangeError
// from deep inside a parser, and never a hang.
import { test } from 'node:test';
import { assert, noErrors, openPage, pageOf } from './page.mjs';
import { png, zip } from './files.mjs';

const session = openPage();
const page = pageOf(session);

/** Runs `count` mutations of each seed through the parser `name` (see `parsers` in the page). */
async function fuzz(name, seeds, count) {
  return page.evaluate(
    async ({ name, seeds, count }) => {
      const { settingsFromLink, importProject, exportProject } = await import('./www/state/project.js');
      const { validate } = await import('./www/state/settings.js');
      const { unzip, declaredSize } = await import('./www/engine/archive.js');
      let state = 0x2545f491;
      const below = (n) => {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        return (state >>> 0) % Math.max(1, n);
      };
      const tokens = ['-1', '0', '1e309', 'NaN', '"', ',', '{', '}', '[', ']', ':', 'null', '\u0000', '..', '/'];
      const mutate = (bytes) => {
        let out = Array.from(bytes);
        for (let k = 0; k <= below(4); k++) {
          const i = below(out.length + 1);
          const kind = below(5);
          if (kind === 0 && out.length) out[Math.min(i, out.length - 1)] ^= 1 << below(8);
          else if (kind === 1) out = out.slice(0, i);
          else if (kind === 2) out.splice(i, 0, ...new TextEncoder().encode(tokens[below(tokens.length)]));
          else if (kind === 3) out.splice(i, below(16));
          else if (out.length) out[Math.min(i, out.length - 1)] = below(256);
        }
        return Uint8Array.from(out);
      };
      const text = (bytes) => new TextDecoder().decode(bytes);
      const parsers = {
        link: async (bytes) => {
          const settings = settingsFromLink(text(bytes));
          if (settings) validate(settings);
        },
        project: (bytes) => importProject(text(bytes), (parts) => globalThis.whetstone.engine.request('verify', parts)),
        zip: (bytes) => unzip(new Blob([bytes]), 'fuzz.zip'),
        header: async (bytes) => {
          const size = declaredSize(bytes);
          if (size !== null && !(Array.isArray(size) && size.every(Number.isInteger))) throw new TypeError('bad size');
        },
      };
      const seedBytes = await Promise.all(
        seeds.map(async (s) =>
          s === 'project' ? new TextEncoder().encode(await exportProject()) : Uint8Array.from(s),
        ),
      );
      const bugs = [];
      let [read, refused, slowest] = [0, 0, 0];
      for (let i = 0; i < count; i++) {
        const input = mutate(seedBytes[i % seedBytes.length]);
        const started = performance.now();
        try {
          await parsers[name](input);
          read++;
        } catch (err) {
          refused++;
          if (!(err instanceof Error) || err instanceof TypeError || err instanceof RangeError || !err.message)
            bugs.push(`${err?.name}: ${err?.message} for ${JSON.stringify(text(input).slice(0, 80))}`);
        }
        slowest = Math.max(slowest, performance.now() - started);
      }
      return { read, refused, slowest, bugs: bugs.slice(0, 5) };
    },
    { name, seeds, count },
  );
}

const encode = (value) => Array.from(Buffer.from(value));

test('settings links: every mutation opens or is refused with a message', async () => {
  const link = `#settings=${Buffer.from(JSON.stringify({ dataset: 'circle', epochs: 5, lr: '0.01', schedule: 'cosine' })).toString('base64url')}`;
  const r = await fuzz('link', [encode(link)], 3000);
  assert.deepEqual(r.bugs, []);
  assert.ok(r.refused > 0 && r.slowest < 500, JSON.stringify(r));
});

test('.zip archives and image headers: every mutation reads or is refused with a message', async () => {
  const archive = zip([
    { path: 'set/a/' },
    { path: 'set/a/1.png', data: png(4, 4, () => [1, 2, 3]) },
    { path: 'set/b/2.png', data: png(5, 3, () => [9, 9, 9]) },
  ]);
  const z = await fuzz('zip', [encode(archive)], 3000);
  assert.deepEqual(z.bugs, []);
  assert.ok(z.refused > 0 && z.slowest < 500, JSON.stringify(z));
  const gif = [71, 73, 70, 56, 57, 97, 37, 0, 23, 0, 0];
  const h = await fuzz('header', [encode(png(37, 23, () => [0, 0, 0])), gif], 3000);
  assert.deepEqual(h.bugs, []);
});

test('project files: every mutation imports whole or is refused with a message', async () => {
  const r = await fuzz('project', ['project'], 400);
  assert.deepEqual(r.bugs, []);
  assert.ok(r.refused > 0 && r.slowest < 2000, JSON.stringify(r));
});

noErrors(session);
