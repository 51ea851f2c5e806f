import { explainTotals, isBelowInCents, roundCents } from './explanation.js';
import {
  type EpisodeRecord,
  type LeadState,
  type LeadStatus,
  lastActivityOf,
} from './lead.js';
import { shallowCopy } from './lead-copy.js';
import type { ScoringModel } from './model.js';
import {
  type LeadScore,
  scoreLead,
  type TalliesInModelOrder,
  talliesInModelOrder,
  timeScoreBelow,
} from './score.js';
import { DAY_MS } from './time.js';

/** Qualifications kept in a lead's history. Older ones are dropped. */
export const MAX_EPISODE_RECORDS = 20;

/** A change of lead status, the cause of an outgoing event. */
export interface Transition {
  kind: 'qualified' | 'recycled';
  from: LeadStatus;
  to: LeadStatus;
  episode: number;
  /** When the change took effect (for decay, the exact crossing time). */
  at: number;
  score: LeadScore;
  reason: string;
}

/** The result of evaluating a lead: its new state and what changed. */
export interface Evaluation {
  state: LeadState;
  score: LeadScore;
  transitions: Transition[];
}

/**
 * Evaluates qualification at time `now` with hysteresis: a lead qualifies
 * when its score reaches the threshold and its fit reaches the minimum, and
 * stays an MQL until its decayed score falls below the recycle level,
 * both compared rounded to cents. A
 * recycled lead qualifies again only after the cooldown and new activity.
 */
export function evaluateLead(
  state: LeadState,
  model: ScoringModel,
  now: number,
): Evaluation {
  const next = copyStatus(state);
  // The score depends on traits and events only, not on the status, so
  // one score at `now` serves every step below.
  const tallies = talliesInModelOrder(next, model);
  const score = scoreLead(next, model, now, tallies);
  const transitions: Transition[] = [];
  if (next.status === 'mql') {
    const recycled = recycleIfBelowLevel(next, model, now, score, tallies);
    if (recycled !== undefined) transitions.push(recycled);
  }
  if (next.status !== 'mql') {
    const qualified = qualifyIfEligible(next, model, now, score);
    if (qualified !== undefined) transitions.push(qualified);
  }
  return finish(next, model, now, transitions, score, tallies);
}

/**
 * Recycles an MQL at time `now` because sales sent it back, whatever its
 * score. The cooldown starts now. Returns the evaluation with no
 * transition when the lead is not an MQL.
 */
export function recycleBySales(
  state: LeadState,
  model: ScoringModel,
  now: number,
  note: string,
): Evaluation {
  return recycleNow(state, model, now, `recycled by sales: ${note}`);
}

/**
 * Evaluates a lead at `now` and, if it is still an MQL, recycles it with
 * `reason` whatever its score.
 */
export function recycleNow(
  state: LeadState,
  model: ScoringModel,
  now: number,
  reason: string,
): Evaluation {
  const evaluation = evaluateLead(state, model, now);
  if (evaluation.state.status !== 'mql') {
    return evaluation;
  }
  const next = evaluation.state;
  const tallies = talliesInModelOrder(next, model);
  const transition = recycle(next, model, now, reason, tallies);
  return finish(
    next,
    model,
    now,
    [...evaluation.transitions, transition],
    evaluation.score,
    tallies,
  );
}

/**
 * Returns a copy of a lead whose status, review time and last score can
 * change. Every record is shared with `state`, because evaluation only
 * reads them and replaces the last score, and so are the episodes until
 * a transition copies them (see ownEpisodes).
 */
function copyStatus(state: LeadState): LeadState {
  return shallowCopy(state);
}

/**
 * Gives a lead its own copy of its episodes before a transition changes
 * them, because copyStatus shares them with the evaluated state.
 */
function ownEpisodes(state: LeadState): EpisodeRecord[] {
  state.episodes = state.episodes.map((episode) => ({ ...episode }));
  return state.episodes;
}

/**
 * Stores the review time and the last score on an evaluated lead.
 * `tallies` are talliesInModelOrder of the lead, and `score` is its
 * score at `now`.
 */
function finish(
  state: LeadState,
  model: ScoringModel,
  now: number,
  transitions: Transition[],
  score: LeadScore,
  tallies: TalliesInModelOrder,
): Evaluation {
  state.nextReviewAt = reviewAfter(state, model, now, tallies, score);
  // Fields named one by one, because spreading the totals scored about
  // 5 % fewer events per second with one event per request (core
  // workload, Node 20).
  const totals = explainTotals(score);
  state.lastScore = {
    at: now,
    score: totals.score,
    fit: totals.fit,
    intent: totals.intent,
    modelVersion: model.version,
  };
  return { state, score, transitions };
}

/**
 * Returns the review time stored after an evaluation at `now`. A review
 * that is not after `now` is dropped, except for an MQL. There it means
 * the computed crossing and the score disagree by a rounding error at the
 * crossing millisecond, so the lead is kept for the next sweep.
 */
function reviewAfter(
  state: LeadState,
  model: ScoringModel,
  now: number,
  tallies: TalliesInModelOrder,
  score: LeadScore,
): number | undefined {
  const reviewAt = nextReviewAt(state, model, now, tallies, score);
  if (reviewAt === undefined) return undefined;
  if (reviewAt > now) return reviewAt;
  return state.status === 'mql' ? now + 1 : undefined;
}

/** Maximum reviews one catch-up evaluates; later ones wait for `now`. */
const MAX_CATCH_UP_REVIEWS = 8;

/**
 * Evaluates a lead at each review time it passed up to `until`, in order,
 * so each transition happens at its own time however late the evaluation
 * runs. A skipped, late or doubled sweep, or an event that reaches the
 * lead before the sweep does, then leaves the same state and transitions.
 * After MAX_CATCH_UP_REVIEWS reviews the rest is left to the caller's
 * evaluation at its own time. `score` is the lead's score at the last
 * review evaluated, undefined when no review was due.
 */
export function catchUpReviews(
  state: LeadState,
  model: ScoringModel,
  until: number,
): {
  state: LeadState;
  transitions: Transition[];
  score: LeadScore | undefined;
} {
  let current = state;
  let score: LeadScore | undefined;
  const transitions: Transition[] = [];
  for (let review = 0; review < MAX_CATCH_UP_REVIEWS; review += 1) {
    const dueAt = current.nextReviewAt;
    if (dueAt === undefined || dueAt > until) break;
    const evaluation = evaluateLead(current, model, dueAt);
    current = evaluation.state;
    score = evaluation.score;
    transitions.push(...evaluation.transitions);
  }
  return { state: current, transitions, score };
}

function recycleIfBelowLevel(
  state: LeadState,
  model: ScoringModel,
  now: number,
  score: LeadScore,
  tallies: TalliesInModelOrder,
): Transition | undefined {
  const { recycleBelow } = model.qualification;
  // Compared as shown, in cents, like the threshold, and so is the
  // crossing time that timeScoreBelow returns.
  if (!isBelowInCents(score.score, recycleBelow)) {
    return undefined;
  }
  const from = reviewFrom(state, model);
  const crossing =
    from > now
      ? now
      : (timeScoreBelow(state, model, recycleBelow, from, tallies, score) ??
        now);
  const at = Math.min(now, Math.max(crossing, state.statusChangedAt));
  return recycle(
    state,
    model,
    at,
    `score fell below the recycle level ${recycleBelow}`,
    tallies,
  );
}

function recycle(
  state: LeadState,
  model: ScoringModel,
  at: number,
  reason: string,
  tallies: TalliesInModelOrder,
): Transition {
  state.status = 'recycled';
  state.recycledAt = at;
  state.statusChangedAt = at;
  const record = episodeRecordOf(
    ownEpisodes(state),
    state.episode,
    state.qualifiedAt,
  );
  if (record !== undefined) {
    record.recycledAt = at;
    record.recycleReason = reason;
  }
  return {
    kind: 'recycled',
    from: 'mql',
    to: 'recycled',
    episode: state.episode,
    at,
    score: scoreLead(state, model, at, tallies),
    reason,
  };
}

/**
 * Returns the record of an episode from a lead's episodes. A lead that a
 * merge gave the episodes of another lead can list a number twice (see
 * absorbQualification), so the record that qualified at `qualifiedAt`,
 * the lead's latest qualification, comes first, then the latest record
 * of that number.
 */
export function episodeRecordOf(
  episodes: readonly EpisodeRecord[],
  episode: number,
  qualifiedAt: number | undefined,
): EpisodeRecord | undefined {
  const records = episodes.filter((e) => e.episode === episode);
  return records.find((e) => e.qualifiedAt === qualifiedAt) ?? records.at(-1);
}

function qualifyIfEligible(
  state: LeadState,
  model: ScoringModel,
  now: number,
  score: LeadScore,
): Transition | undefined {
  if (!isEligible(state, score, model, now)) {
    return undefined;
  }
  const from = state.status;
  state.status = 'mql';
  state.episode += 1;
  state.qualifiedAt = now;
  state.firstQualifiedAt ??= now;
  state.statusChangedAt = now;
  const episodes = ownEpisodes(state);
  episodes.push({
    episode: state.episode,
    qualifiedAt: now,
    score: roundCents(score.score),
    modelVersion: model.version,
  });
  if (episodes.length > MAX_EPISODE_RECORDS) {
    episodes.splice(0, episodes.length - MAX_EPISODE_RECORDS);
  }
  return {
    kind: 'qualified',
    from,
    to: 'mql',
    episode: state.episode,
    at: now,
    score,
    reason: `score reached the threshold ${model.qualification.threshold}`,
  };
}

function isEligible(
  state: LeadState,
  score: LeadScore,
  model: ScoringModel,
  now: number,
): boolean {
  const { threshold, minimumFit } = model.qualification;
  // The score is compared as shown, in cents, as account scores are.
  // Intent decays from its event time to the evaluation and its weights
  // are rounded to 2^-36, so a lead of fit 60 whose demo request of 40
  // arrived a moment ago has 99.99999 points, shown as 100.
  if (
    roundCents(score.score) < threshold ||
    roundCents(score.fit) < minimumFit
  ) {
    return false;
  }
  if (state.status !== 'recycled' || state.recycledAt === undefined) {
    return true;
  }
  return hasNewActivity(state, model) && now >= cooldownEnd(state, model);
}

function hasNewActivity(state: LeadState, model: ScoringModel): boolean {
  const activity = lastActivityOf(state, model) ?? Number.NEGATIVE_INFINITY;
  return activity > (state.recycledAt ?? Number.NEGATIVE_INFINITY);
}

function cooldownEnd(state: LeadState, model: ScoringModel): number {
  return (state.recycledAt ?? 0) + model.qualification.cooldownDays * DAY_MS;
}

/**
 * Returns the time from which the score of an MQL can only fall without
 * new events: its latest event or its qualification, whichever is later.
 * Before its latest event the current state does not give the lead's
 * score, because a penalty or a lower fit that event brought would count
 * before it happened.
 */
function reviewFrom(state: LeadState, model: ScoringModel): number {
  const activity = lastActivityOf(state, model) ?? state.statusChangedAt;
  return Math.max(activity, state.lastEventAt, state.statusChangedAt);
}

/**
 * Returns when the lead next needs evaluating without new events: for an
 * MQL, when its decayed score rounded to cents falls below the recycle
 * level; for a recycled
 * lead with new activity, when its cooldown ends. Undefined when only a new
 * event can change its status. `tallies` and `score`, when given, must be
 * talliesInModelOrder and a scoreLead result of the same lead and model.
 */
export function nextReviewAt(
  state: LeadState,
  model: ScoringModel,
  now: number,
  tallies?: TalliesInModelOrder,
  score?: LeadScore,
): number | undefined {
  if (state.status === 'mql') {
    const { recycleBelow } = model.qualification;
    const from = reviewFrom(state, model);
    return timeScoreBelow(state, model, recycleBelow, from, tallies, score);
  }
  if (state.status === 'recycled' && state.recycledAt !== undefined) {
    const end = cooldownEnd(state, model);
    return hasNewActivity(state, model) && end > now ? end : undefined;
  }
  return undefined;
}
