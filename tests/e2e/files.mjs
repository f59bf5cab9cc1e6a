// Files the end-to-end tests upload or read, made here: PNG images, .zip archives (stored entries),
// a folder of images, a CSV table; and the tensors of a .safetensors file.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An 8-bit RGB PNG of `width` × `height` whose pixel (x, y) is `rgb(x, y)` ([r, g, b], 0–255). */
export function png(width, height, rgb) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (1 + 3 * width));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows.set(rgb(x, y), y * (1 + 3 * width) + 1 + 3 * x);
  }
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A .zip of `entries` ({path, data}; a path ending in '/' is a folder), every entry stored. */
export function zip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { path, data = Buffer.alloc(0) } of entries) {
    const name = Buffer.from(path, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A seeded uniform random number generator on [0, 1) (Park and Miller's minimal standard). */
export function seeded(seed) {
  let state = seed;
  return () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
}

/** The raw bytes of each tensor in a .safetensors file. */
export function tensors(bytes) {
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString());
  return Object.fromEntries(
    Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .map(([k, v]) => [k, bytes.subarray(8 + length + v.data_offsets[0], 8 + length + v.data_offsets[1])]),
  );
}

/** The table of `plantsCsv(400)` as a CSV file picked in the page. */
export const plantsFile = () => ({ name: 'plants.csv', mimeType: 'text/csv', buffer: Buffer.from(plantsCsv(400)) });

/** Rows of a table where `small` (0–1) decides the class, `huge` (0–1000) and `colour` are noise;
 * every tenth `small` is missing, row 7's `huge` is a million, `notes` is empty throughout and
 * `site` is A on every row but one. */
export function plantsCsv(rows) {
  const random = seeded(11);
  const lines = ['small,huge,colour,notes,site,kind'];
  for (let i = 0; i < rows; i++) {
    const [small, huge, colour] = [random(), random() * 1000, ['red', 'green', 'blue'][Math.floor(random() * 3)]];
    lines.push(
      `${i % 10 === 3 ? 'NA' : small.toFixed(4)},${i === 7 ? 1e6 : huge.toFixed(2)},${colour},,${i === 5 ? 'B' : 'A'},${small > 0.5 ? 'tall' : 'short'}`,
    );
  }
  return lines.join('\n');
}

/** A folder `shapes/` of 24 × 24 PNGs, white circles and squares at random places and sizes on black,
 * plus a copy of one square, a truncated PNG and a text file. */
export function shapesFolder(perClass) {
  const dir = mkdtempSync(join(tmpdir(), 'whetstone-images-'));
  const random = seeded(5);
  const image = (kind) => {
    const r = 5 + random() * 4;
    const [cx, cy] = [r + random() * (24 - 2 * r), r + random() * (24 - 2 * r)];
    const inside =
      kind === 'circle'
        ? (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r
        : (x, y) => Math.abs(x - cx) <= r && Math.abs(y - cy) <= r;
    return png(24, 24, (x, y) => (inside(x + 0.5, y + 0.5) ? [255, 255, 255] : [0, 0, 0]));
  };
  for (const kind of ['circle', 'square']) {
    mkdirSync(join(dir, 'shapes', kind), { recursive: true });
    for (let i = 0; i < perClass; i++)
      writeFileSync(join(dir, 'shapes', kind, `${String(i).padStart(2, '0')}.png`), image(kind));
  }
  writeFileSync(join(dir, 'shapes', 'square', 'copy.png'), readFileSync(join(dir, 'shapes', 'square', '00.png')));
  writeFileSync(join(dir, 'shapes', 'circle', 'broken.png'), image('circle').subarray(0, 60));
  writeFileSync(join(dir, 'shapes', 'readme.txt'), 'circles and squares');
  return join(dir, 'shapes');
}

/** Puts a 65 MB `big.csv` (one over the upload limit) on the page's file input `id`, made in the
 * page: the file is never sent over the test's connection to the browser. */
export function putOversizedCsv(page, id) {
  return page.evaluate((id) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(65 * 2 ** 20)], 'big.csv', { type: 'text/csv' }));
    const input = document.getElementById(id);
    input.files = dt.files;
    input.dispatchEvent(new Event('change'));
  }, id);
}
