/**
 * Finds alternatives under a repeat that can start with the same
 * character, such as `(a|ab)*` or `(\w|\d)+$`. Each repetition can then
 * take either alternative, so a failing match tries up to 2^n ways to
 * split a text of n characters. `^(\w|\d)+$` took 1.1 s on 24 digits and
 * a `!`, and `(ab|a|b)*c` took 0.3 s on 39 characters of `abab…`
 * (Node.js 20.20, a loaded 2-core machine).
 *
 * The check is conservative: it compares the first characters only, so
 * it also rejects `(ab|ac)*`, whose alternatives differ at the second
 * character and so take linear time.
 */

import { type CharacterSet, isDisjoint, unionOf } from './character-sets.js';
import { canBeEmpty, charactersOf } from './regex-runs.js';
import { type Atom, isLookaround, parsePattern } from './regex-safety.js';

/** Group under a repeat with two alternatives that can start alike. */
export interface OverlappingAlternatives {
  /** Source of the group, with its quantifier if it has one. */
  group: string;
  /** Source of the first of the two alternatives. */
  first: string;
  /** Source of the second of the two alternatives. */
  second: string;
}

/**
 * Returns the first group of `pattern` that has two alternatives that
 * can start with the same character and that repeats or lies inside a
 * repeated group, or undefined when there is none. The pattern must be
 * valid with the `u` flag.
 */
export function findOverlappingAlternatives(
  pattern: string,
): OverlappingAlternatives | undefined {
  return findInAlternatives(pattern, parsePattern(pattern), false);
}

function findInAlternatives(
  pattern: string,
  alternatives: readonly Atom[][],
  repeated: boolean,
): OverlappingAlternatives | undefined {
  for (const sequence of alternatives) {
    for (const atom of sequence) {
      const inRepeat = repeated || (atom.quantifier?.max ?? 1) > 1;
      if (inRepeat && atom.kind === 'group') {
        const found = findOverlap(pattern, atom);
        if (found !== undefined) return found;
      }
      const inner = findInAlternatives(pattern, atom.alternatives, inRepeat);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

function findOverlap(
  pattern: string,
  group: Atom,
): OverlappingAlternatives | undefined {
  if (group.alternatives.length < 2) return undefined;
  const starts = group.alternatives.map(firstCharacters);
  for (let i = 0; i < starts.length; i += 1) {
    for (let j = i + 1; j < starts.length; j += 1) {
      const [first, second] = [starts[i], starts[j]];
      if (first === undefined || second === undefined) continue;
      if (isDisjoint(first, second)) continue;
      return {
        group: pattern.slice(group.start, group.end),
        first: sourceOf(pattern, group.alternatives[i]),
        second: sourceOf(pattern, group.alternatives[j]),
      };
    }
  }
  return undefined;
}

/**
 * Returns the code points that can start a non-empty match of a
 * sequence: those of each atom up to the first one that cannot match
 * the empty text. Assertions and lookarounds consume nothing and add
 * none.
 */
function firstCharacters(sequence: readonly Atom[]): CharacterSet {
  const known = firstCharactersBySequence.get(sequence);
  if (known !== undefined) return known;
  const parts: CharacterSet[] = [];
  for (const atom of sequence) {
    if (atom.kind === 'assertion' || isLookaround(atom)) continue;
    parts.push(
      atom.kind === 'group'
        ? unionOf(atom.alternatives.map(firstCharacters))
        : charactersOf(atom),
    );
    if (!canBeEmpty(atom)) break;
  }
  const characters = unionOf(parts);
  firstCharactersBySequence.set(sequence, characters);
  return characters;
}

/**
 * First characters of each parsed sequence, so nested groups are not
 * walked again for each group around them.
 */
const firstCharactersBySequence = new WeakMap<readonly Atom[], CharacterSet>();

function sourceOf(pattern: string, sequence: readonly Atom[] = []): string {
  const first = sequence[0];
  const last = sequence.at(-1);
  if (first === undefined || last === undefined) return '(empty)';
  return pattern.slice(first.start, last.end);
}
