import { findOverlappingAlternatives } from './regex-alternatives.js';
import { findLargeCount, MAX_REPEAT_COUNT } from './regex-counts.js';
import {
  findOptionalRun,
  MAX_LENGTH_COMBINATIONS,
} from './regex-optional-runs.js';
import {
  findOverlappingRun,
  findUnanchoredPair,
  MAX_SHORT_REPEAT_COUNT,
} from './regex-runs.js';
import { findBackreference, findNestedRepeat } from './regex-safety.js';

/**
 * Maximum length of a model pattern, in UTF-16 code units. The longest
 * bundled pattern, the default bot user agent pattern, has about 500.
 * The checks sample each distinct character and class of a pattern over
 * 63,000 code points, so the length bounds their time: a pattern of 340
 * negated classes, such as `[^\u{4e00}]`, took 0.7 s (Node.js 20.20, a
 * loaded 2-core machine).
 */
export const MAX_PATTERN_LENGTH = 4096;

/**
 * Maximum depth of nested groups in a model pattern. The checks walk
 * groups recursively, so depth is bounded well below the call stack.
 */
export const MAX_GROUP_DEPTH = 50;

export const PATTERN_LENGTH_MESSAGE =
  `must be at most ${MAX_PATTERN_LENGTH.toLocaleString('en-US')} ` +
  'characters long, so the ReDoS checks stay fast; split the pattern ' +
  'into several rules or shorten its alternatives';

/** Returns the maximum depth of nested groups in a pattern. */
export function groupDepthOf(pattern: string): number {
  let depth = 0;
  let maxDepth = 0;
  let inClass = false;
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index];
    if (char === '\\') {
      index += 1;
    } else if (inClass) {
      inClass = char !== ']';
    } else if (char === '[') {
      inClass = true;
    } else if (char === '(') {
      depth += 1;
      maxDepth = Math.max(maxDepth, depth);
    } else if (char === ')') {
      depth -= 1;
    }
  }
  return maxDepth;
}

/**
 * Describes why a model pattern can take super-linear time on a text
 * that ingest accepts (ReDoS), or is too long or too deeply nested to
 * check, and how to rewrite it. Returns undefined when no check finds a
 * problem. The pattern must be valid with the `u` flag.
 */
export function describeSlowPattern(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return PATTERN_LENGTH_MESSAGE;
  const depth = groupDepthOf(pattern);
  if (depth > MAX_GROUP_DEPTH) {
    return (
      `nests groups ${depth} deep, more than ${MAX_GROUP_DEPTH}, which ` +
      'the ReDoS checks do not walk; remove groups that wrap a single ' +
      'group, such as ((a)) for (a)'
    );
  }
  const backreference = findBackreference(pattern);
  if (backreference !== undefined) {
    return (
      `uses the backreference ${backreference}, which matches text as ` +
      'long as its group did, so the ReDoS checks cannot bound its time; ' +
      'repeat the pattern of the group in its place, as (\\w+) \\w+ in ' +
      'place of (\\w+) \\1'
    );
  }
  const large = findLargeCount(pattern);
  if (large !== undefined) {
    const count = large.count.toLocaleString('en-US');
    const limit = MAX_REPEAT_COUNT.toLocaleString('en-US');
    return (
      `repeats ${large.part} up to ${count} times in all (the counts of ` +
      `nested repeats multiply), more than ${limit}; a count above the ` +
      "text's length makes a part as slow as an unbounded one and hides " +
      `it from the ReDoS checks, so lower the counts to at most ${limit} ` +
      'in all, or use * or + where the count does not matter'
    );
  }
  const group = findNestedRepeat(pattern);
  if (group !== undefined) {
    return (
      `repeats ${group}, a group with a part of variable length, which ` +
      'can take exponential time on some texts (ReDoS); rewrite it so ' +
      'that each repetition starts or ends with a character its ' +
      'repeated parts cannot match, as in (?:\\.\\w+)*'
    );
  }
  const alternatives = findOverlappingAlternatives(pattern);
  if (alternatives !== undefined) {
    return (
      `has ${alternatives.group}, alternatives inside a repeat of which ` +
      `${alternatives.first} and ${alternatives.second} can start with the ` +
      'same character, which can take exponential time on some texts ' +
      '(ReDoS); make every alternative start with a different character, ' +
      'for example a(?:b|c) in place of ab|ac, or \\w in place of \\w|\\d'
    );
  }
  const run = findOverlappingRun(pattern);
  if (run !== undefined) {
    return (
      `has ${run}, three or more unbounded parts (*, +, {n,}, or a count ` +
      `above ${MAX_SHORT_REPEAT_COUNT}) in a row that can match the same ` +
      'character, which can take time in the order of n^3 or more on a ' +
      'text of n characters (ReDoS); keep at most two such parts, for ' +
      'example by merging .*.* into .*, or make them disjoint, such as ' +
      '[^,]*,[^,]*,[^,]* in place of .*,.*,.*'
    );
  }
  const optional = findOptionalRun(pattern);
  if (optional !== undefined) {
    const limit = MAX_LENGTH_COMBINATIONS.toLocaleString('en-US');
    return (
      `has ${optional}, parts of variable length (?, {m,n}) in a row ` +
      'that can match the same character and whose lengths combine in ' +
      `more than ${limit} ways, which a failing match tries one by one ` +
      '(ReDoS); merge them into one part, as \\w{0,40} in place of ' +
      '\\w?\\w?…, or make them disjoint'
    );
  }
  const pair = findUnanchoredPair(pattern);
  if (pair !== undefined) {
    return (
      `has ${pair}, two unbounded parts (*, +, {n,}, or a count above ` +
      `${MAX_SHORT_REPEAT_COUNT}) in a row that can match the same ` +
      'character, in a pattern without ^ that the engine retries from ' +
      'every position, which takes time in the order of n^3 on a text of ' +
      'n characters (ReDoS); merge them into one part, as \\w+ in place ' +
      'of \\w+\\w+, make them disjoint, as [^/]*/[^/]*x in place of ' +
      '.*/.*x, or anchor the pattern with ^'
    );
  }
  return undefined;
}
