import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import {
  DEFAULT_BOT_USER_AGENT_PATTERN,
  DEFAULT_PROXY_USER_AGENT_PATTERN,
} from '../../functions/domain/bot-defaults.js';
import { describeSlowPattern } from '../../functions/domain/pattern-safety.js';

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

describe('describeSlowPattern', () => {
  it('accepts every pattern of the bundled models', () => {
    const file = resolve(
      import.meta.dirname,
      '../../models/procurement-software.json',
    );
    const bundled = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const patterns = [
      ...patternsOf(DEFAULT_MODEL_DOCUMENT),
      ...patternsOf(bundled),
      DEFAULT_BOT_USER_AGENT_PATTERN,
      DEFAULT_PROXY_USER_AGENT_PATTERN,
    ];

    expect(patterns.length).toBeGreaterThan(20);
    for (const pattern of patterns) {
      expect(describeSlowPattern(pattern), pattern).toBeUndefined();
    }
  });

  it.each([
    '^/pricing',
    '(chief|vp).*procurement',
    '\\bcfo\\b',
    '^/blog(/[\\w-]+)*$',
    '(\\d{1,3}\\.){3}\\d{1,3}',
    '\\\\1',
  ])('accepts %s', (pattern) => {
    expect(describeSlowPattern(pattern)).toBeUndefined();
  });

  it.each([
    ['(a+){1,10000}', 'repeats (a+){1,10000} up to 10,000 times'],
    ['(\\w+\\s?){2,200}', 'repeats (\\w+\\s?){2,200}, a group with a part'],
    ['a{1,100000}b{1,100000}', 'repeats a{1,100000} up to 100,000 times'],
    ['(a|a)*', 'has (a|a)*, alternatives inside a repeat'],
    ['(\\w|\\d)+$', 'has (\\w|\\d)+, alternatives inside a repeat'],
    ['(ab|a|b)*c', 'has (ab|a|b)*, alternatives inside a repeat'],
    ['\\w+\\w+$', 'has \\w+\\w+, two unbounded parts'],
    ['.*.*=.*', 'has .*.*=.*, three or more unbounded parts'],
    ['.*.*=', 'has .*.*, two unbounded parts'],
    ['^a{0,10}a{0,10}a{0,10}!', 'has a{0,10}a{0,10}a{0,10}, parts of'],
    ['^(\\w*)(\\w*)\\1\\2!', 'uses the backreference \\1, which'],
    ['^(?<word>\\w+) (?:\\k<word>)$', 'uses the backreference \\k<word>'],
  ])('rejects %s', (pattern, message) => {
    expect(describeSlowPattern(pattern)).toContain(message);
  });

  it('limits the length to 4,096 characters', () => {
    expect(describeSlowPattern('a'.repeat(4096))).toBeUndefined();
    expect(describeSlowPattern('a'.repeat(4097))).toContain(
      'must be at most 4,096 characters long',
    );
  });

  it('limits group nesting to 50', () => {
    const nested = (depth: number) =>
      `${'('.repeat(depth)}a${')'.repeat(depth)}`;

    expect(describeSlowPattern(nested(50))).toBeUndefined();
    expect(describeSlowPattern(`[${'('.repeat(60)}]`)).toBeUndefined();
    expect(describeSlowPattern(`${'\\('.repeat(60)}`)).toBeUndefined();
    expect(describeSlowPattern(nested(51))).toContain(
      'nests groups 51 deep, more than 50',
    );
  });
});
