// Sharing: a whole project (settings, uploaded data, saved models, deployed versions, feedback, a
// saved search) as one JSON file that imports on another machine, and the settings of an
// experiment as a link. Binary parts (model files, pixels) are base64 inside the JSON; each part
// has a CRC-32, and an import verifies every part before it stores any.
import { allRecords, deleteEverything, importRecords } from '../engine/store.js';
import { uploadKind } from './datasets.js';
import { validate } from './settings.js';

export const FORMAT = 'whetstone-project';
/** 2: a checksum for every part. Format 1 files (without) still open. */
export const VERSION = 2;
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

/** What the page keeps in localStorage, by key; each travels with a project. */
export const KEYS = {
  settings: 'whetstone.settings.v1',
  search: 'whetstone.search.v1',
  deployed: 'whetstone.deployed',
};

/** Deletes everything this page keeps in this browser: its stores and its localStorage entries. */
export async function resetPage() {
  await deleteEverything();
  for (const key of Object.values(KEYS)) localStorage.removeItem(key);
  sessionStorage.clear();
}

/** The largest project file this page opens. */
export const MAX_PROJECT_BYTES = 512 * 2 ** 20;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** The CRC-32 of a text's UTF-8 bytes, as 8 hex digits: each part's checksum in a project file. */
export function crc32(text) {
  let c = 0xffffffff;
  for (const b of new TextEncoder().encode(text)) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}

/** The project as the text of a file: the page's settings and stores, with a checksum per part. */
export async function exportProject() {
  const local = {};
  for (const key of Object.values(KEYS)) {
    const value = localStorage.getItem(key);
    if (value !== null) local[key] = value;
  }
  const records = await allRecords();
  const checksums = { local: crc32(encode(local)) };
  for (const [store, list] of Object.entries(records))
    for (const record of list) checksums[`${store}/${record.name}`] = crc32(encode(record));
  return encode({ format: FORMAT, version: VERSION, savedAt: new Date().toISOString(), local, records, checksums });
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isBytes = (v) => v instanceof ArrayBuffer && v.byteLength > 0;

/** What each store's records must hold (the deployed versions numbered 1, 2, … in order). */
const RECORD_CHECKS = {
  models: (r) => isBytes(r.bytes) && Number.isFinite(r.savedAt),
  datasets: (r) => uploadKind(r.name) !== undefined,
  versions: (r, i) => isBytes(r.bytes) && r.version === i + 1 && r.name === `v${i + 1}`,
  feedback: (r) => Number.isFinite(r.at) && Array.isArray(r.features) && r.features.every(Number.isFinite),
};

/** The localStorage entries of a project, checked: bad settings set aside (and named in `notes`),
 * anything else that does not read refused. */
function checkedLocal(local, notes) {
  if (!isObject(local) || Object.values(local).some((v) => typeof v !== 'string'))
    throw new Error("the project's settings are damaged");
  const out = {};
  for (const [key, value] of Object.entries(local)) {
    if (key === KEYS.settings) {
      let raw;
      try {
        raw = JSON.parse(value);
      } catch {
        throw new Error("the project's settings are damaged (they are not JSON)");
      }
      const { settings, problems } = validate(raw);
      if (problems.length) notes.push(`set aside from its settings: ${problems.join('; ')}`);
      out[key] = JSON.stringify(settings);
    } else if (key === KEYS.search) {
      const saved = (() => {
        try {
          return JSON.parse(value);
        } catch {
          return null;
        }
      })();
      if (typeof saved?.search !== 'string' || !isObject(saved?.session))
        throw new Error("the project's stopped search is damaged");
      out[key] = value;
    } else if (key === KEYS.deployed) {
      if (!/^\d+$/.test(value)) throw new Error("the project's deployed version is damaged");
      out[key] = value;
    } else {
      notes.push(`left out an entry this version does not know (${key})`);
    }
  }
  return out;
}

/**
 * Reads a project file, verifies every part in memory — its checksum, its shape, each model and
 * version opened and each upload decoded by `verify(parts)` — and only then stores it, in one
 * transaction: a damaged part changes nothing and is named. Returns what was imported and what
 * was set aside.
 */
export async function importProject(text, verify) {
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
  const records = project.records ?? {};
  if (!isObject(records)) throw new Error("the project's stores are damaged");
  const unknown = Object.keys(records).filter((k) => !Object.hasOwn(RECORD_CHECKS, k));
  if (unknown.length) throw new Error(`the project has parts this version does not know: ${unknown.join(', ')}`);
  // Format 2 on carries a checksum for every part.
  const sums = project.version >= 2 ? project.checksums : null;
  if (project.version >= 2 && !isObject(sums)) throw new Error('the project has lost its checksums');
  const matches = (part, value) => !sums || sums[part] === crc32(encode(value));
  if (!matches('local', project.local ?? {})) throw new Error("the project's settings are damaged (checksum)");
  for (const [store, list] of Object.entries(records)) {
    if (!Array.isArray(list)) throw new Error(`the project's ${store} are damaged`);
    for (const [i, r] of list.entries()) {
      const what = `the ${store} part “${String(r?.name).slice(0, 60)}”`;
      if (typeof r?.name !== 'string' || !RECORD_CHECKS[store](r, i))
        throw new Error(`${what} is damaged or out of order`);
      if (!matches(`${store}/${r.name}`, r)) throw new Error(`${what} is damaged: its checksum does not match`);
    }
  }
  const notes = [];
  const local = checkedLocal(project.local ?? {}, notes);
  await verify({
    models: [
      ...(records.models ?? []).map((r) => ({ what: `the saved model “${r.name}”`, bytes: r.bytes })),
      ...(records.versions ?? []).map((r) => ({ what: `the deployed version ${r.name}`, bytes: r.bytes })),
    ],
    datasets: records.datasets ?? [],
  });
  await importRecords(records);
  for (const [key, value] of Object.entries(local)) localStorage.setItem(key, value);
  return { models: records.models?.length ?? 0, datasets: records.datasets?.length ?? 0, notes };
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

/** What an import or a reset said, kept to be said again once the page has reloaded. */
export function sayAfterReload(message) {
  sessionStorage.setItem(IMPORTED_KEY, message);
}

/** What was said before this reload (once), or null. */
export function saidBeforeReload() {
  const note = sessionStorage.getItem(IMPORTED_KEY);
  sessionStorage.removeItem(IMPORTED_KEY);
  return note;
}
