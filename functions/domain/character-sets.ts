/**
 * Sets of the characters that parts of a pattern can match, as used by
 * the ReDoS checks. A set is a bit set over sample code points, so a
 * class such as `[^x]` takes 8 KB however many characters it matches,
 * and a pattern of a few thousand classes stays within tens of MB.
 *
 * NOTE: characters are compared on the Basic Multilingual Plane, a few
 * samples above it and the supplementary characters that the pattern
 * writes, so two classes that share only other supplementary characters
 * count as disjoint, as `\p{Script=Deseret}` and `\p{Lu}` do.
 */

/**
 * Code points that overlap is decided on: the Basic Multilingual Plane
 * without surrogates, and samples of letters, symbols and emoji above it.
 */
const SAMPLE_CODE_POINTS: readonly number[] = (() => {
  const codePoints: number[] = [];
  for (let codePoint = 0; codePoint <= 0xffff; codePoint += 1) {
    if (codePoint < 0xd800 || codePoint > 0xdfff) codePoints.push(codePoint);
  }
  codePoints.push(0x10000, 0x1d400, 0x1f600, 0x20000, 0xe0001, 0x10fffd);
  return codePoints;
})();

const SAMPLE_TEXT = SAMPLE_CODE_POINTS.map((codePoint) =>
  String.fromCodePoint(codePoint),
).join('');

/**
 * Bits after the samples for supplementary code points that the pattern
 * itself writes, such as the `\u{1F300}` of `(?:.|\u{1F300})+`. Code
 * points beyond the last bit share it, which errs on the side of overlap.
 */
const WRITTEN_BITS = 2048;

const WORD_COUNT = Math.ceil((SAMPLE_CODE_POINTS.length + WRITTEN_BITS) / 32);

/**
 * Lone low surrogate that marks a matched character in SAMPLE_TEXT. It
 * never pairs with the character before it, because SAMPLE_TEXT has no
 * lone high surrogate.
 */
const MATCH_MARK = '\udfff';

/**
 * Set of sample code points, one bit per index in SAMPLE_CODE_POINTS,
 * then WRITTEN_BITS bits for the supplementary code points that the
 * pattern writes, in their order. Words outside `firstWord` to `lastWord` are zero, so operations on small
 * sets skip them.
 */
export interface CharacterSet {
  readonly words: Uint32Array;
  readonly firstWord: number;
  readonly lastWord: number;
}

function setOf(words: Uint32Array): CharacterSet {
  let firstWord = 0;
  while (firstWord < WORD_COUNT && words[firstWord] === 0) firstWord += 1;
  let lastWord = WORD_COUNT - 1;
  while (lastWord > firstWord && words[lastWord] === 0) lastWord -= 1;
  return { words, firstWord, lastWord };
}

export const NO_CHARACTERS: CharacterSet = setOf(new Uint32Array(WORD_COUNT));

const ALL_CHARACTERS: CharacterSet = (() => {
  const words = new Uint32Array(WORD_COUNT);
  const bitCount = SAMPLE_CODE_POINTS.length + WRITTEN_BITS;
  for (let index = 0; index < bitCount; index += 1) {
    words[index >>> 5] = (words[index >>> 5] ?? 0) | (1 << (index & 31));
  }
  return setOf(words);
})();

/**
 * Maximum number of sets kept by source for patterns that write no
 * supplementary character. Each set takes about 8 KB.
 */
const MAX_CACHED_SETS = 4096;

const charactersBySource = new Map<string, CharacterSet>();

/**
 * Sets by source for patterns that write supplementary characters, keyed
 * by the list that parsePattern shares among the atoms of one pattern.
 */
const charactersByWritten = new WeakMap<
  readonly number[],
  Map<string, CharacterSet>
>();

/**
 * Returns the sample code points that one character or class matches,
 * and which of `written`, supplementary code points that the pattern
 * writes, it matches.
 */
export function charactersOfSource(
  source: string,
  written: readonly number[] = [],
): CharacterSet {
  const cache = cacheFor(written);
  const known = cache.get(source);
  if (known !== undefined) return known;
  let characters: CharacterSet;
  try {
    characters = sampleMatches(new RegExp(source, 'giu'), written);
  } catch {
    // An atom that is not valid alone, such as a backreference, is
    // assumed to match every character, so the check stays on the safe
    // side.
    characters = ALL_CHARACTERS;
  }
  if (cache.size >= MAX_CACHED_SETS) cache.clear();
  cache.set(source, characters);
  return characters;
}

function cacheFor(written: readonly number[]): Map<string, CharacterSet> {
  if (written.length === 0) return charactersBySource;
  let cache = charactersByWritten.get(written);
  if (cache === undefined) {
    cache = new Map();
    charactersByWritten.set(written, cache);
  }
  return cache;
}

/**
 * Returns the sample code points that an expression of one character
 * matches. Replacing each match with a mark and walking the result is
 * several times faster than matchAll when most characters match.
 */
function sampleMatches(
  expression: RegExp,
  written: readonly number[],
): CharacterSet {
  const marked = SAMPLE_TEXT.replace(expression, MATCH_MARK);
  const words = new Uint32Array(WORD_COUNT);
  markMatches(words, marked, 0, SAMPLE_CODE_POINTS.length);
  if (written.length > 0) {
    const writtenText = String.fromCodePoint(...written);
    const writtenMarked = writtenText.replace(expression, MATCH_MARK);
    markMatches(words, writtenMarked, SAMPLE_CODE_POINTS.length, WRITTEN_BITS);
  }
  return setOf(words);
}

/**
 * Sets a bit, from `firstBit` on, for each MATCH_MARK in `marked`, one
 * bit per code point. Code points beyond `bitCount` share the last bit.
 */
function markMatches(
  words: Uint32Array,
  marked: string,
  firstBit: number,
  bitCount: number,
): void {
  let index = 0;
  for (let offset = 0; offset < marked.length; index += 1) {
    const unit = marked.charCodeAt(offset);
    if (unit === 0xdfff) {
      const bit = firstBit + Math.min(index, bitCount - 1);
      words[bit >>> 5] = (words[bit >>> 5] ?? 0) | (1 << (bit & 31));
      offset += 1;
    } else {
      offset += unit >= 0xd800 && unit <= 0xdbff ? 2 : 1;
    }
  }
}

export function isDisjoint(first: CharacterSet, second: CharacterSet): boolean {
  const from = Math.max(first.firstWord, second.firstWord);
  const to = Math.min(first.lastWord, second.lastWord);
  for (let word = from; word <= to; word += 1) {
    if (((first.words[word] ?? 0) & (second.words[word] ?? 0)) !== 0) {
      return false;
    }
  }
  return true;
}

export function intersectionOf(
  first: CharacterSet,
  second: CharacterSet,
): CharacterSet {
  const words = new Uint32Array(WORD_COUNT);
  const from = Math.max(first.firstWord, second.firstWord);
  const to = Math.min(first.lastWord, second.lastWord);
  for (let word = from; word <= to; word += 1) {
    words[word] = (first.words[word] ?? 0) & (second.words[word] ?? 0);
  }
  return setOf(words);
}

export function unionOf(sets: readonly CharacterSet[]): CharacterSet {
  if (sets.length === 1 && sets[0] !== undefined) return sets[0];
  const words = new Uint32Array(WORD_COUNT);
  for (const set of sets) {
    for (let word = set.firstWord; word <= set.lastWord; word += 1) {
      words[word] = (words[word] ?? 0) | (set.words[word] ?? 0);
    }
  }
  return setOf(words);
}
