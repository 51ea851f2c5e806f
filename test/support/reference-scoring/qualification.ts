import type { ScoringModel } from '../../../functions/domain/model.js';
import { DAY_MS } from '../../../functions/domain/time.js';
import { roundCents } from './explanation.js';
import { type LeadState, type LeadStatus, lastActivityOf } from './lead.js';
import { type LeadScore, scoreLead, timeScoreBelow } from './score.js';

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
  const score = scoreLead(next, model, now);
  const transitions: Transition[] = [];
  if (next.status === 'mql') {
    const recycled = recycleIfBelowLevel(next, model, now, score);
    if (recycled !== undefined) transitions.push(recycled);
  }
  if (next.status !== 'mql') {
    const qualified = qualifyIfEligible(next, model, now, score);
    if (qualified !== undefined) transitions.push(qualified);
  }
  return finish(next, model, now, transitions, score);
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
  const transition = recycle(next, model, now, reason);
  return finish(
    next,
    model,
    now,
    [...evaluation.transitions, transition],
    evaluation.score,
  );
}

/**
 * Returns a copy of a lead whose status, episodes, review time and last
 * score can change. Traits, intent, quarantine and click records are
 * shared with `state`, because evaluation only reads them.
 */
function copyStatus(state: LeadState): LeadState {
  const copy: LeadState = {
    ...state,
    episodes: state.episodes.map((episode) => ({ ...episode })),
  };
  if (state.lastScore !== undefined) copy.lastScore = { ...state.lastScore };
  return copy;
}

function finish(
  state: LeadState,
  model: ScoringModel,
  now: number,
  transitions: Transition[],
  score: LeadScore,
): Evaluation {
  state.nextReviewAt = reviewAfter(state, model, now);
  // The stored intent is the shown one: the score minus the fit in cents.
  // Adding 0 turns a -0 into 0, as shown totals do.
  const scoreCents = Math.round(score.score * 100) + 0;
  const fitCents = Math.round(score.fit * 100) + 0;
  state.lastScore = {
    at: now,
    score: scoreCents / 100,
    fit: fitCents / 100,
    intent: (scoreCents - fitCents) / 100,
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
): number | undefined {
  const reviewAt = nextReviewAt(state, model, now);
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
 * evaluation at its own time.
 */
export function catchUpReviews(
  state: LeadState,
  model: ScoringModel,
  until: number,
): { state: LeadState; transitions: Transition[] } {
  let current = state;
  const transitions: Transition[] = [];
  for (let review = 0; review < MAX_CATCH_UP_REVIEWS; review += 1) {
    const dueAt = current.nextReviewAt;
    if (dueAt === undefined || dueAt > until) break;
    const evaluation = evaluateLead(current, model, dueAt);
    current = evaluation.state;
    transitions.push(...evaluation.transitions);
  }
  return { state: current, transitions };
}

function recycleIfBelowLevel(
  state: LeadState,
  model: ScoringModel,
  now: number,
  score: LeadScore,
): Transition | undefined {
  const { recycleBelow } = model.qualification;
  if (roundCents(score.score) >= recycleBelow) {
    return undefined;
  }
  const from = reviewFrom(state, model);
  const crossing =
    from > now
      ? now
      : (timeScoreBelow(state, model, recycleBelow, from) ?? now);
  const at = Math.min(now, Math.max(crossing, state.statusChangedAt));
  return recycle(
    state,
    model,
    at,
    `score fell below the recycle level ${recycleBelow}`,
  );
}

function recycle(
  state: LeadState,
  model: ScoringModel,
  at: number,
  reason: string,
): Transition {
  state.status = 'recycled';
  state.recycledAt = at;
  state.statusChangedAt = at;
  const record = state.episodes.find((e) => e.episode === state.episode);
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
    score: scoreLead(state, model, at),
    reason,
  };
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
  state.episodes.push({
    episode: state.episode,
    qualifiedAt: now,
    score: roundCents(score.score),
    modelVersion: model.version,
  });
  if (state.episodes.length > MAX_EPISODE_RECORDS) {
    state.episodes.splice(0, state.episodes.length - MAX_EPISODE_RECORDS);
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
 * event can change its status.
 */
export function nextReviewAt(
  state: LeadState,
  model: ScoringModel,
  now: number,
): number | undefined {
  if (state.status === 'mql') {
    const { recycleBelow } = model.qualification;
    return timeScoreBelow(state, model, recycleBelow, reviewFrom(state, model));
  }
  if (state.status === 'recycled' && state.recycledAt !== undefined) {
    const end = cooldownEnd(state, model);
    return hasNewActivity(state, model) && end > now ? end : undefined;
  }
  return undefined;
}
