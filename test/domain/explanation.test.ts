import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  explainScore,
  explainTotals,
  roundCents,
} from '../../functions/domain/explanation.js';
import type { LeadScore } from '../../functions/domain/score.js';

function scoreOf(fit: number[], intent: number[]): LeadScore {
  const fitContributions = fit.map((points, i) => ({
    ruleId: `fit-${i}`,
    description: 'fit',
    trait: 'title',
    points,
  }));
  const intentContributions = intent.map((points, i) => ({
    ruleId: `intent-${i}`,
    description: 'intent',
    matched: 2,
    counted: 1,
    rawPoints: 20,
    countedPoints: 10,
    points,
    lastAt: 0,
  }));
  const sum = [...fit, ...intent].reduce((a, b) => a + b, 0);
  return {
    at: 0,
    modelVersion: 'abcdef012345',
    score: sum,
    fit: fit.reduce((a, b) => a + b, 0),
    intent: intent.reduce((a, b) => a + b, 0),
    fitContributions,
    intentContributions,
    quarantined: [{ reason: 'click-burst', count: 3, lastAt: 0 }],
  };
}

describe('explainScore', () => {
  it.each([
    { fit: [30, 10], intent: [1 / 3, 1 / 3, 1 / 3] },
    { fit: [0.005, 0.005], intent: [12.345, 7.8901] },
    { fit: [-10, 25.555], intent: [-30, 40.004, 2 / 7] },
  ])('shows contributions that add up to the score', ({ fit, intent }) => {
    const explanation = explainScore(scoreOf(fit, intent));
    const cents = explanation.contributions.map((c) =>
      Math.round(c.points * 100),
    );
    const sum = cents.reduce((a, b) => a + b, 0);

    expect(sum).toBe(Math.round(explanation.score * 100));
    expect(Math.round((explanation.fit + explanation.intent) * 100)).toBe(
      Math.round(explanation.score * 100),
    );
    expect(
      Math.abs(explanation.score - [...fit, ...intent].reduce((a, b) => a + b)),
    ).toBeLessThan(0.006);
  });

  it('shows the fit and score rounded to cents', () => {
    // Values in thousandths of a point reach the half cents where the
    // rounding of a float sum decides.
    const point = fc.oneof(
      fc.double({ min: -100, max: 100, noNaN: true }),
      fc.integer({ min: -100_000, max: 100_000 }).map((n) => n / 1000),
    );
    const points = fc.array(point, { maxLength: 8 });
    fc.assert(
      fc.property(points, points, (fit, intent) => {
        const score = scoreOf(fit, intent);
        const explanation = explainScore(score);
        const cents = explanation.contributions.map((c) =>
          Math.round(c.points * 100),
        );

        // Adding 0 turns -0 into 0, as JSON shows it.
        expect(explanation.fit).toBe(roundCents(score.fit) + 0);
        expect(explanation.score).toBe(roundCents(score.score) + 0);
        expect(cents.reduce((a, b) => a + b, 0)).toBe(
          Math.round(explanation.score * 100),
        );
      }),
    );
  });

  it('takes back a cent that float sums leave over', () => {
    // The fit sums to about -2.005 and rounds to -2.00, and the score to
    // about 34.495, which rounds to 34.49.
    const explanation = explainScore(scoreOf([-21, 13.5, 5.495], [36.5]));

    expect(explanation.fit).toBe(-2);
    expect(explanation.score).toBe(34.49);
    expect(explanation.intent).toBe(36.49);
  });

  it('keeps a cent that the fit rounds away out of the fit', () => {
    const explanation = explainScore(scoreOf([12.496, 12.496], [0.004]));

    expect(explanation.fit).toBe(24.99);
    expect(explanation.intent).toBe(0.01);
    expect(explanation.score).toBe(25);
  });

  it('shows raw, counted and decayed points of intent', () => {
    const explanation = explainScore(scoreOf([], [7.5]));

    expect(explanation.contributions[0]).toMatchObject({
      events: 2,
      counted: 1,
      rawPoints: 20,
      countedPoints: 10,
      points: 7.5,
    });
  });

  it('carries the model version and the quarantined events', () => {
    const explanation = explainScore(scoreOf([10], []));

    expect(explanation.modelVersion).toBe('abcdef012345');
    expect(explanation.quarantined).toEqual([
      { reason: 'click-burst', count: 3, lastAt: '1970-01-01T00:00:00.000Z' },
    ]);
  });

  it('keeps a negative contribution in the sum', () => {
    const explanation = explainScore(scoreOf([30], [-15.004, 20]));

    expect(explanation.score).toBe(35);
    expect(explanation.contributions.map((c) => c.points)).toContain(-15);
  });

  it('lists the largest contributions first', () => {
    const explanation = explainScore(scoreOf([5], [-40, 20]));

    expect(explanation.contributions.map((c) => c.points)).toEqual([
      -40, 20, 5,
    ]);
  });
});

describe('explainTotals', () => {
  it.each([
    { fit: [], intent: [] },
    { fit: [30, 10], intent: [1 / 3, 1 / 3, 1 / 3] },
    { fit: [0.005, 0.005], intent: [12.345, 7.8901] },
    { fit: [-10, 25.555], intent: [-30, 40.004, 2 / 7] },
    { fit: [0.004], intent: [0.004, 0.004] },
    { fit: [60], intent: [39.999994, 0.000003, -0.000001] },
  ])('matches the totals of explainScore', ({ fit, intent }) => {
    const score = scoreOf(fit, intent);
    const explanation = explainScore(score);
    const totals = explainTotals(score);

    expect(totals.score).toBe(explanation.score);
    expect(totals.fit).toBe(explanation.fit);
    expect(totals.intent).toBe(explanation.intent);
  });

  it('matches explainScore for any points', () => {
    const points = fc.array(fc.double({ min: -100, max: 100, noNaN: true }), {
      maxLength: 8,
    });
    fc.assert(
      fc.property(points, points, (fit, intent) => {
        const score = scoreOf(fit, intent);
        const explanation = explainScore(score);
        const totals = explainTotals(score);

        expect(totals.score).toBe(explanation.score);
        expect(totals.fit).toBe(explanation.fit);
        expect(totals.intent).toBe(explanation.intent);
      }),
    );
  });
});
