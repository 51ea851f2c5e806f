import { describe, expect, it } from 'vitest';
import { traitNumber } from '../../functions/domain/trait-number.js';

describe('traitNumber', () => {
  it.each([
    { text: '12000', expected: 12_000 },
    { text: ' 12000 ', expected: 12_000 },
    { text: '12 000', expected: 12_000 },
    { text: '12_000', expected: 12_000 },
    { text: '1.2e4', expected: 12_000 },
    { text: '-2.5', expected: -2.5 },
    { text: '0.500', expected: 0.5 },
    { text: '1000.125', expected: 1000.125 },
    { text: '12,000', expected: 12_000 },
    { text: '1,234,567.5', expected: 1_234_567.5 },
    { text: '12,34,567', expected: 1_234_567 },
    { text: '1.234.567', expected: 1_234_567 },
    { text: '1.234.567,25', expected: 1_234_567.25 },
    { text: '25.000,00', expected: 25_000 },
  ])('reads $text as $expected', ({ text, expected }) => {
    expect(traitNumber(text)).toBe(expected);
  });

  it.each([
    { text: '25.000', reason: 'a dot that may group or be a point' },
    { text: '100.000', reason: 'a dot that may group or be a point' },
    { text: '2,5', reason: 'a decimal comma without grouping dots' },
    { text: '0,500', reason: 'a decimal comma after a zero' },
    { text: '-0,250', reason: 'a decimal comma after a zero' },
    { text: '0,00,500', reason: 'Indian groups after a zero' },
    { text: '0.000.500', reason: 'dot groups after a zero' },
    { text: '1,2345', reason: 'a comma group of four digits' },
    { text: '1,234.567,8', reason: 'commas on both sides of a dot' },
    { text: '1.234.56', reason: 'a dot group of two digits' },
    { text: '0x2EE0', reason: 'a hexadecimal literal' },
    { text: '0b101', reason: 'a binary literal' },
    { text: '1e999', reason: 'a value beyond the finite numbers' },
    { text: '', reason: 'empty text' },
    { text: 'about 500', reason: 'words' },
  ])('reads $text as no number: $reason', ({ text }) => {
    expect(traitNumber(text)).toBeUndefined();
  });

  it('reads finite JSON numbers as they are', () => {
    expect(traitNumber(42)).toBe(42);
    expect(traitNumber(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(traitNumber(true)).toBeUndefined();
  });
});
