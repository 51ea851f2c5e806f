import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { areaUnderRoc, type LabelledScore } from '../../scripts/replay/auc.js';

function samples(positives: number[], negatives: number[]): LabelledScore[] {
  return [
    ...positives.map((score) => ({ score, positive: true })),
    ...negatives.map((score) => ({ score, positive: false })),
  ];
}

/** Counts pairs directly: a win is 1, a tie one half. */
function pairwiseAuc(list: readonly LabelledScore[]): number {
  const positives = list.filter((s) => s.positive);
  const negatives = list.filter((s) => !s.positive);
  let wins = 0;
  for (const p of positives) {
    for (const n of negatives) {
      if (p.score > n.score) wins += 1;
      else if (p.score === n.score) wins += 0.5;
    }
  }
  return wins / (positives.length * negatives.length);
}

describe('areaUnderRoc', () => {
  it.each([
    { name: 'perfect ranking', pos: [3, 4], neg: [1, 2], auc: 1 },
    { name: 'inverted ranking', pos: [1, 2], neg: [3, 4], auc: 0 },
    {
      name: 'three of four pairs',
      pos: [0.8, 0.4],
      neg: [0.6, 0.2],
      auc: 0.75,
    },
    { name: 'one tied pair', pos: [1, 2], neg: [1, 0], auc: 0.875 },
    { name: 'ties across classes', pos: [5, 5, 1], neg: [5, 1], auc: 7 / 12 },
  ])('returns $auc for $name', ({ pos, neg, auc }) => {
    expect(areaUnderRoc(samples(pos, neg))).toBeCloseTo(auc, 12);
  });

  it('returns 0.5 when all scores are equal', () => {
    expect(areaUnderRoc(samples([7, 7, 7], [7, 7]))).toBe(0.5);
  });

  it('does not depend on input order', () => {
    const list = samples([0.9, 0.3, 0.5], [0.1, 0.5, 0.7]);
    const reversed = [...list].reverse();
    expect(areaUnderRoc(reversed)).toBe(areaUnderRoc(list));
  });

  it('throws when only positives are given', () => {
    expect(() => areaUnderRoc(samples([1, 2], []))).toThrow(RangeError);
  });

  it('throws when only negatives are given', () => {
    expect(() => areaUnderRoc(samples([], [1, 2]))).toThrow(
      /0 positive and 2 negative/,
    );
  });

  it('throws on an empty list', () => {
    expect(() => areaUnderRoc([])).toThrow(RangeError);
  });

  it('throws on a score that is not finite', () => {
    expect(() => areaUnderRoc(samples([Number.NaN], [1]))).toThrow(
      /must be finite/,
    );
  });

  it('matches pairwise counting on random samples', () => {
    const sample = fc.record({
      score: fc.integer({ min: 0, max: 5 }),
      positive: fc.boolean(),
    });
    const list = fc
      .array(sample, { minLength: 2, maxLength: 60 })
      .filter((l) => l.some((s) => s.positive) && l.some((s) => !s.positive));
    fc.assert(
      fc.property(list, (l) => {
        expect(areaUnderRoc(l)).toBeCloseTo(pairwiseAuc(l), 12);
      }),
    );
  });
});
