import { describe, expect, it } from 'vitest';
import { explainScore } from '../../functions/domain/explanation.js';
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
    count: 1,
    rawPoints: 10,
    points,
    lastAt: 0,
  }));
  const sum = [...fit, ...intent].reduce((a, b) => a + b, 0);
  return {
    at: 0,
    score: sum,
    fit: fit.reduce((a, b) => a + b, 0),
    intent: intent.reduce((a, b) => a + b, 0),
    fitContributions,
    intentContributions,
  };
}

describe('explainScore', () => {
  it.each([
    { fit: [30, 10], intent: [1 / 3, 1 / 3, 1 / 3] },
    { fit: [0.005, 0.005], intent: [12.345, 7.8901] },
    { fit: [-10, 25.555], intent: [-30, 40.004, 2 / 7] },
  ])('shows contributions that add up to the score', ({ fit, intent }) => {
    const shown = explainScore(scoreOf(fit, intent));
    const cents = shown.contributions.map((c) => Math.round(c.points * 100));
    const sum = cents.reduce((a, b) => a + b, 0);

    expect(sum).toBe(Math.round(shown.score * 100));
    expect(Math.round((shown.fit + shown.intent) * 100)).toBe(
      Math.round(shown.score * 100),
    );
    expect(
      Math.abs(shown.score - [...fit, ...intent].reduce((a, b) => a + b)),
    ).toBeLessThan(0.006);
  });

  it('lists the largest contributions first', () => {
    const shown = explainScore(scoreOf([5], [-40, 20]));

    expect(shown.contributions.map((c) => c.points)).toEqual([-40, 20, 5]);
  });
});
