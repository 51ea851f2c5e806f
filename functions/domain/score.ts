import { clickSecondsOf } from './click-bursts.js';
import { timeTermsBelowLevel } from './decay.js';
import { type FitContribution, scoreFit } from './fit.js';
import { type IntentTally, tallyPoints } from './intent-tally.js';
import type { LeadState } from './lead.js';
import type { IntentRule, ScoringModel } from './model.js';
import type { QuarantineReason, QuarantineTally } from './quarantine.js';

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

/** A lead's intent tallies at the positions of their rules in the model. */
export type TalliesInModelOrder = ReadonlyArray<IntentTally | undefined>;

/**
 * Scores a lead at time `at`: fit from its traits plus intent decayed to
 * `at`. Nothing is stored, so reading a score is how decay happens; there
 * is no batch job. Sums run in model order, so equal states give equal
 * bits. Rules that the model no longer has add nothing. `tallies`, when
 * given, must be talliesInModelOrder of the same state and model.
 */
export function scoreLead(
  state: LeadState,
  model: ScoringModel,
  at: number,
  tallies: TalliesInModelOrder = talliesInModelOrder(state, model),
): LeadScore {
  const fitContributions = scoreFit(state.traits, model);
  const clicks = latestScoredClicks(state);
  const rules = model.intentRules;
  const intentContributions: IntentContribution[] = [];
  let intent = 0;
  for (let position = 0; position < rules.length; position += 1) {
    const tally = tallies[position];
    if (tally === undefined || tally.matched === 0) continue;
    const rule = rules[position] as IntentRule;
    const points = tallyPoints(tally, rule, at);
    intent += points;
    const clickAt = clicks === undefined ? undefined : clicks.get(rule.id);
    intentContributions.push({
      ruleId: rule.id,
      description: rule.description,
      matched: tally.matched,
      counted: tally.counted,
      rawPoints: rule.points * tally.matched,
      countedPoints: rule.points * tally.counted,
      points,
      lastAt: laterOf(tally.lastAt, clickAt) ?? state.lastEventAt,
    });
  }
  const fit = fitPoints(fitContributions);
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

/** Returns the sum of fit contributions, in their order. */
function fitPoints(contributions: readonly FitContribution[]): number {
  let fit = 0;
  for (const contribution of contributions) fit += contribution.points;
  return fit;
}

/**
 * Returns the lead's tallies at the positions of their rules in the
 * model. Reading the tallies present is faster than looking up every
 * rule of the model, most of which a lead has no tally for.
 */
export function talliesInModelOrder(
  state: LeadState,
  model: ScoringModel,
): TalliesInModelOrder {
  const { positions } = model.intentIndex;
  const { ruleIds, tallies } = state.intent;
  const ordered = new Array<IntentTally | undefined>(model.intentRules.length);
  for (let index = 0; index < ruleIds.length; index += 1) {
    const position = positions.get(ruleIds[index] as string);
    if (position !== undefined) ordered[position] = tallies[index];
  }
  return ordered;
}

/**
 * Returns the latest time of the email clicks still open to burst
 * detection per rule that scored them, or undefined when there are none.
 * It serves every rule of scoreLead, as lastMatchedAt would per rule.
 */
function latestScoredClicks(state: LeadState): Map<string, number> | undefined {
  let latest: Map<string, number> | undefined;
  for (const second of clickSecondsOf(state)) {
    for (const [ruleId, at] of second.scored) {
      latest ??= new Map();
      const known = latest.get(ruleId);
      if (known === undefined || at > known) latest.set(ruleId, at);
    }
  }
  return latest;
}

/** Returns the later of two optional times. */
function laterOf(
  a: number | undefined,
  b: number | undefined,
): number | undefined {
  if (a === undefined) return b;
  if (b === undefined || b <= a) return a;
  return b;
}

/** Returns the quarantine tallies as a list sorted by reason. */
function quarantineSummary(state: LeadState): QuarantineSummary[] {
  const summary: QuarantineSummary[] = [];
  const { quarantined } = state;
  for (const reason in quarantined) {
    const tally = quarantined[reason as QuarantineReason] as QuarantineTally;
    summary.push({
      reason: reason as QuarantineReason,
      count: tally.count,
      lastAt: tally.lastAt,
    });
  }
  if (summary.length > 1) {
    summary.sort((a, b) => (a.reason < b.reason ? -1 : 1));
  }
  return summary;
}

/**
 * Returns the earliest time at or after `from` when the lead's score,
 * rounded to cents, is below `level` if no new event arrives, or
 * undefined if decay never takes it there. `from` must not precede the lead's intent events.
 * `tallies` and `score`, when given, must be talliesInModelOrder and a
 * scoreLead result of the same state and model. The points of a score at
 * `from` are reused, so that each evaluation decays every tally once.
 */
export function timeScoreBelow(
  state: LeadState,
  model: ScoringModel,
  level: number,
  from: number,
  tallies: TalliesInModelOrder = talliesInModelOrder(state, model),
  score?: LeadScore,
): number | undefined {
  let base = score?.fit ?? fitPoints(scoreFit(state.traits, model));
  const known = score?.at === from ? score.intentContributions : [];
  let next = 0;
  const rules = model.intentRules;
  if (termPoints.length < rules.length) {
    termPoints = new Float64Array(rules.length);
    termRetentions = new Float64Array(rules.length);
  }
  let terms = 0;
  for (let position = 0; position < rules.length; position += 1) {
    const tally = tallies[position];
    if (tally === undefined) continue;
    const rule = rules[position] as IntentRule;
    // Contributions follow model order but leave out unmatched tallies.
    const contribution = known[next];
    let points: number;
    if (contribution?.ruleId === rule.id) {
      points = contribution.points;
      next += 1;
    } else {
      points = tallyPoints(tally, rule, from);
    }
    if (rule.points > 0 && points > 0) {
      termPoints[terms] = points;
      termRetentions[terms] = rule.retentionPerQuarter;
      terms += 1;
    } else {
      base += points;
    }
  }
  return timeTermsBelowLevel(
    from,
    base,
    termPoints,
    termRetentions,
    level,
    terms,
  );
}

/**
 * Points and retentions per quarter of the decaying terms of
 * timeScoreBelow, reused by every call, because two new arrays per
 * evaluation of an MQL cost more than its arithmetic (core benchmark).
 * The calls run synchronously and no reference to the buffers outlives
 * one, so calls never see each other's terms.
 */
let termPoints = new Float64Array(0);
let termRetentions = new Float64Array(0);
