/**
 * Finds runs of unbounded parts (`*`, `+`, `{n,}`) in a row that can
 * match a common character, such as `.*.*.*x$`. A failing match tries
 * every split of the text among those parts, so k of them take time in
 * the order of n^k: `^.*.*.*.*.*.*.*.*x$` ran for over 7 minutes on 200
 * characters (Node.js 20, a loaded 2-core machine). A part with a count
 * above MAX_SHORT_REPEAT_COUNT, such as `.{0,1000}`, counts as unbounded.
 *
 * A pattern without `^` is tried again from every start position, which
 * adds one more factor of n. So two parts in a row take n^2 steps in an
 * anchored pattern and n^3 in an unanchored one. `\w+\w+$` took 120 ms
 * on 1,000 letters and 6.9 s on 4,000, while `^\w+\w+$` took 0.3 s on
 * 32 KB (Node.js 20.20, a loaded 2-core machine). findOverlappingRun finds
 * three parts anywhere, and findUnanchoredPair finds two parts where the
 * engine retries from every start.
 *
 * A required part, one that cannot match the empty text, ends a run when
 * none of the run's parts can match any of its characters, as the `@` in
 * `[^@]+@[^@]+@[^@]+`. Assertions and optional parts do not end a run.
 * The content of a lookaround continues the run before it, because the
 * engine evaluates it again after each backtrack of that run.
 *
 * NOTE: one unbounded part without `^` still takes n^2 steps, and the
 * checks accept it, because common patterns such as
 * `(chief|vp).*procurement` have that form: `.*x` took 0.4 s on 32 KB of
 * `a` (Node.js 20.20, a loaded 2-core machine).
 */

import {
  type CharacterSet,
  charactersOfSource,
  intersectionOf,
  isDisjoint,
  NO_CHARACTERS,
  unionOf,
} from './character-sets.js';
import { type Atom, isLookaround, parsePattern } from './regex-safety.js';

/** Maximum number of unbounded parts in a row that may share a character. */
export const MAX_OVERLAPPING_UNBOUNDED_PARTS = 2;

/**
 * Maximum count of a bounded part that the run checks treat as short.
 * An unanchored `.{0,20}.{0,20}x` took 80 ms on 32 KB of `a` and
 * `.{0,50}.{0,50}x` took 190 ms (Node.js 20.20, a loaded 2-core machine).
 */
export const MAX_SHORT_REPEAT_COUNT = 16;

/**
 * Returns the part of `pattern` from the first to the last of three
 * unbounded parts in a row that can match a common character, or
 * undefined when there is none. The pattern must be valid with the `u`
 * flag.
 */
export function findOverlappingRun(pattern: string): string | undefined {
  const run = findInAlternatives(
    parsePattern(pattern),
    MAX_OVERLAPPING_UNBOUNDED_PARTS,
  );
  return run === undefined ? undefined : pattern.slice(run.start, run.end);
}

/**
 * Returns the part of `pattern` from the first to the last of two
 * unbounded parts in a row that can match a common character, or
 * undefined when there is none. Only alternatives that the engine
 * retries from every start position count. The pattern must be valid
 * with the `u` flag.
 *
 * An alternative is retried from one position only when it starts with
 * `^`, or with a single character that no later part can match, as the
 * `@` in `@[^@]+\.[^@]+$`: each try then stops at the next `@`. Parts
 * after the last one that can fail, such as the final `.*` of `.*=.*`,
 * never backtrack and do not count.
 */
export function findUnanchoredPair(pattern: string): string | undefined {
  for (const alternative of parsePattern(pattern)) {
    const sequence = inlineGroups(alternative);
    if (isAnchored(sequence)) continue;
    const run =
      findInSequence(backtrackedPart(sequence), 1) ?? findInAtoms(sequence, 1);
    if (run !== undefined) return pattern.slice(run.start, run.end);
  }
  return undefined;
}

interface Span {
  start: number;
  end: number;
}

function findInAlternatives(
  alternatives: Atom[][],
  maxParts: number,
): Span | undefined {
  for (const sequence of alternatives) {
    const run =
      findInSequence(inlineGroups(sequence), maxParts) ??
      findInAtoms(sequence, maxParts);
    if (run !== undefined) return run;
  }
  return undefined;
}

/** Searches the alternatives of each atom of a sequence. */
function findInAtoms(
  sequence: readonly Atom[],
  maxParts: number,
): Span | undefined {
  for (const atom of sequence) {
    const inner = findInAlternatives(atom.alternatives, maxParts);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/**
 * Tells whether the engine can start a match of an alternative at one
 * position only, or at positions whose tries cannot overlap.
 */
function isAnchored(sequence: readonly Atom[]): boolean {
  let index = 0;
  for (; index < sequence.length; index += 1) {
    const atom = sequence[index];
    if (atom === undefined || isLookaround(atom)) return false;
    if (atom.kind !== 'assertion') break;
    if (atom.source === '^') return true;
  }
  const first = sequence[index];
  if (first === undefined) return true;
  if (first.kind === 'group' || first.quantifier !== undefined) return false;
  const firstCharacters = charactersOf(first);
  return sequence
    .slice(index + 1)
    .every(
      (atom) =>
        !isLookaround(atom) && isDisjoint(charactersOf(atom), firstCharacters),
    );
}

/**
 * Returns the atoms of a sequence that a failing match backtracks into:
 * those before the last atom that can fail, and that atom too when it is
 * a group, whose inner parts can backtrack.
 */
function backtrackedPart(sequence: readonly Atom[]): Atom[] {
  let last = sequence.length - 1;
  while (last >= 0 && !canFail(sequence[last])) last -= 1;
  if (last === -1) return [];
  const end = sequence[last]?.kind === 'group' ? last + 1 : last;
  return sequence.slice(0, end);
}

/**
 * Replaces each group that matches once and has one alternative, such as
 * `(?:.*)`, by its atoms, so a run inside it joins the parts around it.
 */
export function inlineGroups(sequence: readonly Atom[]): Atom[] {
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

/**
 * Finds a run of more than `maxParts` unbounded parts in a sequence,
 * continuing `runBefore`, the run of the parts before the sequence.
 */
function findInSequence(
  sequence: readonly Atom[],
  maxParts: number,
  runBefore: readonly Atom[] = [],
): Span | undefined {
  let run: Atom[] = [...runBefore];
  for (const atom of sequence) {
    if (isLookaround(atom)) {
      const inner = findAcrossGroup(atom, run, maxParts);
      if (inner !== undefined) return inner;
      continue;
    }
    if (atom.kind === 'assertion') continue;
    // A group that matches at most once is searched path by path, so a
    // word inside it, as the `of` of `\s+(of\s+)?`, separates its parts
    // from the run before. It joins the run whole, for the parts after.
    const searched = isOnceGroup(atom);
    if (searched) {
      const inner = findAcrossGroup(atom, run, maxParts);
      if (inner !== undefined) return inner;
    }
    const characters = charactersOf(atom);
    if (!canBeEmpty(atom)) {
      const separates = run.every((part) =>
        isDisjoint(charactersOf(part), characters),
      );
      if (separates) run = [];
    }
    if (!hasUnboundedPart(atom)) continue;
    if (!searched) {
      const first = findSharingParts(run, characters, maxParts, 0);
      if (first !== undefined) return { start: first.start, end: atom.end };
    }
    run.push(atom);
  }
  return undefined;
}

/**
 * Finds a run that continues from the parts before a lookaround or a
 * group of alternatives into one of its alternatives. The engine
 * evaluates a lookaround again each time a part before it backtracks,
 * so `^\w*(?=\w*\w*!)` takes n^3 steps as `^\w*\w*\w*!` does: 3.2 s
 * on 2,000 letters (Node.js 20.20, a loaded 2-core machine). The same
 * holds for `^\w*(?:\w*(?:\w*!|#)|#)`, which took 1.4 s. A lookaround
 * does not consume text, so the run after it continues without it.
 */
function findAcrossGroup(
  group: Atom,
  run: readonly Atom[],
  maxParts: number,
): Span | undefined {
  for (const alternative of group.alternatives) {
    const found = findInSequence(inlineGroups(alternative), maxParts, run);
    if (found === undefined) continue;
    // A run that starts before the group is reported up to its closing
    // parenthesis, so the reported part stays balanced.
    if (found.start >= group.start) return found;
    return { start: found.start, end: group.end };
  }
  return undefined;
}

/**
 * Tells whether an atom is a group, other than a lookaround, that
 * matches at most once: a group of alternatives, or an optional group
 * such as `(?:of\s+)?`.
 */
function isOnceGroup(atom: Atom): boolean {
  return (
    atom.kind === 'group' &&
    !isLookaround(atom) &&
    (atom.quantifier?.max ?? 1) === 1
  );
}

/**
 * Returns the first of `count` parts of `run`, from index `from` on,
 * that share at least one character with each other and with
 * `characters`, or undefined when no such parts exist.
 */
function findSharingParts(
  run: readonly Atom[],
  characters: CharacterSet,
  count: number,
  from: number,
): Atom | undefined {
  for (let index = from; index < run.length; index += 1) {
    const part = run[index];
    if (part === undefined) continue;
    const partCharacters = charactersOf(part);
    if (isDisjoint(partCharacters, characters)) continue;
    if (count === 1) return part;
    const shared = intersectionOf(partCharacters, characters);
    if (findSharingParts(run, shared, count - 1, index + 1) !== undefined) {
      return part;
    }
  }
  return undefined;
}

/** Tells whether an atom can fail at its position, as `$` or `x` can. */
function canFail(atom: Atom | undefined): boolean {
  if (atom === undefined) return false;
  return atom.kind === 'assertion' || isLookaround(atom) || !canBeEmpty(atom);
}

/**
 * Tells whether an atom has a part that repeats more than a few times,
 * counting nested counts as their product, so `(?:a{16}){16}` has one.
 */
export function hasUnboundedPart(atom: Atom, outerCount = 1): boolean {
  const count = outerCount * (atom.quantifier?.max ?? 1);
  return (
    count > MAX_SHORT_REPEAT_COUNT ||
    atom.alternatives.some((sequence) =>
      sequence.some((part) => hasUnboundedPart(part, count)),
    )
  );
}

/** Tells whether an atom can match the empty text. */
export function canBeEmpty(atom: Atom): boolean {
  if (atom.quantifier?.min === 0) return true;
  if (atom.kind === 'assertion' || isLookaround(atom)) return true;
  if (atom.kind !== 'group') return false;
  return atom.alternatives.some((sequence) => sequence.every(canBeEmpty));
}

/** Returns the code points that an atom can consume, at any depth. */
export function charactersOf(atom: Atom): CharacterSet {
  if (atom.kind === 'char' || atom.kind === 'class') {
    return charactersOfSource(atom.source, atom.writtenSupplementary);
  }
  if (atom.kind !== 'group' || isLookaround(atom)) return NO_CHARACTERS;
  const known = charactersByGroup.get(atom.alternatives);
  if (known !== undefined) return known;
  const characters = unionOf(
    atom.alternatives.flatMap((sequence) => sequence.map(charactersOf)),
  );
  charactersByGroup.set(atom.alternatives, characters);
  return characters;
}

/**
 * Characters of each parsed group, keyed by its alternatives, which the
 * copies that inlineGroups makes share.
 */
const charactersByGroup = new WeakMap<Atom[][], CharacterSet>();
