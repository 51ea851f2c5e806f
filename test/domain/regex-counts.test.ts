import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  findLargeCount,
  MAX_REPEAT_COUNT,
} from '../../functions/domain/regex-counts.js';

describe('findLargeCount', () => {
  it.each([
    ['a{1,100000}b{1,100000}', 'a{1,100000}', 100_000],
    ['(a+){1,10000}', '(a+){1,10000}', 10_000],
    ['(?:a{100}){100}', '(?:a{100}){100}', 10_000],
    ['x(?:a(?:b{1,10}c){1,11}){1,10}', '(?:a(?:b{1,10}c){1,11}){1,10}', 1100],
    ['a{2000,}', 'a{2000,}', 2000],
    ['[a-z]{1,65535}x', '[a-z]{1,65535}', 65_535],
    ['(?:ab){1001}', '(?:ab){1001}', 1001],
  ])('finds the count in %s', (pattern, part, count) => {
    expect(findLargeCount(pattern)).toEqual({ part, count });
  });

  it.each([
    'a{1,1000}b{1,1000}',
    '(\\d{1,3}\\.){3}\\d{1,3}',
    '(?:a{10}){100}',
    '(?:a{1,10}(?:b{1,10}c){1,10})+',
    '[a-z]{2,}',
    'a+b*',
    '\\{1,100000\\}',
    '[{1,100000}]',
    '^/pricing(/|$)',
  ])('accepts %s', (pattern) => {
    expect(findLargeCount(pattern)).toBeUndefined();
  });

  it('accepts a count of exactly the maximum', () => {
    expect(findLargeCount(`a{${MAX_REPEAT_COUNT}}`)).toBeUndefined();
    expect(findLargeCount(`a{${MAX_REPEAT_COUNT + 1}}`)).toBeDefined();
  });
});

describe('findLargeCount on any valid pattern', () => {
  it('returns a part of the pattern or nothing', () => {
    const pieces = fc.constantFrom(
      ...['a', '.', '\\w', '[a-z]', '\\{', '(', '(?:', '(?=', ')', '|'],
      ...['+', '*', '?', '{2}', '{1,40}', '{50,}', '{999}', '{1,1001}'],
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 16 }), (parts) => {
        const pattern = parts.join('');
        try {
          new RegExp(pattern, 'iu');
        } catch {
          return;
        }
        const found = findLargeCount(pattern);
        if (found !== undefined) {
          expect(pattern).toContain(found.part);
          expect(found.count).toBeGreaterThan(MAX_REPEAT_COUNT);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
