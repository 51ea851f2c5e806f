/**
 * A static check for regular expressions that can backtrack
 * catastrophically (ReDoS). Model patterns run on every event against
 * text that a tracking client sends, so one pattern such as `(\w+\s?)+$`
 * could stall scoring for seconds on a crafted title.
 *
 * The check finds a repeated group that contains a part of variable
 * length, the nested repeat behind most catastrophic patterns. Such a
 * group is accepted when each of its alternatives starts or ends with a
 * literal character or a class that none of its variable parts can
 * match, as in `(?:\.\w+)*` or `(?:[a-z]+\s)*`. That character bounds
 * each repetition, so the text splits into repetitions in one way only.
 *
 * Unbounded parts in a row, such as `.*.*.*x$`, are found in
 * regex-runs.ts, overlapping alternatives under a repeat, such as
 * `(a|ab|b)*`, in regex-alternatives.ts, and large counts in
 * regex-counts.ts. They share the parser below.
 */

import { charactersOfSource, isDisjoint } from './character-sets.js';

interface Quantifier {
  min: number;
  max: number;
}

export interface Atom {
  kind: 'group' | 'class' | 'char' | 'assertion';
  /** Source of the atom without its quantifier. */
  source: string;
  /** Alternatives of a group, each a sequence of atoms. */
  alternatives: Atom[][];
  quantifier: Quantifier | undefined;
  /** Index of the atom in the pattern. */
  start: number;
  /** Index after the atom and its quantifier. */
  end: number;
  /**
   * Supplementary code points written in the pattern, as characters,
   * escapes or range ends, that the character sets sample in addition.
   */
  writtenSupplementary?: readonly number[];
}

interface Cursor {
  pattern: string;
  index: number;
}

/**
 * Returns the source of the first group of `pattern` that nests a
 * variable-length part inside a repeat without a bounding character, or
 * undefined when there is none. The pattern must be valid with the `u`
 * flag.
 */
export function findNestedRepeat(pattern: string): string | undefined {
  return findInAlternatives(parsePattern(pattern));
}

/**
 * Returns the first backreference of `pattern`, such as `\1` or
 * `\k<name>`, or undefined when there is none. A backreference matches
 * text as long as its group did, which the other checks cannot bound:
 * `^(\w*)(\w*)\1\2!` took 250 ms on 2,000 letters (Node.js 20.20, a
 * loaded 2-core machine). The pattern must be valid with the `u` flag.
 */
export function findBackreference(pattern: string): string | undefined {
  return findBackreferenceIn(parsePattern(pattern));
}

function findBackreferenceIn(alternatives: Atom[][]): string | undefined {
  for (const sequence of alternatives) {
    for (const atom of sequence) {
      if (/^\\(?:[1-9]|k<)/.test(atom.source)) return atom.source;
      const inner = findBackreferenceIn(atom.alternatives);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/** Parses a pattern, valid with the `u` flag, into its alternatives. */
export function parsePattern(pattern: string): Atom[][] {
  const cursor: Cursor = { pattern, index: 0 };
  const alternatives = parseAlternatives(cursor);
  const written = supplementaryCodePointsOf(pattern);
  if (written.length > 0) markSupplementary(alternatives, written);
  return alternatives;
}

/**
 * Returns the supplementary code points that a pattern writes as a
 * character or an escape, with their upper and lower case forms.
 */
function supplementaryCodePointsOf(pattern: string): number[] {
  const codePoints = new Set<number>();
  for (const character of pattern) {
    codePoints.add(character.codePointAt(0) ?? 0);
  }
  for (const match of pattern.matchAll(/\\u\{([0-9a-f]+)\}/gi)) {
    codePoints.add(Number.parseInt(match[1] ?? '0', 16));
  }
  for (const match of pattern.matchAll(
    /\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})/gi,
  )) {
    const high = Number.parseInt(match[1] ?? '0', 16);
    const low = Number.parseInt(match[2] ?? '0', 16);
    codePoints.add((high - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000);
  }
  const supplementary = new Set<number>();
  for (const codePoint of codePoints) {
    if (codePoint <= 0xffff || codePoint > 0x10ffff) continue;
    const text = String.fromCodePoint(codePoint);
    for (const form of [text, text.toLowerCase(), text.toUpperCase()]) {
      supplementary.add(form.codePointAt(0) ?? codePoint);
    }
  }
  return [...supplementary];
}

function markSupplementary(alternatives: Atom[][], written: number[]): void {
  for (const sequence of alternatives) {
    for (const atom of sequence) {
      atom.writtenSupplementary = written;
      markSupplementary(atom.alternatives, written);
    }
  }
}

/** Tells whether an atom is a lookahead or lookbehind group. */
export function isLookaround(atom: Atom): boolean {
  return /^\(\?<?[=!]/.test(atom.source);
}

function findInAlternatives(alternatives: Atom[][]): string | undefined {
  for (const sequence of alternatives) {
    for (const atom of sequence) {
      if (atom.kind !== 'group') continue;
      const inner = findInAlternatives(atom.alternatives);
      if (inner !== undefined) return inner;
      if (
        repeatsMoreThanOnce(atom.quantifier) &&
        !isBounded(atom.alternatives)
      ) {
        return `${atom.source}${quantifierText(atom.quantifier)}`;
      }
    }
  }
  return undefined;
}

/** Tells whether a quantifier allows a variable number of times. */
function isVariable(quantifier: Quantifier | undefined): boolean {
  return quantifier !== undefined && quantifier.max > quantifier.min;
}

/**
 * Tells whether a quantifier can repeat its atom twice or more. A fixed
 * count counts too, because variable parts can split a text among the
 * repetitions in polynomially many ways: `(\w+\s?){5}$` backtracked for
 * over 30 s on 100 letters and a `!` (Node.js 20, 2-core machine).
 */
function repeatsMoreThanOnce(quantifier: Quantifier | undefined): boolean {
  return quantifier !== undefined && quantifier.max > 1;
}

/**
 * Tells whether every alternative of a repeated group has no variable
 * part, or starts or ends with a literal or a class that no variable
 * part matches.
 */
function isBounded(alternatives: Atom[][]): boolean {
  // An empty alternative next to a non-empty one, as in `(?:a|){16}`,
  // lets each repetition take one or no character, as `(?:a?){16}` does.
  const empty = alternatives.map((sequence) => sequence.every(isEmptyAtom));
  if (empty.includes(true) && empty.includes(false)) return false;
  return alternatives.every((sequence) => {
    const variable = variableParts(sequence);
    if (variable.length === 0) return true;
    const edges = [sequence[0], sequence.at(-1)].filter(
      (atom): atom is Atom =>
        atom !== undefined &&
        (atom.kind === 'char' || atom.kind === 'class') &&
        !isQuantified(atom),
    );
    return edges.some((edge) =>
      variable.every((part) => excludesEdge(part, edge)),
    );
  });
}

/**
 * Tells whether a variable part can match no character of an edge. A
 * literal edge must not match the part. A class edge, such as the `\s`
 * of `(?:[a-z]+\s)*`, must share no character with a part that is one
 * character or class. A group is compared with literal edges only.
 */
function excludesEdge(part: Atom, edge: Atom): boolean {
  if (edge.kind === 'char') return !canMatch(part, edge.source);
  if (part.kind !== 'char' && part.kind !== 'class') return false;
  return isDisjoint(
    charactersOfSource(part.source, part.writtenSupplementary),
    charactersOfSource(edge.source, edge.writtenSupplementary),
  );
}

/** Tells whether an atom can match the empty text only, as `\b` can. */
function isEmptyAtom(atom: Atom): boolean {
  if (atom.kind === 'assertion' || isLookaround(atom)) return true;
  if (atom.quantifier?.max === 0) return true;
  return (
    atom.kind === 'group' &&
    atom.alternatives.every((sequence) => sequence.every(isEmptyAtom))
  );
}

function isQuantified(atom: Atom): boolean {
  const { quantifier } = atom;
  return (
    quantifier !== undefined && (quantifier.min !== 1 || quantifier.max !== 1)
  );
}

/** Returns the atoms of variable length in a sequence, at any depth. */
function variableParts(sequence: readonly Atom[]): Atom[] {
  const parts: Atom[] = [];
  for (const atom of sequence) {
    if (isVariable(atom.quantifier)) parts.push(atom);
    for (const inner of atom.alternatives) parts.push(...variableParts(inner));
  }
  return parts;
}

/** Characters of the escapes that stand for a control character. */
const CONTROL_ESCAPES: Readonly<Record<string, string>> = {
  t: '\t',
  n: '\n',
  r: '\r',
  f: '\f',
  v: '\v',
};

/** Tells whether an atom can match the text of a literal character. */
function canMatch(atom: Atom, literal: string): boolean {
  try {
    return new RegExp(`^(?:${atom.source})$`, 'iu').test(
      literalCharacter(literal),
    );
  } catch {
    // An atom that is not valid alone, such as a backreference, is
    // assumed to match, so the check stays on the safe side.
    return true;
  }
}

/** Returns the character that a literal or a character escape stands for. */
function literalCharacter(literal: string): string {
  if (!literal.startsWith('\\')) return literal;
  const escaped = literal.slice(1);
  const hex = /^(?:x([0-9a-f]{2})|u([0-9a-f]{4})|u\{([0-9a-f]+)\})$/i.exec(
    escaped,
  );
  const code = hex?.[1] ?? hex?.[2] ?? hex?.[3];
  if (code !== undefined)
    return String.fromCodePoint(Number.parseInt(code, 16));
  if (/^u[0-9a-f]{4}\\u[0-9a-f]{4}$/i.test(escaped)) {
    const high = Number.parseInt(escaped.slice(1, 5), 16);
    const low = Number.parseInt(escaped.slice(7, 11), 16);
    return String.fromCharCode(high, low);
  }
  if (/^c[a-z]$/i.test(escaped)) {
    return String.fromCharCode((escaped.charCodeAt(1) ?? 0) % 32);
  }
  if (escaped === '0') return '\0';
  return CONTROL_ESCAPES[escaped] ?? escaped;
}

function parseAlternatives(cursor: Cursor): Atom[][] {
  const alternatives: Atom[][] = [[]];
  const { pattern } = cursor;
  while (cursor.index < pattern.length && pattern[cursor.index] !== ')') {
    if (pattern[cursor.index] === '|') {
      alternatives.push([]);
      cursor.index += 1;
      continue;
    }
    const start = cursor.index;
    const atom = parseAtom(cursor);
    atom.quantifier = parseQuantifier(cursor);
    atom.start = start;
    atom.end = cursor.index;
    alternatives.at(-1)?.push(atom);
  }
  return alternatives;
}

function parseAtom(cursor: Cursor): Atom {
  const { pattern } = cursor;
  const start = cursor.index;
  const char = pattern[start];
  if (char === '(') {
    cursor.index += 1;
    skipGroupPrefix(cursor);
    const alternatives = parseAlternatives(cursor);
    cursor.index += 1;
    return atomOf('group', pattern.slice(start, cursor.index), alternatives);
  }
  if (char === '[') {
    skipClass(cursor);
    return atomOf('class', pattern.slice(start, cursor.index));
  }
  if (char === '\\') {
    skipEscape(cursor);
    const source = pattern.slice(start, cursor.index);
    return atomOf(escapeKind(source), source);
  }
  if (char === '^' || char === '$') {
    cursor.index += 1;
    return atomOf('assertion', char);
  }
  const codePoint = pattern.codePointAt(start) ?? 0;
  cursor.index += codePoint > 0xffff ? 2 : 1;
  const source = pattern.slice(start, cursor.index);
  return atomOf(char === '.' ? 'class' : 'char', source);
}

function atomOf(
  kind: Atom['kind'],
  source: string,
  alternatives: Atom[][] = [],
): Atom {
  return {
    kind,
    source,
    alternatives,
    quantifier: undefined,
    start: 0,
    end: 0,
  };
}

/** Skips `?:`, `?=`, `?!`, `?<=`, `?<!` or `?<name>` after a `(`. */
function skipGroupPrefix(cursor: Cursor): void {
  const { pattern } = cursor;
  if (pattern[cursor.index] !== '?') return;
  const next = pattern[cursor.index + 1];
  const afterNext = pattern[cursor.index + 2];
  if (next === '<' && afterNext !== '=' && afterNext !== '!') {
    cursor.index = indexAfter(pattern, '>', cursor.index);
  } else {
    cursor.index += next === '<' ? 3 : 2;
  }
}

/** Returns the index after the next `char`, or the end of the pattern. */
function indexAfter(pattern: string, char: string, from: number): number {
  const index = pattern.indexOf(char, from);
  return index === -1 ? pattern.length : index + 1;
}

function skipClass(cursor: Cursor): void {
  const { pattern } = cursor;
  cursor.index += 1;
  while (cursor.index < pattern.length && pattern[cursor.index] !== ']') {
    cursor.index += pattern[cursor.index] === '\\' ? 2 : 1;
  }
  cursor.index += 1;
}

/**
 * Skips an escape, including `\p{…}`, `\u{…}`, `\k<…>`, `\xHH`, `\uHHHH`
 * (two of them when they form a surrogate pair) and `\cX`, so a quantifier
 * after it applies to the whole escape.
 */
function skipEscape(cursor: Cursor): void {
  const { pattern } = cursor;
  const letter = pattern[cursor.index + 1] ?? '';
  const opening = pattern[cursor.index + 2];
  const rest = pattern.slice(cursor.index);
  if ('pPu'.includes(letter) && opening === '{') {
    cursor.index = indexAfter(pattern, '}', cursor.index);
  } else if (letter === 'k' && opening === '<') {
    cursor.index = indexAfter(pattern, '>', cursor.index);
  } else if (/^\\x[0-9a-fA-F]{2}/.test(rest)) {
    cursor.index += 4;
  } else if (
    /^\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}/.test(rest)
  ) {
    cursor.index += 12;
  } else if (/^\\u[0-9a-fA-F]{4}/.test(rest)) {
    cursor.index += 6;
  } else if (/^\\c[a-zA-Z]/.test(rest)) {
    cursor.index += 3;
  } else {
    const codePoint = pattern.codePointAt(cursor.index + 1) ?? 0;
    cursor.index += codePoint > 0xffff ? 3 : 2;
  }
}

/**
 * Returns the kind of an escape: `\b` and `\B` assert, letters that name
 * a set (`\w`, `\d`, `\p{…}` …) or a backreference are classes, and the
 * rest, such as `\.`, `\n`, `\x61` or `\u{61}`, stand for one character.
 */
function escapeKind(source: string): Atom['kind'] {
  const letter = source[1] ?? '';
  if (letter === 'b' || letter === 'B') return 'assertion';
  if ('dDwWsSpPk'.includes(letter) || /[1-9]/.test(letter)) return 'class';
  if (/[a-zA-Z]/.test(letter) && !'tnrfvxuc'.includes(letter)) return 'class';
  return 'char';
}

function parseQuantifier(cursor: Cursor): Quantifier | undefined {
  const { pattern } = cursor;
  const char = pattern[cursor.index];
  let quantifier: Quantifier | undefined;
  if (char === '*') quantifier = { min: 0, max: Number.POSITIVE_INFINITY };
  if (char === '+') quantifier = { min: 1, max: Number.POSITIVE_INFINITY };
  if (char === '?') quantifier = { min: 0, max: 1 };
  if (quantifier !== undefined) {
    cursor.index += 1;
  } else if (char === '{') {
    const braces = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(cursor.index));
    if (braces === null) return undefined;
    const min = Number(braces[1]);
    const max =
      braces[2] === undefined
        ? min
        : braces[3] === ''
          ? Number.POSITIVE_INFINITY
          : Number(braces[3]);
    quantifier = { min, max };
    cursor.index += braces[0].length;
  } else {
    return undefined;
  }
  if (pattern[cursor.index] === '?') cursor.index += 1;
  return quantifier;
}

function quantifierText(quantifier: Quantifier | undefined): string {
  if (quantifier === undefined) return '';
  const { min, max } = quantifier;
  if (max === Number.POSITIVE_INFINITY) {
    if (min === 0) return '*';
    if (min === 1) return '+';
    return `{${min},}`;
  }
  if (min === 0 && max === 1) return '?';
  return min === max ? `{${min}}` : `{${min},${max}}`;
}
