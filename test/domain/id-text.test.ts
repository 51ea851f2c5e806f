import { describe, expect, it } from 'vitest';
import { displayText } from '../../functions/domain/id-text.js';

describe('displayText', () => {
  it('keeps visible text as it is', () => {
    expect(displayText('ann@acme.example')).toBe('ann@acme.example');
    expect(displayText('株式会社トヨタ')).toBe('株式会社トヨタ');
  });

  it.each([
    ['a zero-width space', 'ann\u200b', 'ann\\u{200B}'],
    ['a right-to-left override', '\u202eevil', '\\u{202E}evil'],
    ['a control character', 'a\u0000b', 'a\\u{0}b'],
    ['a Hangul filler', '\u3164', '\\u{3164}'],
    ['a lone surrogate', 'a\ud800', 'a\\u{D800}'],
  ])('writes out %s', (_name, text, expected) => {
    expect(displayText(text)).toBe(expected);
  });

  it('cuts text after 100 code points', () => {
    expect(displayText('😀'.repeat(150))).toBe(
      `${'😀'.repeat(100)}… (150 characters)`,
    );
  });
});
