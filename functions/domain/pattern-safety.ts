import { findOverlappingAlternatives } from './regex-alternatives.js';
import { findLargeCount, MAX_REPEAT_COUNT } from './regex-counts.js';
import {
  findOverlappingRun,
  findUnanchoredPair,
  MAX_SHORT_REPEAT_COUNT,
} from './regex-runs.js';
import { findNestedRepeat } from './regex-safety.js';

/**
 * Describes why a model pattern can take super-linear time on a text
 * that ingest accepts (ReDoS) and how to rewrite it. Returns undefined
 * when no check finds a problem. The pattern must be valid with the `u`
 * flag.
 */
export function describeSlowPattern(pattern: string): string | undefined {
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
