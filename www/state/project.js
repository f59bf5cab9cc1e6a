// Sharing: a whole project (settings, uploaded data, saved models, deployed versions, feedback, a
// saved search) as one JSON file that imports on another machine, and the settings of an
// experiment as a link. Binary parts (model files, pixels) are base64 inside the JSON.
import { allRecords, putRecords } from '../engine/store.js';

export const FORMAT = 'whetstone-project';
export const VERSION = 1;
/** The page's own localStorage entries travel with the project. */
const LOCAL_PREFIX = 'whetstone.';
const TYPED = { Uint8Array, Uint32Array, Float32Array };

function toBase64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** JSON with typed arrays and ArrayBuffers as {$binary, type}. */
function encode(value) {
  return JSON.stringify(value, (_key, v) => {
    if (v instanceof ArrayBuffer) return { $binary: toBase64(new Uint8Array(v)), type: 'ArrayBuffer' };
    for (const [name, Type] of Object.entries(TYPED)) {
      if (v instanceof Type)
        return { $binary: toBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)), type: name };
    }
    return v;
  });
}

function decode(text) {
  return JSON.parse(text, (_key, v) => {
    if (v && typeof v === 'object' && typeof v.$binary === 'string') {
      const bytes = fromBase64(v.$binary);
      if (v.type === 'ArrayBuffer') return bytes.buffer;
      const Type = TYPED[v.type];
      if (!Type) throw new Error(`a part has the unknown type ${v.type}`);
      return new Type(bytes.buffer);
    }
    return v;
  });
}

/** The project as the text of a file. */
export async function exportProject() {
  const local = {};
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (key.startsWith(LOCAL_PREFIX)) local[key] = localStorage.getItem(key);
  }
  return encode({
    format: FORMAT,
    version: VERSION,
    savedAt: new Date().toISOString(),
    local,
    records: await allRecords(),
  });
}

/** Reads a project file and stores its parts; a damaged file or one from a newer version is
 * refused with the reason before anything changes. */
export async function importProject(text) {
  let project;
  try {
    project = decode(text);
  } catch (err) {
    throw new Error(`this is not a readable Whetstone project file (${err.message})`);
  }
  if (project?.format !== FORMAT)
    throw new Error('this is not a Whetstone project file (it names no Whetstone project format)');
  if (!Number.isInteger(project.version) || project.version > VERSION) {
    throw new Error(
      `this project was saved by a newer Whetstone (project format ${project.version}); this page reads format ${VERSION} and older`,
    );
  }
  const local = project.local ?? {};
  if (
    typeof local !== 'object' ||
    Object.keys(local).some((k) => !k.startsWith(LOCAL_PREFIX) || typeof local[k] !== 'string')
  ) {
    throw new Error("the project's settings are damaged");
  }
  await putRecords(project.records ?? {});
  for (const [key, value] of Object.entries(local)) localStorage.setItem(key, value);
  return { models: project.records?.models?.length ?? 0, datasets: project.records?.datasets?.length ?? 0 };
}

/** A link to this page that opens with `settings`. */
export function settingsLink(settings) {
  const bytes = new TextEncoder().encode(JSON.stringify(settings));
  const url = new URL(location.href);
  url.hash = `settings=${toBase64(bytes).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}`;
  return url.href;
}

/** The settings a link carries (null when it carries none); a damaged one throws. */
export function settingsFromLink(hash) {
  if (!hash.startsWith('#settings=')) return null;
  const match = /^#settings=([A-Za-z0-9_-]+)$/.exec(hash);
  try {
    if (!match) throw new Error('it holds characters a settings link does not use');
    const text = new TextDecoder().decode(fromBase64(match[1].replaceAll('-', '+').replaceAll('_', '/')));
    const settings = JSON.parse(text);
    if (!settings || typeof settings !== 'object' || Array.isArray(settings)) throw new Error('not an object');
    return settings;
  } catch (err) {
    throw new Error(`the link's settings cannot be read (${err.message}); the settings stay as they were`);
  }
}

const IMPORTED_KEY = 'whetstone.imported';

/** What an import said, kept to be said again once the page has reloaded with the project. */
export function noteImport(message) {
  sessionStorage.setItem(IMPORTED_KEY, message);
}

/** What the import before this reload said (once), or null. */
export function importedNote() {
  const note = sessionStorage.getItem(IMPORTED_KEY);
  sessionStorage.removeItem(IMPORTED_KEY);
  return note;
}
