/**
 * Finds repetition counts too large to reason about, such as
 * `a{1,100000}` or `(?:a{100}){100}`. A count above the length of the
 * text makes a bounded part behave as an unbounded one: unanchored,
 * `[a-z]{1,65535}x` took 1.4 s on 32 KB of letters, as long as `[a-z]+x`
 * (Node.js 20.20, a loaded 2-core machine). The other checks treat a
 * bounded part as short, so counts are kept at MAX_REPEAT_COUNT.
 *
 * Nested counts multiply: `(?:a{100}){100}` spans 10,000 characters, so
 * the count of a part is the product of its own count and the counts of
 * the repeated groups around it.
 */

import { type Atom, parsePattern } from './regex-safety.js';

/**
 * Maximum number of times a part may repeat, counting nested counts as
 * their product. An unanchored `.{0,1000}x` took 54 ms on a 32 KB text
 * (Node.js 20.20, a loaded 2-core machine), because each start position
 * walks at most this many characters.
 */
export const MAX_REPEAT_COUNT = 1000;

/** A quantified part whose count, with the counts around it, is too large. */
export interface LargeCount {
  /** Outermost quantified part of the pattern that contains the count. */
  part: string;
  /** Product of the nested counts. */
  count: number;
}

/**
 * Returns the first part of `pattern` whose repetition count, multiplied
 * by the counts of the groups around it, is above MAX_REPEAT_COUNT, or
 * undefined when there is none. An unbounded quantifier counts its
 * minimum, so `a{2000,}` is found and `a+` is not. The pattern must be
 * valid with the `u` flag.
 */
export function findLargeCount(pattern: string): LargeCount | undefined {
  return findInAlternatives(pattern, parsePattern(pattern), 1, undefined);
}

function findInAlternatives(
  pattern: string,
  alternatives: readonly Atom[][],
  outerCount: number,
  outerPart: Atom | undefined,
): LargeCount | undefined {
  for (const sequence of alternatives) {
    for (const atom of sequence) {
      const count = outerCount * finiteCount(atom);
      const part = outerPart ?? (isRepeated(atom) ? atom : undefined);
      if (count > MAX_REPEAT_COUNT && part !== undefined) {
        return { part: pattern.slice(part.start, part.end), count };
      }
      const inner = findInAlternatives(pattern, atom.alternatives, count, part);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/** Returns the maximum count of an atom, or its minimum when unbounded. */
function finiteCount(atom: Atom): number {
  const { quantifier } = atom;
  if (quantifier === undefined) return 1;
  const count =
    quantifier.max === Number.POSITIVE_INFINITY
      ? quantifier.min
      : quantifier.max;
  return Math.max(count, 1);
}

function isRepeated(atom: Atom): boolean {
  return atom.quantifier !== undefined && finiteCount(atom) > 1;
}
