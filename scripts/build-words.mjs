// Builds assets/words.tsv, the built-in "which language is a word in" set, from the Hunspell
// dictionaries on npm (dictionary-en, -fr, -de, -es, -nl, -pt): 3,000 words of each language,
// 3 to 12 letters, lower-cased (a capital first letter allowed, as German nouns have; no other
// capitals, digits, apostrophes or hyphens), none in two languages' lists. Each line is
// "language<TAB>word"; the languages take turns so that any prefix is balanced. Decoded by
// src/data/text.rs.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'assets', 'words.tsv');
const LANGUAGES = ['english', 'french', 'german', 'spanish', 'dutch', 'portuguese'];
const CODES = { english: 'en', french: 'fr', german: 'de', spanish: 'es', dutch: 'nl', portuguese: 'pt' };
const PER_LANGUAGE = 3000;
const WORD = /^\p{Lu}?\p{Ll}+$/u;

/** A seeded generator (mulberry32), so that the set is the same on every machine. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = new Map();
for (const language of LANGUAGES) {
  const dic = readFileSync(join(root, 'node_modules', `dictionary-${CODES[language]}`, 'index.dic'), 'utf8');
  const stems = new Set();
  for (const line of dic.split('\n').slice(1)) {
    const stem = line.split('/')[0].trim().normalize('NFC');
    const word = stem.toLowerCase();
    if (WORD.test(stem) && [...word].length >= 3 && [...word].length <= 12) stems.add(word);
  }
  words.set(language, stems);
}
const seen = new Map();
for (const stems of words.values()) for (const w of stems) seen.set(w, (seen.get(w) ?? 0) + 1);

const chosen = LANGUAGES.map((language, i) => {
  const own = [...words.get(language)].filter((w) => seen.get(w) === 1).sort();
  if (own.length < PER_LANGUAGE) throw new Error(`${language}: only ${own.length} words fit`);
  const next = random(1000 + i);
  for (let j = own.length - 1; j > 0; j--) {
    const k = Math.floor(next() * (j + 1));
    [own[j], own[k]] = [own[k], own[j]];
  }
  return own.slice(0, PER_LANGUAGE);
});
const lines = [];
for (let j = 0; j < PER_LANGUAGE; j++) {
  for (const [i, language] of LANGUAGES.entries()) lines.push(`${language}\t${chosen[i][j]}`);
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${lines.join('\n')}\n`);
console.log(`wrote ${lines.length} words of ${LANGUAGES.length} languages to ${out}`);
