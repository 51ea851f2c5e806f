import { describe, expect, it } from 'vitest';
import { characterCount, displayText } from '../../functions/domain/id-text.js';

describe('characterCount', () => {
  it.each([
    ['ASCII', 'abc', 3],
    ['emoji', '\u{1f600}\u{1f600}', 2],
    ['a lone surrogate', 'a\ud800', 2],
    ['empty text', '', 0],
  ])('counts code points of %s', (_name, text, expected) => {
    expect(characterCount(text)).toBe(expected);
  });
});

describe('displayText', () => {
  it('keeps visible text as it is', () => {
    expect(displayText('ann@acme.example')).toBe('ann@acme.example');
    expect(displayText('Ann Lee')).toBe('Ann Lee');
    expect(displayText('株式会社トヨタ')).toBe('株式会社トヨタ');
  });

  it.each([
    ['a zero-width space', 'ann\u200b', 'ann\\u{200B}'],
    ['a right-to-left override', '\u202eevil', '\\u{202E}evil'],
    ['a control character', 'a\u0000b', 'a\\u{0}b'],
    ['a Hangul filler', '\u3164', '\\u{3164}'],
    ['a lone surrogate', 'a\ud800', 'a\\u{D800}'],
    ['a no-break space', 'ann\u00a0x', 'ann\\u{A0}x'],
    ['an em space', 'ann\u2003x', 'ann\\u{2003}x'],
    ['an ideographic space', 'ann\u3000x', 'ann\\u{3000}x'],
    ['a line separator', 'ann\u2028x', 'ann\\u{2028}x'],
    ['a paragraph separator', 'ann\u2029x', 'ann\\u{2029}x'],
    ['an ogham space mark', 'ann\u1680x', 'ann\\u{1680}x'],
    ['a tab', 'ann\tx', 'ann\\u{9}x'],
    ['a soft hyphen', 'ann\u00adx', 'ann\\u{AD}x'],
    ['a byte order mark', '\ufeffann', '\\u{FEFF}ann'],
  ])('writes out %s', (_name, text, expected) => {
    expect(displayText(text)).toBe(expected);
  });

  it('cuts text after 100 code points', () => {
    expect(displayText('😀'.repeat(150))).toBe(
      `${'😀'.repeat(100)}… (150 characters)`,
    );
  });
});
