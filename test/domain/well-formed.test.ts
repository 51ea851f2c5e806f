import { describe, expect, it } from 'vitest';
import { segmentMessageSchema } from '../../functions/domain/messages.js';
import {
  wellFormedJson,
  wellFormedText,
} from '../../functions/domain/well-formed.js';

describe('wellFormedText', () => {
  it.each([
    ['a lone high surrogate', 'a\ud800b', 'a\ufffdb'],
    ['a lone low surrogate', 'a\udc00b', 'a\ufffdb'],
    ['two high surrogates', '\ud83d\ud83d', '\ufffd\ufffd'],
    ['a high surrogate at the end', 'ab\ud83d', 'ab\ufffd'],
  ])('replaces %s', (_name, text, expected) => {
    expect(wellFormedText(text)).toBe(expected);
  });

  it('keeps a surrogate pair', () => {
    expect(wellFormedText('ok 😀')).toBe('ok 😀');
  });
});

describe('wellFormedJson', () => {
  it('returns a value without lone surrogates unchanged', () => {
    const value = { plan: 'pro', tags: ['a', 'b'], nested: { emoji: '😀' } };
    expect(wellFormedJson(value)).toBe(value);
  });

  it('repairs strings and keys at any depth, in key order', () => {
    const value = JSON.parse(
      '{"a": 1, "b\\ud800": ["x\\udc00", {"c": "\\ud83d"}], "d": null}',
    );

    const repaired = wellFormedJson(value);

    expect(repaired).toEqual({
      a: 1,
      'b\ufffd': ['x\ufffd', { c: '\ufffd' }],
      d: null,
    });
    expect(Object.keys(repaired)).toEqual(['a', 'b\ufffd', 'd']);
  });

  it('keeps a key named __proto__ an own property', () => {
    const value = JSON.parse('{"__proto__": {"x": "\\ud800"}}');

    const repaired = wellFormedJson(value) as Record<string, unknown>;

    expect(Object.getPrototypeOf(repaired)).toBe(Object.prototype);
    expect(
      Object.getOwnPropertyDescriptor(repaired, '__proto__')?.value,
    ).toEqual({ x: '\ufffd' });
  });

  it('walks a nesting deeper than the call stack', () => {
    const depth = 200_000;
    const value = JSON.parse(
      `${'['.repeat(depth)}"\\ud800"${']'.repeat(depth)}`,
    );

    let inner: unknown = wellFormedJson(value);
    for (let level = 0; level < depth; level += 1) {
      inner = (inner as unknown[])[0];
    }

    expect(inner).toBe('\ufffd');
  });
});

describe('messages with lone surrogates', () => {
  it('repairs free text and keeps the message', () => {
    const message = JSON.parse(
      '{"type": "track", "userId": "u1", "event": "Demo\\ud800", "properties": {"path\\udc00": "/pricing\\ud83d"}}',
    );

    const parsed = segmentMessageSchema.parse(message);

    expect(parsed).toMatchObject({
      type: 'track',
      event: 'Demo\ufffd',
      properties: { 'path\ufffd': '/pricing\ufffd' },
    });
  });

  it('still rejects a lone surrogate in an id', () => {
    const message = { type: 'track', userId: 'u\ud800', event: 'Demo' };

    const parsed = segmentMessageSchema.safeParse(message);

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['userId']);
  });
});
