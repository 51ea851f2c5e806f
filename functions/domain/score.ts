import { clickSecondsOf, latestClickAt } from './click-bursts.js';
import { timeTermsBelowLevel } from './decay.js';
import { type FitContribution, scoreFit } from './fit.js';
import { type IntentTally, tallyPoints } from './intent-tally.js';
import type { LeadState } from './lead.js';
import type { IntentRule, ScoringModel } from './model.js';
import type {
  ClickSecond,
  QuarantineReason,
  QuarantineTally,
} from './quarantine.js';

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
  /** Fit contributions, one list shared by scores of one traits record. */
  fitContributions: readonly FitContribution[];
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
  const fit = fitPoints(fitContributions);
  const seconds = clickSecondsOf(state);
  const clicks =
    seconds.length > MAX_SCANNED_SECONDS
      ? latestScoredClicks(seconds)
      : undefined;
  const rules = model.intentRules;
  // The terms of timeScoreBelow at `at`, gathered in the same pass.
  const terms = openTerms(rules.length);
  let base = fit;
  // Sized for every tally and cut to the contributions after the loop,
  // because V8 ran each push here as a call to its builtin (core
  // benchmark, Node 20).
  const intentContributions = new Array<IntentContribution>(
    state.intent.tallies.length,
  );
  let contributionCount = 0;
  let intent = 0;
  for (let position = 0; position < rules.length; position += 1) {
    const tally = tallies[position];
    if (tally === undefined) continue;
    const rule = rules[position] as IntentRule;
    const points = tallyPoints(tally, rule, at);
    base = addTerm(terms, base, rule, points);
    if (tally.matched === 0) continue;
    intent += points;
    const clickAt =
      clicks === undefined
        ? latestClickAt(seconds, rule.id)
        : clicks.get(rule.id);
    intentContributions[contributionCount] = {
      ruleId: rule.id,
      description: rule.description,
      matched: tally.matched,
      counted: tally.counted,
      rawPoints: rule.points * tally.matched,
      countedPoints: rule.points * tally.counted,
      points,
      lastAt: laterOf(tally.lastAt, clickAt) ?? state.lastEventAt,
    };
    contributionCount += 1;
  }
  // Setting the length it already has still runs V8's length setter, so
  // skipping it scored about 4 % more events per second with one event
  // per request (core workload, Node 20).
  if (contributionCount !== intentContributions.length) {
    intentContributions.length = contributionCount;
  }
  const score: LeadScore = {
    at,
    modelVersion: model.version,
    score: fit + intent,
    fit,
    intent,
    fitContributions,
    intentContributions,
    quarantined: quarantineSummary(state),
  };
  terms.base = base;
  terms.score = score;
  return score;
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
 * Click seconds up to which scoreLead scans a lead's open clicks per rule.
 * Clicks stay open for a day, so a lead mostly has a few, and scanning a
 * few per rule costs less than building a Map of them (core benchmark).
 * More get a Map, so that the cost stays linear in the clicks.
 */
const MAX_SCANNED_SECONDS = 4;

/**
 * Returns the latest time of the email clicks in `seconds` per rule that
 * scored them, or undefined when there are none. It serves every rule of
 * scoreLead, as latestClickAt would per rule.
 */
function latestScoredClicks(
  seconds: readonly ClickSecond[],
): Map<string, number> | undefined {
  let latest: Map<string, number> | undefined;
  for (const second of seconds) {
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
 * scoreLead result of the same state and model. When `score` is the
 * latest scoreLead result and is at `from`, its terms are reused, so that
 * each evaluation decays every tally once.
 */
export function timeScoreBelow(
  state: LeadState,
  model: ScoringModel,
  level: number,
  from: number,
  tallies: TalliesInModelOrder = talliesInModelOrder(state, model),
  score?: LeadScore,
): number | undefined {
  let terms = lastTerms;
  if (score === undefined || terms.score !== score || score.at !== from) {
    const rules = model.intentRules;
    terms = openTerms(rules.length);
    let base = fitPoints(scoreFit(state.traits, model));
    for (let position = 0; position < rules.length; position += 1) {
      const tally = tallies[position];
      if (tally === undefined) continue;
      const rule = rules[position] as IntentRule;
      base = addTerm(terms, base, rule, tallyPoints(tally, rule, from));
    }
    terms.base = base;
  }
  return timeTermsBelowLevel(
    from,
    terms.base,
    terms.points,
    terms.retentions,
    level,
    terms.count,
  );
}

/**
 * A lead's rule points at one time split as timeTermsBelowLevel reads
 * them: `base` is the fit plus the points that never decay, and the first
 * `count` entries of `points` and `retentions` are the positive points
 * that decay and their retentions per quarter, all in model order.
 */
interface ReviewTerms {
  /** The scoreLead result whose points these are, if any. */
  score: LeadScore | undefined;
  base: number;
  count: number;
  points: Float64Array;
  retentions: Float64Array;
}

/**
 * The terms of the latest scoreLead call, or of the latest
 * timeScoreBelow call that did not reuse them. Evaluating an MQL scores
 * it and then times its recycle from the same points, so one pass over
 * the rules serves both: it took about 7 % off evaluateLead in the core
 * benchmark (Node 20). Reused buffers cost less than new arrays per call.
 * Every caller runs synchronously and keeps no reference to them.
 */
const lastTerms: ReviewTerms = {
  score: undefined,
  base: 0,
  count: 0,
  points: new Float64Array(0),
  retentions: new Float64Array(0),
};

/** Empties lastTerms for `rules` rules at most and returns it. */
function openTerms(rules: number): ReviewTerms {
  const terms = lastTerms;
  terms.score = undefined;
  terms.count = 0;
  if (terms.points.length < rules) {
    terms.points = new Float64Array(rules);
    terms.retentions = new Float64Array(rules);
  }
  return terms;
}

/**
 * Adds a rule's points to the terms when they decay, and returns `base`
 * plus the points otherwise.
 */
function addTerm(
  terms: ReviewTerms,
  base: number,
  rule: IntentRule,
  points: number,
): number {
  if (rule.points > 0 && points > 0) {
    terms.points[terms.count] = points;
    terms.retentions[terms.count] = rule.retentionPerQuarter;
    terms.count += 1;
    return base;
  }
  return base + points;
}
