import { cloneState, type LeadState, type LeadStatus } from './lead.js';
import type { ScoringModel } from './model.js';
import { type LeadScore, scoreLead, timeScoreBelow } from './score.js';
import { DAY_MS } from './time.js';

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
 * stays an MQL until its decayed score falls below the recycle level. A
 * recycled lead qualifies again only after the cooldown and new activity.
 */
export function evaluateLead(
  state: LeadState,
  model: ScoringModel,
  now: number,
): Evaluation {
  const next = cloneState(state);
  const transitions: Transition[] = [];
  if (next.status === 'mql') {
    const recycled = recycleIfBelowLevel(next, model, now);
    if (recycled !== undefined) transitions.push(recycled);
  }
  if (next.status !== 'mql') {
    const qualified = qualifyIfEligible(next, model, now);
    if (qualified !== undefined) transitions.push(qualified);
  }
  const reviewAt = nextReviewAt(next, model, now);
  next.nextReviewAt =
    reviewAt !== undefined && reviewAt > now ? reviewAt : undefined;
  return { state: next, score: scoreLead(next, model, now), transitions };
}

function recycleIfBelowLevel(
  state: LeadState,
  model: ScoringModel,
  now: number,
): Transition | undefined {
  const { recycleBelow } = model.qualification;
  const score = scoreLead(state, model, now);
  if (score.score >= recycleBelow) {
    return undefined;
  }
  const crossing = timeScoreBelow(state, model, recycleBelow) ?? now;
  const at = Math.min(now, Math.max(crossing, state.statusChangedAt));
  state.status = 'recycled';
  state.recycledAt = at;
  state.statusChangedAt = at;
  return {
    kind: 'recycled',
    from: 'mql',
    to: 'recycled',
    episode: state.episode,
    at,
    score: scoreLead(state, model, at),
    reason: `score fell below the recycle level ${recycleBelow}`,
  };
}

function qualifyIfEligible(
  state: LeadState,
  model: ScoringModel,
  now: number,
): Transition | undefined {
  const score = scoreLead(state, model, now);
  if (!isEligible(state, score, model, now)) {
    return undefined;
  }
  const from = state.status;
  state.status = 'mql';
  state.episode += 1;
  state.qualifiedAt = now;
  state.firstQualifiedAt ??= now;
  state.statusChangedAt = now;
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
  if (score.score < threshold || score.fit < minimumFit) {
    return false;
  }
  if (state.status !== 'recycled' || state.recycledAt === undefined) {
    return true;
  }
  const hasNewActivity = (state.lastActivityAt ?? 0) > state.recycledAt;
  return hasNewActivity && now >= cooldownEnd(state, model);
}

function cooldownEnd(state: LeadState, model: ScoringModel): number {
  return (state.recycledAt ?? 0) + model.qualification.cooldownDays * DAY_MS;
}

/**
 * Returns when the lead next needs evaluating without new events: for an
 * MQL, when its decayed score falls below the recycle level; for a recycled
 * lead with new activity, when its cooldown ends. Undefined when only a new
 * event can change its status.
 */
export function nextReviewAt(
  state: LeadState,
  model: ScoringModel,
  now: number,
): number | undefined {
  if (state.status === 'mql') {
    return timeScoreBelow(state, model, model.qualification.recycleBelow);
  }
  if (state.status === 'recycled' && state.recycledAt !== undefined) {
    const hasNewActivity = (state.lastActivityAt ?? 0) > state.recycledAt;
    const end = cooldownEnd(state, model);
    return hasNewActivity && end > now ? end : undefined;
  }
  return undefined;
}
