import { emptyTallies } from './intent-tallies.js';
import type { LeadState } from './lead.js';
import type { ScoringModel } from './model.js';
import {
  catchUpReviews,
  recycleNow,
  type Transition,
} from './qualification.js';
import type { LeadScore } from './score.js';

/**
 * Delay before the sweep resumes a merge whose events are not all moved
 * yet, so it does not race the request that is still moving them.
 */
export const MERGE_RESUME_DELAY_MS = 120_000;

/** A merged lead's tombstone and what the merge did to the lead. */
export interface Tombstone {
  state: LeadState;
  /** Transitions of the due reviews and of the merge, in order. */
  transitions: Transition[];
  /**
   * The lead as the reviews due before the merge left it, with its score
   * at the last of them; undefined when no review was due.
   */
  reviewed: { state: LeadState; score: LeadScore } | undefined;
}

/**
 * Turns a lead into a tombstone that points at the lead it was merged
 * into. Its traits and intent go (its stored events are moved and scored
 * again there), but its times and episode history stay. Reviews of the
 * lead due by `now` run first at their own times, as an on-time sweep
 * would have run them. So an MQL whose score already fell below the
 * recycle level is recycled at that time, and a lead whose cooldown ended
 * can qualify again then. A lead that is then an MQL is recycled at
 * `now`, so its episode ends with a "Lead Recycled" event. `source` is
 * undefined for an id that has no lead yet: the tombstone then only
 * redirects its future events.
 */
export function tombstoneOf(
  source: LeadState | undefined,
  leadId: string,
  target: string,
  model: ScoringModel,
  now: number,
): Tombstone {
  const caughtUp =
    source === undefined ? undefined : catchUpReviews(source, model, now);
  const transitions = [...(caughtUp?.transitions ?? [])];
  let base = caughtUp?.state;
  if (base !== undefined && base.status === 'mql') {
    const recycled = recycleNow(base, model, now, `merged into lead ${target}`);
    base = recycled.state;
    transitions.push(...recycled.transitions);
  }
  const pending = source !== undefined && source.eventCount > 0;
  const state: LeadState = {
    leadId,
    version: source?.version ?? 0,
    modelVersion: model.version,
    firstSeenAt: base?.firstSeenAt ?? now,
    ...(base?.createdAt === undefined ? {} : { createdAt: base.createdAt }),
    ...(base?.outcomeSalt === undefined
      ? {}
      : { outcomeSalt: base.outcomeSalt }),
    ...(base?.incarnationId === undefined
      ? {}
      : { incarnationId: base.incarnationId }),
    lastEventAt: base?.lastEventAt ?? now,
    lastActivityAt: undefined,
    eventCount: base?.eventCount ?? 0,
    traits: {},
    intent: emptyTallies(),
    quarantined: {},
    clickSeconds: [],
    status: base?.status ?? 'engaged',
    episode: base?.episode ?? 0,
    statusChangedAt: base?.statusChangedAt ?? now,
    firstQualifiedAt: base?.firstQualifiedAt,
    qualifiedAt: base?.qualifiedAt,
    recycledAt: base?.recycledAt,
    nextReviewAt: pending ? now + MERGE_RESUME_DELAY_MS : undefined,
    episodes: base?.episodes ?? [],
    mergedInto: target,
    mergedAt: now,
    mergePending: pending,
  };
  const reviewed =
    caughtUp?.score === undefined
      ? undefined
      : { state: caughtUp.state, score: caughtUp.score };
  return { state, transitions, reviewed };
}

/** Returns the tombstone with its merge marked complete. */
export function completedTombstone(tombstone: LeadState): LeadState {
  return { ...tombstone, mergePending: false, nextReviewAt: undefined };
}
