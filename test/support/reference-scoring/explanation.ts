import { toIso } from '../../../functions/domain/time.js';
import type { QuarantineReason } from './quarantine.js';
import type { LeadScore } from './score.js';

/** One line of a score explanation, rounded to cents. */
export type ExplainedContribution =
  | {
      kind: 'fit';
      ruleId: string;
      description: string;
      trait: string;
      points: number;
    }
  | {
      kind: 'intent';
      ruleId: string;
      description: string;
      /** Events that matched the rule and were not quarantined. */
      events: number;
      /** Events that count after the rule's cap. */
      counted: number;
      /** Points of all matched events, before caps and decay. */
      rawPoints: number;
      /** Points of the counted events, before decay. */
      countedPoints: number;
      /** Points after caps and decay: the share of the score. */
      points: number;
      lastAt: string;
    };

/** Events kept out of the score for one reason. */
export interface ExplainedQuarantine {
  reason: QuarantineReason;
  count: number;
  lastAt: string;
}

/** A score as shown to people: rounded values that add up exactly. */
export interface ScoreExplanation {
  at: string;
  modelVersion: string;
  score: number;
  fit: number;
  intent: number;
  contributions: ExplainedContribution[];
  quarantined: ExplainedQuarantine[];
}

/**
 * Rounds a score and its contributions to two decimals so that the shown
 * contributions add up exactly to the shown fit, intent and score (largest
 * remainder rounding). Contributions are listed by size, largest first.
 */
export function explainScore(score: LeadScore): ScoreExplanation {
  // Fit and intent are apportioned apart, so the shown fit and score are
  // the exact ones rounded to cents, as qualification compares them.
  const totalFitCents = Math.round(score.fit * 100);
  const cents = [
    ...apportionCents(
      score.fitContributions.map((c) => c.points),
      totalFitCents,
    ),
    ...apportionCents(
      score.intentContributions.map((c) => c.points),
      Math.round(score.score * 100) - totalFitCents,
    ),
  ];
  const fitCount = score.fitContributions.length;
  const contributions: ExplainedContribution[] = [
    ...score.fitContributions.map((c, index) => ({
      kind: 'fit' as const,
      ruleId: c.ruleId,
      description: c.description,
      trait: c.trait,
      points: (cents[index] ?? 0) / 100,
    })),
    ...score.intentContributions.map((c, index) => ({
      kind: 'intent' as const,
      ruleId: c.ruleId,
      description: c.description,
      events: c.matched,
      counted: c.counted,
      rawPoints: roundCents(c.rawPoints),
      countedPoints: roundCents(c.countedPoints),
      points: (cents[fitCount + index] ?? 0) / 100,
      lastAt: toIso(c.lastAt),
    })),
  ];
  contributions.sort(byMagnitude);
  const fitCents = sumOf(cents.slice(0, fitCount));
  const intentCents = sumOf(cents.slice(fitCount));
  return {
    at: toIso(score.at),
    modelVersion: score.modelVersion,
    score: (fitCents + intentCents) / 100,
    fit: fitCents / 100,
    intent: intentCents / 100,
    contributions,
    quarantined: score.quarantined.map((q) => ({
      reason: q.reason,
      count: q.count,
      lastAt: toIso(q.lastAt),
    })),
  };
}

/** Orders by absolute points, largest first, then by rule id. */
function byMagnitude(
  a: { points: number; ruleId: string },
  b: { points: number; ruleId: string },
): number {
  const difference = Math.abs(b.points) - Math.abs(a.points);
  if (difference !== 0) return difference;
  return a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0;
}

/** Rounds a number to two decimals. */
export function roundCents(value: number): number {
  return Math.round(value * 100) / 100;
}

function apportionCents(values: number[], totalCents: number): number[] {
  const cents = values.map((value) => Math.floor(value * 100));
  let missing = totalCents - sumOf(cents);
  const byRemainder = values
    .map((value, index) => ({
      index,
      remainder: value * 100 - Math.floor(value * 100),
    }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of byRemainder) {
    if (missing <= 0) break;
    cents[index] = (cents[index] ?? 0) + 1;
    missing -= 1;
  }
  // Floating point can make the floors exceed the total by a cent.
  for (const { index } of [...byRemainder].reverse()) {
    if (missing >= 0) break;
    cents[index] = (cents[index] ?? 0) - 1;
    missing += 1;
  }
  return cents;
}

function sumOf(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
