import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import {
  DEFAULT_BOT_USER_AGENT_PATTERN,
  DEFAULT_PROXY_USER_AGENT_PATTERN,
} from '../../functions/domain/bot-defaults.js';
import { describeImpossiblePattern } from '../../functions/domain/regex-impossible.js';

const MODELS = resolve(import.meta.dirname, '../../models');

/** Returns every pattern of a model document, as model-check finds them. */
function patternsOf(value: unknown, key = ''): string[] {
  if (typeof value === 'string') {
    return /^(?:pattern|path|\w+Pattern)$/.test(key) ? [value] : [];
  }
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([childKey, child]) =>
    patternsOf(child, Array.isArray(value) ? key : childKey),
  );
}

/** Returns every text of the letters a and b up to `length` long. */
function textsOf(length: number): string[] {
  const texts = [''];
  for (let index = 0; index < texts.length; index += 1) {
    const text = texts[index] ?? '';
    if (text.length < length) texts.push(`${text}a`, `${text}b`);
  }
  return texts;
}

describe('describeImpossiblePattern', () => {
  it.each([
    ['a^b', 'a ^ after a character'],
    ['x^', 'a ^ after a character'],
    ['(?:x)^', 'a ^ after a character'],
    ['.+^', 'a ^ after a character'],
    ['(^a){2}', 'a ^ after a character'],
    ['(a)\\1^', 'a ^ after a character'],
    ['$^x', 'a character that must match after a $'],
    ['$x', 'a character that must match after a $'],
    ['.+$a', 'a character that must match after a $'],
    ['[]', 'the class [], which matches no character'],
    ['a[]b', 'the class [], which matches no character'],
    ['[^\\s\\S]', 'the class [^\\s\\S]'],
    ['[^\\D\\d]', 'the class [^\\D\\d]'],
    ['[^\\w\\W]+', 'the class [^\\w\\W]'],
    ['[^\\p{L}\\P{L}]', 'the class [^\\p{L}\\P{L}]'],
    ['a^b|$c', 'a ^ after a character'],
    ['a^b|$c', 'a character that must match after a $'],
  ])('finds that %s never matches', (pattern, cause) => {
    expect(describeImpossiblePattern(pattern)).toContain(cause);
  });

  it.each([
    'a$',
    '^$',
    '$^',
    '^cfo$',
    'x*^a',
    'a?^b',
    'a{0}^b',
    '(a|^)b',
    'a(^b|c)',
    'a$|^b',
    '(?:a|$)b',
    '(?:$a)?x',
    '(^a)+',
    '(?:^a)*b',
    '[]*',
    '[]?a',
    '[^]',
    '[\\s\\S]',
    '[^\\s]',
    '[^\\sa]',
    '\\b^a',
    '(?=^)a',
    '(a?)\\1^',
    '^/pricing(/|$)',
    '(?:^|\\s)cfo(?:$|\\s)',
    '\\^a\\$b',
    '[$^]a',
  ])('accepts %s', (pattern) => {
    expect(describeImpossiblePattern(pattern)).toBeUndefined();
  });

  it('accepts every pattern of the models', () => {
    const files = readdirSync(MODELS, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.json'))
      .map((file) => join(MODELS, file));
    const patterns = [
      ...patternsOf(DEFAULT_MODEL_DOCUMENT),
      ...files.flatMap((file) =>
        patternsOf(JSON.parse(readFileSync(file, 'utf8')) as unknown),
      ),
      DEFAULT_BOT_USER_AGENT_PATTERN,
      DEFAULT_PROXY_USER_AGENT_PATTERN,
    ];

    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(patterns.length).toBeGreaterThan(20);
    for (const pattern of patterns) {
      expect(describeImpossiblePattern(pattern), pattern).toBeUndefined();
    }
  });
});

describe('describeImpossiblePattern on any valid pattern', () => {
  it('never reports a pattern that matches a text', () => {
    const texts = textsOf(4);
    const pieces = fc.constantFrom(
      ...['a', 'b', '.', '^', '$', '[]', '[^\\s\\S]', '[ab]', '\\b'],
      ...['(', '(?:', '(?=', '(?<!', ')', '|', '*', '+', '?', '{2}', '{0}'],
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 12 }), (parts) => {
        const pattern = parts.join('');
        let regex: RegExp;
        try {
          regex = new RegExp(pattern, 'iu');
        } catch {
          return;
        }
        if (describeImpossiblePattern(pattern) === undefined) return;
        const matched = texts.find((text) => regex.test(text));
        expect(matched, `${pattern} matches ${matched}`).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });
});
