import type { ScoringModel } from '../../../functions/domain/model.js';
import { timeBelowLevel } from './decay.js';
import { type FitContribution, scoreFit } from './fit.js';
import { tallyPoints } from './intent-tally.js';
import { type LeadState, lastMatchedAt } from './lead.js';
import type { QuarantineReason } from './quarantine.js';

/** Points an intent rule adds at the scoring time. */
export interface IntentContribution {
  ruleId: string;
  description: string;
  /** Events that matched the rule and were not quarantined. */
  matched: number;
  /** Matched events that count after the rule's cap. */
  counted: number;
  /** Points of the matched events before caps and decay. */
  rawPoints: number;
  /** Points of the counted events before decay. */
  countedPoints: number;
  /** Points after caps and decay to the scoring time. */
  points: number;
  lastAt: number;
}

/** Events that score nothing because they look like machine activity. */
export interface QuarantineSummary {
  reason: QuarantineReason;
  count: number;
  lastAt: number;
}

/** A lead's exact score at one time, with every contribution. */
export interface LeadScore {
  at: number;
  modelVersion: string;
  score: number;
  fit: number;
  intent: number;
  fitContributions: FitContribution[];
  intentContributions: IntentContribution[];
  quarantined: QuarantineSummary[];
}

/**
 * Scores a lead at time `at`: fit from its traits plus intent decayed to
 * `at`. Nothing is stored, so reading a score is how decay happens; there
 * is no batch job. Sums run in model order, so equal states give equal
 * bits. Rules that the model no longer has add nothing.
 */
export function scoreLead(
  state: LeadState,
  model: ScoringModel,
  at: number,
): LeadScore {
  const fitContributions = scoreFit(state.traits, model);
  const intentContributions: IntentContribution[] = [];
  for (const rule of model.intentRules) {
    const tally = state.intent[rule.id];
    if (tally === undefined || tally.matched === 0) continue;
    intentContributions.push({
      ruleId: rule.id,
      description: rule.description,
      matched: tally.matched,
      counted: tally.counted,
      rawPoints: rule.points * tally.matched,
      countedPoints: rule.points * tally.counted,
      points: tallyPoints(tally, rule, at),
      lastAt: lastMatchedAt(state, rule.id) ?? state.lastEventAt,
    });
  }
  const fit = sum(fitContributions.map((c) => c.points));
  const intent = sum(intentContributions.map((c) => c.points));
  return {
    at,
    modelVersion: model.version,
    score: fit + intent,
    fit,
    intent,
    fitContributions,
    intentContributions,
    quarantined: quarantineSummary(state),
  };
}

function quarantineSummary(state: LeadState): QuarantineSummary[] {
  return Object.entries(state.quarantined)
    .map(([reason, tally]) => ({
      reason: reason as QuarantineReason,
      count: tally.count,
      lastAt: tally.lastAt,
    }))
    .sort((a, b) => (a.reason < b.reason ? -1 : 1));
}

/**
 * Returns the earliest time at or after `from` when the lead's score,
 * rounded to cents, is below `level` if no new event arrives, or
 * undefined if decay never takes it there. `from` must not precede the lead's intent events.
 */
export function timeScoreBelow(
  state: LeadState,
  model: ScoringModel,
  level: number,
  from: number,
): number | undefined {
  let base = sum(scoreFit(state.traits, model).map((c) => c.points));
  const terms: { points: number; retentionPerQuarter: number }[] = [];
  for (const rule of model.intentRules) {
    const tally = state.intent[rule.id];
    if (tally === undefined) continue;
    const points = tallyPoints(tally, rule, from);
    if (rule.points > 0 && points > 0) {
      terms.push({ points, retentionPerQuarter: rule.retentionPerQuarter });
    } else {
      base += points;
    }
  }
  return timeBelowLevel(from, base, terms, level);
}

function sum(values: number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
