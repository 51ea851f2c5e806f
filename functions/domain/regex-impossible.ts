/**
 * A static check for model patterns that can never match. Patterns are
 * compiled with the flags `i` and `u` only, so without `m` a `^` matches
 * only at the start of the value and a `$` only at its end. `a^b` and
 * `$x` can therefore match nothing, nor can an empty class such as `[]`
 * or `[^\s\S]`.
 *
 * The check follows every path through the parsed pattern with a small
 * state: whether the path has consumed a character since the match
 * started, and whether it has passed a `$`. A path dies at a `^` after a
 * consumed character, at a character after a `$`, and at an empty class.
 * The pattern can never match when every path dies. Lookarounds, `\b`
 * and `\B` count as always true, and a backreference as taking any
 * length, so the check finds only the cases above and never warns about
 * a pattern that can match.
 */

import { type Atom, isLookaround, parsePattern } from './regex-safety.js';

/**
 * Bits of a path state, which is a number from 0 to 3. CONSUMED is set
 * once the path has consumed a character, AT_END once it has passed a `$`.
 */
const CONSUMED = 1;
const AT_END = 2;

/** Set of path states, one bit per state index from 0 to 3. */
type States = number;

const START: States = 1 << 0;
const NONE: States = 0;

/**
 * Repetitions of an atom that the check follows. A path changes its
 * state at most twice, from nothing consumed to consumed to past `$`.
 * So among four repetitions one keeps its state, and any larger count
 * can repeat that one and reach the same states.
 */
const MAX_REPETITIONS_TRACKED = 4;

/** Escapes of a character set and of its complement. */
const COMPLEMENT_PAIRS = [
  ['\\s', '\\S'],
  ['\\d', '\\D'],
  ['\\w', '\\W'],
] as const;

/** Cause of a dead path, named in the warning. */
type Cause = 'start' | 'end' | 'empty-class';

/**
 * Returns why `pattern` can never match any value, or undefined when a
 * path through it can match. The pattern must be valid with the `u`
 * flag.
 */
export function describeImpossiblePattern(pattern: string): string | undefined {
  const causes = new Map<Cause, string>();
  const states = statesOfAlternatives(parsePattern(pattern), START, causes);
  if (states !== NONE) return undefined;
  const parts: string[] = [];
  if (causes.has('start')) {
    parts.push('a ^ after a character that must match before it');
  }
  if (causes.has('end')) {
    parts.push('a character that must match after a $');
  }
  const emptyClass = causes.get('empty-class');
  if (emptyClass !== undefined) {
    parts.push(`the class ${emptyClass}, which matches no character`);
  }
  return parts.join(' and ');
}

function statesOfAlternatives(
  alternatives: readonly Atom[][],
  states: States,
  causes: Map<Cause, string>,
): States {
  let result = NONE;
  for (const sequence of alternatives) {
    let current = states;
    for (const atom of sequence) {
      current = statesOfRepeatedAtom(atom, current, causes);
      if (current === NONE) break;
    }
    result |= current;
  }
  return result;
}

function statesOfRepeatedAtom(
  atom: Atom,
  states: States,
  causes: Map<Cause, string>,
): States {
  const { min, max } = atom.quantifier ?? { min: 1, max: 1 };
  let current = states;
  for (let count = 0; count < Math.min(min, MAX_REPETITIONS_TRACKED); count++) {
    current = statesOfAtom(atom, current, causes);
  }
  let result = current;
  const optional = Math.min(max - min, MAX_REPETITIONS_TRACKED);
  for (let count = 0; count < optional && current !== NONE; count++) {
    current = statesOfAtom(atom, current, causes);
    result |= current;
  }
  return result;
}

function statesOfAtom(
  atom: Atom,
  states: States,
  causes: Map<Cause, string>,
): States {
  if (atom.kind === 'group') {
    if (isLookaround(atom)) return states;
    return statesOfAlternatives(atom.alternatives, states, causes);
  }
  if (atom.kind === 'assertion') {
    if (atom.source === '^') return assertStart(states, causes);
    if (atom.source === '$') return assertEnd(states);
    return states;
  }
  if (isBackreference(atom)) return states | consume(states, causes);
  if (isEmptyClass(atom.source)) {
    if (states !== NONE) causes.set('empty-class', atom.source);
    return NONE;
  }
  return consume(states, causes);
}

/** Keeps the paths that have consumed nothing, where `^` can match. */
function assertStart(states: States, causes: Map<Cause, string>): States {
  let result = NONE;
  forEachState(states, (state) => {
    if (state & CONSUMED) {
      causes.set('start', '^');
    } else {
      result |= 1 << state;
    }
  });
  return result;
}

function assertEnd(states: States): States {
  let result = NONE;
  forEachState(states, (state) => {
    result |= 1 << (state | AT_END);
  });
  return result;
}

/** Moves the paths before a `$` past one character. The others die. */
function consume(states: States, causes: Map<Cause, string>): States {
  let result = NONE;
  forEachState(states, (state) => {
    if (state & AT_END) {
      causes.set('end', '$');
    } else {
      result |= 1 << (state | CONSUMED);
    }
  });
  return result;
}

function forEachState(states: States, visit: (state: number) => void): void {
  for (let state = 0; state < 4; state++) {
    if (states & (1 << state)) visit(state);
  }
}

function isBackreference(atom: Atom): boolean {
  return /^\\(?:[1-9]|k<)/.test(atom.source);
}

/**
 * Tells whether a class matches no character: `[]`, or a negated class
 * that lists a set and its complement, such as `[^\s\S]` or
 * `[^\p{L}\P{L}]`.
 */
function isEmptyClass(source: string): boolean {
  if (source === '[]') return true;
  if (!source.startsWith('[^')) return false;
  const escapes = new Set(source.match(/\\(?:[pP]\{[^}]*\}|.)/gu) ?? []);
  for (const [set, complement] of COMPLEMENT_PAIRS) {
    if (escapes.has(set) && escapes.has(complement)) return true;
  }
  for (const property of escapes) {
    if (property.startsWith('\\p{') && escapes.has(`\\P${property.slice(2)}`)) {
      return true;
    }
  }
  return false;
}
