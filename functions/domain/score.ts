import { decayFactor, timeBelowLevel } from './decay.js';
import { type FitContribution, scoreFit } from './fit.js';
import { type LeadState, retentionOf, traitValues } from './lead.js';
import type { ScoringModel } from './model.js';

/** Points an intent rule adds at the scoring time. */
export interface IntentContribution {
  ruleId: string;
  description: string;
  count: number;
  /** Sum of the counted events' points before decay. */
  rawPoints: number;
  /** Points after decay to the scoring time. */
  points: number;
  lastAt: number;
}

/** A lead's exact score at one time, with every contribution. */
export interface LeadScore {
  at: number;
  score: number;
  fit: number;
  intent: number;
  fitContributions: FitContribution[];
  intentContributions: IntentContribution[];
}

/**
 * Scores a lead at time `at`: fit from its traits plus intent decayed from
 * `intentAsOf` to `at`. Nothing is stored, so reading a score is how decay
 * happens; there is no batch job.
 */
export function scoreLead(
  state: LeadState,
  model: ScoringModel,
  at: number,
): LeadScore {
  const fitContributions = scoreFit(traitValues(state), model);
  const elapsed = at - state.intentAsOf;
  const intentContributions = Object.entries(state.intent).map(
    ([ruleId, tally]) => ({
      ruleId,
      description:
        model.intentRulesById.get(ruleId)?.description ??
        `Rule ${ruleId}, not in model ${model.version}`,
      count: tally.count,
      rawPoints: tally.rawPoints,
      points:
        tally.points > 0
          ? tally.points * decayFactor(retentionOf(ruleId, model), elapsed)
          : tally.points,
      lastAt: tally.lastAt,
    }),
  );
  const fit = sum(fitContributions.map((c) => c.points));
  const intent = sum(intentContributions.map((c) => c.points));
  return {
    at,
    score: fit + intent,
    fit,
    intent,
    fitContributions,
    intentContributions,
  };
}

/**
 * Returns the earliest time at or after `intentAsOf` when the lead's score
 * is below `level`, or undefined if decay never takes it there.
 */
export function timeScoreBelow(
  state: LeadState,
  model: ScoringModel,
  level: number,
): number | undefined {
  const base =
    sum(scoreFit(traitValues(state), model).map((c) => c.points)) +
    sum(
      Object.values(state.intent)
        .filter((tally) => tally.points <= 0)
        .map((tally) => tally.points),
    );
  const terms = Object.entries(state.intent)
    .filter(([, tally]) => tally.points > 0)
    .map(([ruleId, tally]) => ({
      points: tally.points,
      retentionPerQuarter: retentionOf(ruleId, model),
    }));
  return timeBelowLevel(state.intentAsOf, base, terms, level);
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
