/**
 * Finds runs of unbounded parts (`*`, `+`, `{n,}`) in a row that can
 * match a common character, such as `.*.*.*x$`. A failing match tries
 * every split of the text among those parts, so k of them take time in
 * the order of n^k: `^.*.*.*.*.*.*.*.*x$` ran for over 7 minutes on 200
 * characters (Node.js 20, a loaded 2-core machine). Two in a row take n^2
 * steps in an anchored pattern, which traits of at most 1,000 characters
 * keep short, so a run counts from three parts that share a character.
 *
 * A required part, one that cannot match the empty text, ends a run when
 * none of the run's parts can match any of its characters, as the `@` in
 * `[^@]+@[^@]+@[^@]+`. Assertions and optional parts do not end a run.
 *
 * NOTE: characters are compared on the Basic Multilingual Plane and a few
 * samples above it, so two classes that share only other supplementary
 * characters count as disjoint.
 *
 * NOTE: bounded parts such as `.{0,1000}` do not count, although three of
 * them backtrack as long, and two parts without `^` take n^3 steps,
 * because the engine retries the match from each position.
 */

import { type Atom, isLookaround, parsePattern } from './regex-safety.js';

/** Maximum number of unbounded parts in a row that may share a character. */
export const MAX_OVERLAPPING_UNBOUNDED_PARTS = 2;

/**
 * Returns the part of `pattern` from the first to the last of three
 * unbounded parts in a row that can match a common character, or
 * undefined when there is none. The pattern must be valid with the `u`
 * flag.
 */
export function findOverlappingRun(pattern: string): string | undefined {
  const run = findInAlternatives(parsePattern(pattern));
  return run === undefined ? undefined : pattern.slice(run.start, run.end);
}

interface Span {
  start: number;
  end: number;
}

function findInAlternatives(alternatives: Atom[][]): Span | undefined {
  for (const sequence of alternatives) {
    const run = findInSequence(inlineGroups(sequence));
    if (run !== undefined) return run;
    for (const atom of sequence) {
      const inner = findInAlternatives(atom.alternatives);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/**
 * Replaces each group that matches once and has one alternative, such as
 * `(?:.*)`, by its atoms, so a run inside it joins the parts around it.
 */
function inlineGroups(sequence: readonly Atom[]): Atom[] {
  return sequence.flatMap((atom) => {
    const [only, ...others] = atom.alternatives;
    const once =
      atom.quantifier === undefined ||
      (atom.quantifier.min === 1 && atom.quantifier.max === 1);
    if (atom.kind === 'group' && !isLookaround(atom) && once && only) {
      if (others.length > 0) return [atom];
      // The inner atoms take the group's span, so a reported part keeps
      // its parentheses balanced.
      return inlineGroups(only).map((inner) => ({
        ...inner,
        start: atom.start,
        end: atom.end,
      }));
    }
    return [atom];
  });
}

function findInSequence(sequence: readonly Atom[]): Span | undefined {
  let run: Atom[] = [];
  let counts = new Map<number, number>();
  for (const atom of sequence) {
    if (atom.kind === 'assertion' || isLookaround(atom)) continue;
    const characters = charactersOf(atom);
    if (!canBeEmpty(atom)) {
      const separates = run.every((part) =>
        isDisjoint(charactersOf(part), characters),
      );
      if (separates) {
        run = [];
        counts = new Map();
      }
    }
    if (!hasUnboundedPart(atom)) continue;
    run.push(atom);
    for (const character of characters) {
      const count = (counts.get(character) ?? 0) + 1;
      counts.set(character, count);
      if (count > MAX_OVERLAPPING_UNBOUNDED_PARTS) {
        const first = run.find((part) => charactersOf(part).has(character));
        return { start: first?.start ?? atom.start, end: atom.end };
      }
    }
  }
  return undefined;
}

function hasUnboundedPart(atom: Atom): boolean {
  return (
    atom.quantifier?.max === Number.POSITIVE_INFINITY ||
    atom.alternatives.some((sequence) => sequence.some(hasUnboundedPart))
  );
}

/** Tells whether an atom can match the empty text. */
function canBeEmpty(atom: Atom): boolean {
  if (atom.quantifier?.min === 0) return true;
  if (atom.kind === 'assertion' || isLookaround(atom)) return true;
  if (atom.kind !== 'group') return false;
  return atom.alternatives.some((sequence) => sequence.every(canBeEmpty));
}

function isDisjoint(
  first: ReadonlySet<number>,
  second: ReadonlySet<number>,
): boolean {
  const [smaller, larger] =
    first.size <= second.size ? [first, second] : [second, first];
  for (const character of smaller) {
    if (larger.has(character)) return false;
  }
  return true;
}

/** Returns the code points that an atom can consume, at any depth. */
function charactersOf(atom: Atom): ReadonlySet<number> {
  if (atom.kind === 'char' || atom.kind === 'class') {
    return charactersOfSource(atom.source);
  }
  if (atom.kind !== 'group' || isLookaround(atom)) return new Set();
  const characters = new Set<number>();
  for (const sequence of atom.alternatives) {
    for (const part of sequence) {
      for (const character of charactersOf(part)) characters.add(character);
    }
  }
  return characters;
}

/**
 * Text of the code points that overlap is decided on: the Basic
 * Multilingual Plane without surrogates, and samples of letters, symbols
 * and emoji above it.
 */
const SAMPLE_TEXT = (() => {
  const codePoints: number[] = [];
  for (let codePoint = 0; codePoint <= 0xffff; codePoint += 1) {
    if (codePoint < 0xd800 || codePoint > 0xdfff) codePoints.push(codePoint);
  }
  codePoints.push(0x10000, 0x1d400, 0x1f600, 0x20000, 0xe0001, 0x10fffd);
  return codePoints
    .map((codePoint) => String.fromCodePoint(codePoint))
    .join('');
})();

const ALL_CHARACTERS: ReadonlySet<number> = new Set(
  Array.from(SAMPLE_TEXT, (text) => text.codePointAt(0) ?? 0),
);

const charactersBySource = new Map<string, ReadonlySet<number>>();

/** Returns the sample code points that one character or class matches. */
function charactersOfSource(source: string): ReadonlySet<number> {
  const known = charactersBySource.get(source);
  if (known !== undefined) return known;
  let characters: ReadonlySet<number>;
  try {
    const expression = new RegExp(source, 'giu');
    characters = new Set(
      Array.from(
        SAMPLE_TEXT.matchAll(expression),
        (match) => match[0].codePointAt(0) ?? 0,
      ),
    );
  } catch {
    // An atom that is not valid alone, such as a backreference, is
    // assumed to match every character, so the check stays on the safe
    // side.
    characters = ALL_CHARACTERS;
  }
  charactersBySource.set(source, characters);
  return characters;
}
