/**
 * Finds runs of bounded parts of variable length in a row that can match
 * a common character, such as `^\w?\w?…\w?!` or `^\w{0,16}\w{0,16}…!`.
 * The run checks of regex-runs.ts treat each such part as short. A
 * failing match still tries every combination of their lengths, as
 * many as the product of the parts' length ranges. `^` and `\w?` 40
 * times then `!`, or `^` and `\w{0,16}` 10 times then `!`, ran for over
 * 20 s on 2,000 letters (Node.js 20.20, a loaded 2-core machine).
 *
 * A required part of fixed length, such as the `a` of `a?a?aa`, does not
 * end a run unless no part of the run can match its characters.
 */

import {
  type CharacterSet,
  intersectionOf,
  isDisjoint,
} from './character-sets.js';
import { charactersOf, hasUnboundedPart, inlineGroups } from './regex-runs.js';
import { type Atom, isLookaround, parsePattern } from './regex-safety.js';

/**
 * Maximum product of the length ranges of bounded parts in a row that
 * share a character, the same order as the largest count that the count
 * check allows. `.{0,16}.{0,16}` has 17 × 17 = 289 and `(?:a?){10}`
 * 2^10 = 1,024.
 */
export const MAX_LENGTH_COMBINATIONS = 1000;

/**
 * Returns the part of `pattern` from the first to the last of bounded
 * parts of variable length in a row that share a character and whose
 * length ranges multiply to more than MAX_LENGTH_COMBINATIONS, or
 * undefined when there are none. The pattern must be valid with the `u`
 * flag.
 */
export function findOptionalRun(pattern: string): string | undefined {
  const span = findInAlternatives(parsePattern(pattern));
  return span === undefined ? undefined : pattern.slice(span.start, span.end);
}

interface Span {
  start: number;
  end: number;
}

function findInAlternatives(alternatives: Atom[][]): Span | undefined {
  for (const sequence of alternatives) {
    const found = findInSequence(inlineGroups(sequence));
    if (found !== undefined) return found;
    for (const atom of sequence) {
      const inner = findInAlternatives(atom.alternatives);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

function findInSequence(sequence: readonly Atom[]): Span | undefined {
  let start = 0;
  let shared: CharacterSet | undefined;
  let combinations = 1;
  for (const atom of sequence) {
    if (atom.kind === 'assertion' || isLookaround(atom)) continue;
    // Unbounded parts are left to the run checks.
    if (hasUnboundedPart(atom)) continue;
    const characters = charactersOf(atom);
    const { min, max } = lengthRangeOf(atom);
    if (min === max) {
      if (shared !== undefined && isDisjoint(shared, characters)) {
        shared = undefined;
      }
      continue;
    }
    if (shared === undefined || isDisjoint(shared, characters)) {
      start = atom.start;
      shared = characters;
      combinations = 1;
    } else {
      shared = intersectionOf(shared, characters);
    }
    combinations *= max - min + 1;
    if (combinations > MAX_LENGTH_COMBINATIONS) {
      return { start, end: atom.end };
    }
  }
  return undefined;
}

interface LengthRange {
  min: number;
  max: number;
}

/** Returns the minimum and maximum number of characters an atom matches. */
function lengthRangeOf(atom: Atom): LengthRange {
  let range: LengthRange;
  if (atom.kind === 'assertion' || isLookaround(atom)) {
    range = { min: 0, max: 0 };
  } else if (atom.kind === 'group') {
    const ranges = atom.alternatives.map((sequence) =>
      sequence.map(lengthRangeOf).reduce(
        (total, part) => ({
          min: total.min + part.min,
          max: total.max + part.max,
        }),
        { min: 0, max: 0 },
      ),
    );
    range = {
      min: Math.min(...ranges.map((part) => part.min)),
      max: Math.max(...ranges.map((part) => part.max)),
    };
  } else {
    range = { min: 1, max: 1 };
  }
  const { quantifier } = atom;
  if (quantifier === undefined) return range;
  return {
    min: range.min * quantifier.min,
    max: range.max * quantifier.max,
  };
}
