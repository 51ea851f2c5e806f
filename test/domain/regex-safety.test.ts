import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import { findNestedRepeat } from '../../functions/domain/regex-safety.js';

/** Returns every string value of a JSON document whose key ends in Pattern. */
function patternsOf(value: unknown, key = ''): string[] {
  if (typeof value === 'string') {
    return /(^p|P)attern$|^path$/.test(key) ? [value] : [];
  }
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([childKey, child]) =>
    patternsOf(child, Array.isArray(value) ? key : childKey),
  );
}

describe('findNestedRepeat', () => {
  it.each([
    ['(a+)+$', '(a+)+'],
    ['^(\\w+\\s?)+$', '(\\w+\\s?)+'],
    ['^(a|b+)*c', '(a|b+)*'],
    ['(x+x+)+y', '(x+x+)+'],
    ['(.*,)*x', '(.*,)*'],
    ['(?:a{1,3})+b', '(?:a{1,3})+'],
    ['(?<title>[a-z]+ ?)+$', '(?<title>[a-z]+ ?)+'],
    ['(\\d+\\d)+x', '(\\d+\\d)+'],
    ['(\\w+\\s?){5}$', '(\\w+\\s?){5}'],
    ['(.*a){12}$', '(.*a){12}'],
    ['(?:a+){3}b', '(?:a+){3}'],
    ['^(?:a\\x61*)+$', '(?:a\\x61*)+'],
    ['^(?:a\\u0061*)+$', '(?:a\\u0061*)+'],
    ['^(?:a\\u{61}*)+$', '(?:a\\u{61}*)+'],
    ['^(?:\\x01\\cA*)+$', '(?:\\x01\\cA*)+'],
    ['^(?:a|){16}a{16}$', '(?:a|){16}'],
    ['(?:a|b|)+c', '(?:a|b|)+'],
    ['^(?:a|(?:)){3}x', '(?:a|(?:)){3}'],
    ['^(?:[a-z]+\\w)*x$', '(?:[a-z]+\\w)*'],
    ['^(?:[a-k]+[K])*x$', '(?:[a-k]+[K])*'],
    ['^(?:(?:ab)+[a-z])*x$', '(?:(?:ab)+[a-z])*'],
  ])('finds the nested repeat in %s', (pattern, group) => {
    expect(findNestedRepeat(pattern)).toBe(group);
  });

  it.each([
    'chief procurement officer|\\bcpo\\b',
    '^/blog(/[\\w-]+)*$',
    '(?:\\.\\w+)*$',
    '(\\d{1,3}\\.){3}\\d{1,3}',
    '(?:ab){3}',
    '(\\w+,){3}$',
    '(a+)?b',
    '((ab)*c)*$',
    '(a\\s*)+$',
    '\\p{L}+(?:-\\p{L}+)*',
    '(?:https?://)+',
    '(a\\tb*)+',
    '[(+*]+',
    '\\(a+\\)+',
    '(?:\\x2e\\w+)*$',
    '(?:\\u002e\\w+)*$',
    '(?:\\u{2e}\\w+)*$',
    '(?:\\0\\w+)*$',
    '(?:\\.(?:com|org|io))+$',
    '^(?:[a-z]+\\s)*buyer$',
    '^(?:\\s[a-z]+)*$',
    '^(?:\\d+[.,])*\\d+$',
  ])('accepts %s', (pattern) => {
    expect(findNestedRepeat(pattern)).toBeUndefined();
  });

  it('accepts every pattern of the bundled model', () => {
    const patterns = patternsOf(DEFAULT_MODEL_DOCUMENT);

    expect(patterns.length).toBeGreaterThan(10);
    for (const pattern of patterns) {
      expect(findNestedRepeat(pattern), pattern).toBeUndefined();
    }
  });
});

describe('findNestedRepeat on any valid pattern', () => {
  it('returns a group of the pattern or nothing', () => {
    const pieces = fc.constantFrom(
      ...['a', 'b', '.', '\\w', '\\s', '\\p{L}', '[a-z]', '[^)]', '\\.'],
      ...['(', '(?:', '(?<n>', '(?=', ')', '|', '^', '$'],
      ...['+', '*', '?', '{2}', '{1,3}', '{2,}'],
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 24 }), (parts) => {
        const pattern = parts.join('');
        try {
          new RegExp(pattern, 'iu');
        } catch {
          return;
        }
        const group = findNestedRepeat(pattern);
        if (group !== undefined) {
          expect(pattern).toContain(group.replace(/[*+?]$|\{[\d,]+\}$/, ''));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
