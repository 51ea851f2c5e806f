import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findOverlappingAlternatives } from '../../functions/domain/regex-alternatives.js';

describe('findOverlappingAlternatives', () => {
  it.each([
    ['(a|a)*', '(a|a)*', 'a', 'a'],
    ['(\\w|\\d)+$', '(\\w|\\d)+', '\\w', '\\d'],
    ['(ab|a|b)*c', '(ab|a|b)*', 'ab', 'a'],
    ['^(?:x|y|[a-z])+$', '(?:x|y|[a-z])+', 'x', '[a-z]'],
    ['(A|a){2,5}$', '(A|a){2,5}', 'A', 'a'],
    ['(?:x(a|ab))*y', '(a|ab)', 'a', 'ab'],
    ['(a?b|b)+$', '(a?b|b)+', 'a?b', 'b'],
    ['(\\bvp|v)+', '(\\bvp|v)+', '\\bvp', 'v'],
    ['((?:c|d)x|d)+$', '((?:c|d)x|d)+', '(?:c|d)x', 'd'],
    ['^(?:.|\\u{1F300})+$', '(?:.|\\u{1F300})+', '.', '\\u{1F300}'],
    [
      '^(?:\u{1F300}|\\p{So})+$',
      '(?:\u{1F300}|\\p{So})+',
      '\u{1F300}',
      '\\p{So}',
    ],
    [
      '^(?:\\uD801\\uDC00|\\u{10428})+$',
      '(?:\\uD801\\uDC00|\\u{10428})+',
      '\\uD801\\uDC00',
      '\\u{10428}',
    ],
  ])('finds the alternatives in %s', (pattern, group, first, second) => {
    expect(findOverlappingAlternatives(pattern)).toEqual({
      group,
      first,
      second,
    });
  });

  it.each([
    'chief|cfo|\\bcpo\\b',
    '\\b(vp|vice president|head)\\b.*procurement',
    '(a|b)*c',
    '(?:\\d|[a-z])+$',
    '^/(careers|jobs|join-us)(/|$)',
    '(?:ab|c)?',
    '^(?:\\u{10400}|\\u{10401}|\\u{1F300})+$',
    '^(?:\\p{N}|\\u{1F300})+$',
    '(x|y)+|x+',
    '(?:-|\\.)[a-z]+',
  ])('accepts %s', (pattern) => {
    expect(findOverlappingAlternatives(pattern)).toBeUndefined();
  });
});

describe('findOverlappingAlternatives on any valid pattern', () => {
  it('returns a group of the pattern or nothing', () => {
    const pieces = fc.constantFrom(
      ...['a', 'b', '.', '\\w', '\\d', '[a-z]', '(', '(?:', '(?=', ')', '|'],
      ...['^', '$', '+', '*', '?', '{2}', '{1,3}'],
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 20 }), (parts) => {
        const pattern = parts.join('');
        try {
          new RegExp(pattern, 'iu');
        } catch {
          return;
        }
        const found = findOverlappingAlternatives(pattern);
        if (found !== undefined) {
          expect(pattern).toContain(found.group);
          expect(found.group).toContain(found.first);
          expect(found.group).toContain(found.second);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
