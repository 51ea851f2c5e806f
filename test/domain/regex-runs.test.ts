import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import {
  findOverlappingRun,
  findUnanchoredPair,
} from '../../functions/domain/regex-runs.js';

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

interface Token {
  character: string;
  star: boolean;
}

/**
 * Matches `text` as a whole against literal characters and `.`, each
 * optionally followed by `*`, by greedy backtracking as JavaScript's
 * engine does, and counts the positions it tries.
 */
function backtrackingSteps(pattern: string, text: string) {
  const tokens: Token[] = [];
  for (const character of pattern) {
    const last = tokens.at(-1);
    if (character === '*' && last !== undefined) last.star = true;
    else tokens.push({ character, star: false });
  }
  let steps = 0;
  const matchesAt = (position: number, token: Token) =>
    position < text.length &&
    (token.character === '.' || text[position] === token.character);
  const matchFrom = (index: number, position: number): boolean => {
    steps += 1;
    const token = tokens[index];
    if (token === undefined) return position === text.length;
    if (!token.star) {
      return matchesAt(position, token) && matchFrom(index + 1, position + 1);
    }
    let end = position;
    while (matchesAt(end, token)) end += 1;
    for (let split = end; split >= position; split -= 1) {
      if (matchFrom(index + 1, split)) return true;
    }
    return false;
  };
  const matched = matchFrom(0, 0);
  return { matched, steps };
}

/**
 * Counts the positions that a pattern without `^` tries, as the engine
 * retries it from each start: the sum of the steps of matching the rest
 * of the text from every start position.
 */
function unanchoredSteps(pattern: string, text: string): number {
  let steps = 0;
  for (let start = 0; start <= text.length; start += 1) {
    steps += backtrackingSteps(pattern, text.slice(start)).steps;
  }
  return steps;
}

describe('findOverlappingRun', () => {
  it.each([
    ['^.*.*.*.*.*.*.*.*x$', '.*.*.*'],
    ['.*a.*a.*x', '.*a.*a.*'],
    ['.*,.*,.*$', '.*,.*,.*'],
    ['\\w+\\d+\\w*x', '\\w+\\d+\\w*'],
    ['a+ ?a+ ?a+$', 'a+ ?a+ ?a+'],
    ['[a-z]{2,}[a-z]{2,}[a-z]{2,}!', '[a-z]{2,}[a-z]{2,}[a-z]{2,}'],
    ['(?:.*)(?:.*)(?:.*)x', '(?:.*)(?:.*)(?:.*)'],
    ['^x(?:a*b*|c)a*a*$', '(?:a*b*|c)a*a*'],
    ['\\bvp\\b.*\\b.*\\b.*$', '.*\\b.*\\b.*'],
    ['(?=x).*(?!y).*.*$', '.*(?!y).*.*'],
    ['^(x|.*.*.*)$', '.*.*.*'],
    ['.{0,1000}.{0,1000}.{0,1000}x$', '.{0,1000}.{0,1000}.{0,1000}'],
    ['^a{17}a*a+x', 'a{17}a*a+'],
    ['^\\x61*\\x61*\\x61*!', '\\x61*\\x61*\\x61*'],
    ['^\\u0061*\\u{61}*a*!', '\\u0061*\\u{61}*a*'],
    ['^\\cA*\\x01*\\cA*!', '\\cA*\\x01*\\cA*'],
    ['^\\w*(?=\\w*\\w*!)', '\\w*(?=\\w*\\w*!)'],
    ['^\\w*(?=\\w*(?=\\w*!))', '\\w*(?=\\w*(?=\\w*!))'],
    ['^\\w*(?!\\w*\\w*!)', '\\w*(?!\\w*\\w*!)'],
    ['^x(?=a*a*a*!)', 'a*a*a*'],
    ['^(?:\\w{8}){4}\\w*\\w*!', '(?:\\w{8}){4}\\w*\\w*'],
    ['^\\w*(?:\\w*(?:\\w*!|#)|#)', '\\w*(?:\\w*(?:\\w*!|#)|#)'],
    ['^x(?:#|a*(?:#|a*a*!))', 'a*(?:#|a*a*!)'],
    [
      `^${'[\\u{10400}-\\u{1044F}]*'.repeat(3)}!`,
      '[\\u{10400}-\\u{1044F}]*'.repeat(3),
    ],
  ])('finds the run in %s', (pattern, run) => {
    expect(findOverlappingRun(pattern)).toBe(run);
  });

  it.each([
    '^vp.*procurement.*$',
    '.*.*',
    '\\w+\\s+\\w+\\s+\\w+',
    '^[^@]+@[^@]+@[^@]+$',
    '\\d+-\\d+-\\d+',
    '\\d+[a-z]+\\d+[a-z]+\\d+',
    '[^,]*,[^,]*,[^,]*$',
    '(?=.*a)(?=.*b).*c',
    'a{1,5}a{1,5}a{1,5}a*',
    '^[^@\\s\\p{C}]+@[^@\\s\\p{C}]+\\.[a-z]{2,}$',
    'a{16}a{1,16}a{0,16}x',
    '^(?=.*\\bvp\\b)(?=.*procurement).*$',
    '^(?=\\w*)\\w*\\w*!',
    '^\\w*(?:#\\w*|!\\w*)',
  ])('accepts %s', (pattern) => {
    expect(findOverlappingRun(pattern)).toBeUndefined();
  });

  it('accepts every pattern of the bundled models', () => {
    const file = resolve(
      import.meta.dirname,
      '../../models/procurement-software.json',
    );
    const bundled = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const patterns = [
      ...patternsOf(DEFAULT_MODEL_DOCUMENT),
      ...patternsOf(bundled),
    ];

    expect(patterns.length).toBeGreaterThan(20);
    for (const pattern of patterns) {
      expect(findOverlappingRun(pattern), pattern).toBeUndefined();
    }
  });
});

describe('findUnanchoredPair', () => {
  it.each([
    ['\\w+\\w+$', '\\w+\\w+'],
    ['.*.*=', '.*.*'],
    ['.*/.*x', '.*/.*'],
    ['vp.*.*x', '.*.*'],
    ['.{0,50}.{0,50}x', '.{0,50}.{0,50}'],
    ['\\bcfo\\b|.+\\d+\\b', '.+\\d+'],
    ['^x|a*a*b', 'a*a*'],
    ['(?:^|/)a*a*b', 'a*a*'],
    ['(?=a)^.*.*x', '.*.*'],
    ['@+[^@]*[^@]*x', '[^@]*[^@]*'],
    ['\\w*@[^@]*[^@]*x', '[^@]*[^@]*'],
    ['x(?:y|.*.*z)', '.*.*'],
    ['.*(?:a.*b|c)', '.*(?:a.*b|c)'],
    ['(?=.*.*x)', '.*.*'],
    ['\\x61+\\x61+$', '\\x61+\\x61+'],
    ['\\w*(?=\\w*!)', '\\w*(?=\\w*!)'],
    ['a+(a+)?b', 'a+(a+)?'],
    ['\\s+(?:of)?\\s+x', '\\s+(?:of)?\\s+'],
    ['\\s+(of\\s+)?\\s+x', '\\s+(of\\s+)?\\s+'],
  ])('finds the pair in %s', (pattern, pair) => {
    expect(findUnanchoredPair(pattern)).toBe(pair);
  });

  it.each([
    '^/pricing(/|$)',
    '(chief|vp).*procurement',
    '\\bcfo\\b',
    '^\\w+\\w+$',
    '^vp.*procurement.*$',
    '.*.*',
    '.*=.*',
    '.*\\w+',
    '[^/]*/[^/]*x',
    '@[^@]*[^@]*x',
    '@([a-z0-9-]+\\.)*(uni|tu|fh|hs|th)-[a-z0-9-]+\\.de$',
    '\\b^.*.*x',
    '.{0,16}.{0,16}x',
    'x|^a*a*b',
    '(vp|vice president|head)\\s+(of\\s+)?(procurement|sourcing)',
    '\\b(?:vp|svp)[,.]?\\s*(?:of\\s+)?(?:global\\s+)?procurement\\b',
    '(?:vp|head)\\W+(?:of\\W+)?procurement',
  ])('accepts %s', (pattern) => {
    expect(findUnanchoredPair(pattern)).toBeUndefined();
  });

  it('accepts every pattern of the bundled models', () => {
    const file = resolve(
      import.meta.dirname,
      '../../models/procurement-software.json',
    );
    const bundled = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const patterns = [
      ...patternsOf(DEFAULT_MODEL_DOCUMENT),
      ...patternsOf(bundled),
    ];

    expect(patterns.length).toBeGreaterThan(20);
    for (const pattern of patterns) {
      expect(findUnanchoredPair(pattern), pattern).toBeUndefined();
    }
  });
});

describe('backtracking of runs', () => {
  const rejected = '.*.*.*.*x';
  const accepted = 'vp.*procurement.*';

  it('grows as n^4 for four unbounded parts', () => {
    const short = backtrackingSteps(rejected, 'a'.repeat(20));
    const long = backtrackingSteps(rejected, 'a'.repeat(40));

    expect(findOverlappingRun(`^${rejected}$`)).toBe('.*.*.*');
    expect(short.matched).toBe(false);
    expect(new RegExp(`^${rejected}$`, 'u').test('a'.repeat(20))).toBe(false);
    // Doubling the text multiplies the steps by about 2^4 = 16.
    expect(long.steps / short.steps).toBeGreaterThan(10);
    expect(long.steps).toBeGreaterThan(100_000);
  });

  it('grows as n^3 for two parts without ^', () => {
    const short = unanchoredSteps('.*.*x', 'a'.repeat(20));
    const long = unanchoredSteps('.*.*x', 'a'.repeat(40));

    expect(findUnanchoredPair('.*.*x$')).toBe('.*.*');
    // Doubling the text multiplies the steps by about 2^3 = 8.
    expect(long / short).toBeGreaterThan(6);
  });

  it('grows as n^2 for two parts after ^', () => {
    const short = backtrackingSteps('.*.*x', 'a'.repeat(20));
    const long = backtrackingSteps('.*.*x', 'a'.repeat(40));

    expect(findUnanchoredPair('^.*.*x$')).toBeUndefined();
    // Doubling the text multiplies the steps by about 2^2 = 4.
    expect(long.steps / short.steps).toBeGreaterThan(3);
    expect(long.steps / short.steps).toBeLessThan(5);
  });

  it('grows linearly for vp.*procurement.*', () => {
    const short = backtrackingSteps(accepted, `vp${'a'.repeat(20)}`);
    const long = backtrackingSteps(accepted, `vp${'a'.repeat(40)}`);

    expect(findOverlappingRun(`^${accepted}$`)).toBeUndefined();
    expect(short.matched).toBe(false);
    expect(new RegExp(`^${accepted}$`, 'u').test(`vp${'a'.repeat(20)}`)).toBe(
      false,
    );
    expect(backtrackingSteps(accepted, 'vpxprocurementy').matched).toBe(true);
    expect(long.steps / short.steps).toBeLessThan(3);
    expect(long.steps).toBeLessThan(200);
  });
});

describe('findOverlappingRun on any valid pattern', () => {
  it('returns a part of the pattern or nothing', () => {
    const pieces = fc.constantFrom(
      ...['a', '.', '\\w', '\\s', '\\d', '[a-z]', '[^,]', ',', '@'],
      ...['(', '(?:', '(?=', ')', '|', '^', '$', '\\b'],
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
        const run = findOverlappingRun(pattern);
        if (run !== undefined) expect(pattern).toContain(run);
      }),
      { numRuns: 1000 },
    );
  });
});
