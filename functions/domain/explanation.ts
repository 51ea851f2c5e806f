import type { QuarantineReason } from './quarantine.js';
import type { LeadScore } from './score.js';
import { toIso } from './time.js';

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
 * remainder rounding). The shown score and fit are the exact ones rounded
 * to cents, the values that qualification compares with its threshold
 * and minimum fit, and the shown intent is their difference.
 * Contributions are listed by size, largest first.
 */
export function explainScore(score: LeadScore): ScoreExplanation {
  const cents = contributionCents(score);
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
  return {
    at: toIso(score.at),
    modelVersion: score.modelVersion,
    ...explainTotals(score),
    contributions,
    quarantined: score.quarantined.map((q) => ({
      reason: q.reason,
      count: q.count,
      lastAt: toIso(q.lastAt),
    })),
  };
}

/** The score, fit and intent of a ScoreExplanation. */
export type ExplainedTotals = Pick<
  ScoreExplanation,
  'score' | 'fit' | 'intent'
>;

/**
 * Returns the score, fit and intent that explainScore shows, without
 * building its contribution and quarantine lines or their ISO times. The
 * ingest response shows only these totals for each lead of a request.
 */
export function explainTotals(score: LeadScore): ExplainedTotals {
  // The apportioned cents of the contributions add up to these totals, so
  // they need not be built here.
  return shownTotals(score.score, score.fit);
}

/**
 * Rounds a score and its fit to cents and returns them with the intent
 * as their difference, so that fit and intent add up to the score.
 */
export function shownTotals(score: number, fit: number): ExplainedTotals {
  // Adding 0 turns a -0 into 0.
  const fitCents = Math.round(fit * 100) + 0;
  const scoreCents = Math.round(score * 100) + 0;
  return {
    score: scoreCents / 100,
    fit: fitCents / 100,
    intent: (scoreCents - fitCents) / 100,
  };
}

/**
 * Returns the shown cents of the fit, then the intent contributions. Fit
 * and intent are apportioned apart, because apportioning all of them at
 * once shows fit 24.992 beside intent 0.004 as a fit of 25.00.
 */
function contributionCents(score: LeadScore): number[] {
  const fitCents = Math.round(score.fit * 100);
  const scoreCents = Math.round(score.score * 100);
  return [
    ...apportionCents(
      score.fitContributions.map((c) => c.points),
      fitCents,
    ),
    ...apportionCents(
      score.intentContributions.map((c) => c.points),
      scoreCents - fitCents,
    ),
  ];
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

/**
 * Tells whether a score, rounded to cents as the API shows it, is below
 * `level`. Recycling compares with this, so a lead never shows a score
 * equal to the recycle level after it was recycled for falling below it.
 */
export function isBelowInCents(value: number, level: number): boolean {
  return roundCents(value) < level;
}

/** Rounds `values` to whole cents that add up to `totalCents`. */
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
  // Floating point can make the floors exceed the total by a cent. Fit
  // -21 + 13.5 + 5.495 rounds to -2.00 and the score with 36.5 of intent
  // to 34.49, which leaves 36.49 for an intent of exactly 36.5. The values
  // with the smallest remainders give such cents back.
  for (let position = byRemainder.length - 1; position >= 0; position -= 1) {
    if (missing >= 0) break;
    const { index } = byRemainder[position] as { index: number };
    cents[index] = (cents[index] ?? 0) - 1;
    missing += 1;
  }
  return cents;
}

function sumOf(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
