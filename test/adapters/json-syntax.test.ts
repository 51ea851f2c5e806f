import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeJsonSyntaxError,
  findJsonSyntaxError,
} from '../../functions/adapters/json-syntax.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('findJsonSyntaxError', () => {
  it.each([
    '{}',
    '[]',
    ' {"a": [1, -2.5e+3, "x\\n\\u00e9", true, false, null]} \n',
    '"text"',
    '0',
    '[[[]]]',
  ])('accepts valid JSON %j', (text) => {
    expect(findJsonSyntaxError(text)).toBeUndefined();
  });

  it.each([
    ['{"batch": [1, 2,]}', 16, "trailing comma before ']'"],
    ['{"a": 1,\n "b": 2,\n}', 18, "trailing comma before '}'"],
    ['{"a": }', 6, 'expected a value'],
    ["{'a': 1}", 1, 'names must be in double quotes'],
    ['{"a": \'x\'}', 6, 'strings must be in double quotes'],
    ['{"a" 1}', 5, "expected ':' after a name"],
    ['{"a": 1 "b": 2}', 8, "expected ',' or '}' after a value"],
    ['[1 2]', 3, "expected ',' or ']' after a value"],
    ['{"a": [1}', 8, "expected ',' or ']' after a value"],
    ['{"a": 1}}', 8, 'unexpected text after the end'],
    ['{"a": 1} {"b": 2}', 9, 'unexpected text after the end'],
    ['{"a": [1, {"b": 2', 17, "unexpected end of text; '}]}' missing"],
    ['', 0, 'unexpected end of text; expected a value'],
    ['{"a": "x', 6, 'string without its closing double quote'],
    ['{"a": "x\ty"}', 8, 'control character in a string'],
    ['{"a": "\\x"}', 7, 'invalid escape in a string'],
    ['{"a": "\\u12g4"}', 7, 'invalid escape in a string'],
    ['{"a": 01}', 6, 'invalid number'],
    ['{"a": 1.}', 6, 'invalid number'],
    ['{"a": +1}', 6, 'expected a value'],
    ['{"a": tru}', 6, 'expected a value'],
    ['{"a": NaN}', 6, 'expected a value'],
    ['\uFEFF{}', 0, 'expected a value'],
  ])('locates the error in %j', (text, offset, problem) => {
    const found = findJsonSyntaxError(text);

    expect(parses(text)).toBe(false);
    expect(found?.offset).toBe(offset);
    expect(found?.problem).toContain(problem);
  });

  it('counts lines and columns from 1', () => {
    const found = findJsonSyntaxError('{\n  "a": 1,\n  "b": [2,]\n}');

    expect(found).toMatchObject({ line: 3, column: 11, offset: 22 });
  });

  it('scans deep nesting without recursion', () => {
    const text = `${'['.repeat(200_000)}1,${']'.repeat(200_000)}`;

    expect(findJsonSyntaxError(text)?.problem).toContain('trailing comma');
  });

  it('agrees with JSON.parse on edited JSON texts', () => {
    const edited = fc
      .tuple(fc.jsonValue(), fc.nat(), fc.constantFrom(...',]}"\':\\ 01e.-'))
      .map(([value, position, char]) => {
        const text = JSON.stringify(value, null, 1);
        const at = position % (text.length + 1);
        return position % 2 === 0
          ? text.slice(0, at) + char + text.slice(at)
          : text.slice(0, at) + text.slice(at + 1);
      });

    fc.assert(
      fc.property(fc.oneof(edited, fc.string()), (text) => {
        expect(findJsonSyntaxError(text) === undefined).toBe(parses(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('describeJsonSyntaxError', () => {
  it('names the problem, line and column', () => {
    expect(describeJsonSyntaxError('[1,\n]')).toBe(
      "line 2, column 1: trailing comma before ']'",
    );
  });

  it('returns undefined for valid JSON', () => {
    expect(describeJsonSyntaxError('{"a": 1}')).toBeUndefined();
  });
});
