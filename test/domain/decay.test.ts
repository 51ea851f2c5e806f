import { describe, expect, it } from 'vitest';
import { decayFactor, timeBelowLevel } from '../../functions/domain/decay.js';
import { roundCents } from '../../functions/domain/explanation.js';
import { DAY_MS, QUARTER_MS } from '../../functions/domain/time.js';

describe('decayFactor', () => {
  it.each([
    { retention: 0.75, elapsed: QUARTER_MS, expected: 0.75 },
    { retention: 0.75, elapsed: 2 * QUARTER_MS, expected: 0.5625 },
    { retention: 0.75, elapsed: 0, expected: 1 },
    { retention: 0.75, elapsed: -DAY_MS, expected: 1 },
    { retention: 1, elapsed: 10 * QUARTER_MS, expected: 1 },
  ])('retains $expected after $elapsed ms at $retention', (row) => {
    expect(decayFactor(row.retention, row.elapsed)).toBeCloseTo(
      row.expected,
      12,
    );
  });

  it('equals one step when applied in several steps', () => {
    const steps = [3, 17, 40, 1].map((days) => days * DAY_MS);
    const stepwise = steps.reduce((f, step) => f * decayFactor(0.7, step), 1);
    const total = steps.reduce((a, b) => a + b, 0);

    expect(stepwise).toBeCloseTo(decayFactor(0.7, total), 12);
  });
});

describe('timeBelowLevel', () => {
  const start = Date.parse('2026-01-01T00:00:00Z');

  function valueAt(
    base: number,
    terms: { points: number; retentionPerQuarter: number }[],
    t: number,
  ): number {
    return terms.reduce(
      (sum, term) =>
        sum + term.points * decayFactor(term.retentionPerQuarter, t - start),
      base,
    );
  }

  /**
   * Returns the first millisecond at which the value rounded to cents is
   * below `level`: minute by minute, then millisecond by millisecond
   * through the minute before.
   */
  function bruteForce(
    base: number,
    terms: { points: number; retentionPerQuarter: number }[],
    level: number,
  ): number {
    const isBelow = (t: number) => roundCents(valueAt(base, terms, t)) < level;
    let t = start;
    while (!isBelow(t)) t += 60_000;
    let first = Math.max(start, t - 60_000);
    while (!isBelow(first)) first += 1;
    return first;
  }

  it.each([
    { base: 40, terms: [{ points: 80, retentionPerQuarter: 0.75 }], level: 60 },
    { base: 0, terms: [{ points: 150, retentionPerQuarter: 0.5 }], level: 100 },
    {
      base: 10,
      terms: [
        { points: 50, retentionPerQuarter: 0.75 },
        { points: 60, retentionPerQuarter: 0.9 },
      ],
      level: 60,
    },
    {
      base: 12.345,
      terms: [{ points: 70.1234, retentionPerQuarter: 0.8 }],
      level: 70.123,
    },
  ])(
    'matches a search of the shown value (base $base)',
    ({ base, terms, level }) => {
      const crossing = timeBelowLevel(start, base, terms, level);

      expect(crossing).toBe(bruteForce(base, terms, level));
    },
  );

  it.each([
    { base: 59.997, below: false },
    { base: 59.993, below: true },
  ])('compares $base with 60 in cents (below: $below)', (row) => {
    const terms = [{ points: 0.001, retentionPerQuarter: 0.75 }];
    const crossing = timeBelowLevel(start, row.base, terms, 60);

    expect(crossing).toBe(row.below ? start : undefined);
  });

  it('returns the start when the value is already below', () => {
    const terms = [{ points: 10, retentionPerQuarter: 0.75 }];

    expect(timeBelowLevel(start, 5, terms, 60)).toBe(start);
  });

  it('returns undefined when decay never reaches the level', () => {
    const terms = [{ points: 80, retentionPerQuarter: 0.75 }];

    expect(timeBelowLevel(start, 70, terms, 60)).toBeUndefined();
  });

  it('returns undefined when nothing decays', () => {
    const terms = [{ points: 80, retentionPerQuarter: 1 }];

    expect(timeBelowLevel(start, 0, terms, 60)).toBeUndefined();
  });

  it('lands half a cent below the level at the returned time', () => {
    const terms = [{ points: 80, retentionPerQuarter: 0.75 }];
    const crossing = timeBelowLevel(start, 40, terms, 60) ?? 0;
    const value = (t: number) => 40 + 80 * decayFactor(0.75, t - start);

    expect(value(crossing)).toBeLessThan(59.995);
    expect(value(crossing)).toBeGreaterThan(59.995 - 1e-6);
    expect(value(crossing - 1)).toBeGreaterThanOrEqual(59.995);
  });
});
