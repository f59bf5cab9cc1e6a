// Reading uploaded archives and image headers without trusting them: the entries of a .zip (a
// path that climbs out of the archive or is absolute is named and skipped), and the pixel size an
// image file declares, read from its header before anything is decoded.

export const baseName = (path) => path.split('/').pop();

/** Why a path inside an archive cannot be used as it is (absolute, or climbing out with '..'), or
 * null when it can. */
export function unsafePath(path) {
  if (/^([/\\]|[A-Za-z]:)/.test(path)) return 'its path is absolute';
  if (path.split(/[/\\]/).includes('..')) return "its path climbs out of the archive ('..')";
  return null;
}

/** The entries of a .zip file as {path, blob}, and its folders; stored and deflated entries only. */
export async function unzip(blob, name) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const view = new DataView(bytes.buffer);
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error(`“${name}” is not a readable .zip file (no central directory: truncated or not a zip)`);
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  if (at === 0xffffffff || count === 0xffff)
    throw new Error(`“${name}” is a ZIP64 archive, which is not supported: zip fewer or smaller files`);
  const decoder = new TextDecoder();
  const entries = [];
  const folders = [];
  for (let k = 0; k < count; k++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50)
      throw new Error(`“${name}” is damaged: entry ${k + 1} of its directory cannot be read`);
    const method = view.getUint16(at + 10, true);
    const size = view.getUint32(at + 20, true);
    const unpacked = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extra = view.getUint16(at + 30, true);
    const comment = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const path = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extra + comment;
    const unsafe = unsafePath(path);
    if (unsafe) {
      entries.push({ path, problem: `${unsafe}: it is skipped` });
      continue;
    }
    if (path.endsWith('/')) {
      folders.push(path.slice(0, -1));
      continue;
    }
    if (path.startsWith('__MACOSX/') || baseName(path).startsWith('.')) continue;
    if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) {
      entries.push({ path, problem: 'its data in the .zip is damaged' });
      continue;
    }
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const data = bytes.subarray(start, start + size);
    if (data.length < size) {
      entries.push({ path, problem: 'its data in the .zip is cut short' });
    } else if (method === 0) {
      entries.push({ path, blob: new Blob([data]) });
    } else if (method === 8) {
      entries.push({ path, blob: new Blob([data]), deflated: true, size: unpacked });
    } else {
      entries.push({
        path,
        problem: `it is compressed with method ${method}, which is not supported (only stored and deflate)`,
      });
    }
  }
  return { entries, folders };
}

/** The [width, height] an image file declares in its header (PNG, GIF, JPEG, WebP), from its first
 * bytes; null when the header is not one of those or is cut short. */
export function declaredSize(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const has = (end) => bytes.length >= end;
  const ascii = (at, text) => has(at + text.length) && [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));
  if (ascii(1, 'PNG') && ascii(12, 'IHDR') && has(24)) return [view.getUint32(16), view.getUint32(20)];
  if (ascii(0, 'GIF8') && has(10)) return [view.getUint16(6, true), view.getUint16(8, true)];
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) {
    if (ascii(12, 'VP8 ') && has(30)) return [view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff];
    if (ascii(12, 'VP8L') && has(25)) {
      const bits = view.getUint32(21, true);
      return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
    }
    if (ascii(12, 'VP8X') && has(30)) {
      const u24 = (at) => bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16);
      return [u24(24) + 1, u24(27) + 1];
    }
    return null;
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    // JPEG: walk the segments to the first start-of-frame (C0–CF but C4, C8 and CC).
    let at = 2;
    while (has(at + 9) && bytes[at] === 0xff) {
      // Fill bytes (0xFF) may pad the gap before a marker.
      if (bytes[at + 1] === 0xff) {
        at++;
        continue;
      }
      const marker = bytes[at + 1];
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker))
        return [view.getUint16(at + 7), view.getUint16(at + 5)];
      at += 2 + view.getUint16(at + 2);
    }
  }
  return null;
}
