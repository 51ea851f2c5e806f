import { describe, expect, it } from 'vitest';
import { decayFactor, timeBelowLevel } from '../../functions/domain/decay.js';
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

  function bruteForce(
    base: number,
    terms: { points: number; retentionPerQuarter: number }[],
    level: number,
  ): number {
    const value = (t: number) =>
      terms.reduce(
        (sum, term) =>
          sum + term.points * decayFactor(term.retentionPerQuarter, t - start),
        base,
      );
    let t = start;
    while (value(t) >= level) t += 60_000;
    return t;
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
  ])(
    'matches a minute-by-minute search (base $base)',
    ({ base, terms, level }) => {
      const crossing = timeBelowLevel(start, base, terms, level);
      const expected = bruteForce(base, terms, level);

      expect(crossing).toBeDefined();
      expect(Math.abs((crossing ?? 0) - expected)).toBeLessThanOrEqual(60_000);
    },
  );

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

  it('lands strictly below the level at the returned time', () => {
    const terms = [{ points: 80, retentionPerQuarter: 0.75 }];
    const crossing = timeBelowLevel(start, 40, terms, 60) ?? 0;
    const value = (t: number) => 40 + 80 * decayFactor(0.75, t - start);

    expect(value(crossing)).toBeLessThan(60);
    expect(value(crossing - 2)).toBeGreaterThanOrEqual(60);
  });
});
