import { emptyTallies } from './intent-tallies.js';
import type { LeadState } from './lead.js';
import type { ScoringModel } from './model.js';
import { recycleNow, type Transition } from './qualification.js';

/**
 * Delay before the sweep resumes a merge whose events are not all moved
 * yet, so it does not race the request that is still moving them.
 */
export const MERGE_RESUME_DELAY_MS = 120_000;

/**
 * Turns a lead into a tombstone that points at the lead it was merged
 * into. Its traits and intent go (its stored events are moved and scored
 * again there), but its times and episode history stay. An MQL is recycled
 * first, so its episode ends with a "Lead Recycled" event. `source` is
 * undefined for an id that has no lead yet: the tombstone then only
 * redirects its future events.
 */
export function tombstoneOf(
  source: LeadState | undefined,
  leadId: string,
  target: string,
  model: ScoringModel,
  now: number,
): { state: LeadState; transitions: Transition[] } {
  let transitions: Transition[] = [];
  let base = source;
  if (source !== undefined && source.status === 'mql') {
    const recycled = recycleNow(
      source,
      model,
      now,
      `merged into lead ${target}`,
    );
    base = recycled.state;
    transitions = recycled.transitions;
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
  return { state, transitions };
}

/** Returns the tombstone with its merge marked complete. */
export function completedTombstone(tombstone: LeadState): LeadState {
  return { ...tombstone, mergePending: false, nextReviewAt: undefined };
}
