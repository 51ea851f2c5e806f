import { episodeKeyOf } from './disposition.js';
import { emptyTallies } from './intent-tallies.js';
import type { DispositionRecord, EpisodeRecord, LeadState } from './lead.js';
import type { ScoringModel } from './model.js';
import {
  catchUpReviews,
  MAX_EPISODE_RECORDS,
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
  /**
   * Recycle time whose cooldown the lead was in when it merged: its
   * `recycledAt` when it was recycled then. Undefined when it was an MQL
   * (the merge's own recycle starts no cooldown) or never qualified.
   */
  cooldownFrom: number | undefined;
}

/**
 * Turns a lead into a tombstone that points at the lead it was merged
 * into. Its traits and intent go (its stored events are moved and scored
 * again there), but its times, episode history and disposition stay.
 * Reviews of the lead due by `now` run first at their own times, as an
 * on-time sweep would have run them. So an MQL whose score already fell
 * below the recycle level is recycled at that time, and a lead whose
 * cooldown ended can qualify again then. A lead that is then an MQL is
 * recycled at `now`, so its episode ends with a "Lead Recycled" event.
 * `source` is undefined for an id that has no lead yet: the tombstone
 * then only redirects its future events. The tombstone lists the lead's
 * accounts in `accountsLeft`, and its merge stays pending until they are
 * evaluated again without it.
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
  const accountsLeft = accountsOf(source);
  const pending =
    source !== undefined && (source.eventCount > 0 || accountsLeft.length > 0);
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
    ...(base?.disposition === undefined
      ? {}
      : { disposition: base.disposition }),
    mergedInto: target,
    mergedAt: now,
    mergePending: pending,
    ...(accountsLeft.length === 0 ? {} : { accountsLeft }),
  };
  const reviewed =
    caughtUp?.score === undefined
      ? undefined
      : { state: caughtUp.state, score: caughtUp.score };
  const cooldownFrom =
    caughtUp?.state.status === 'recycled'
      ? caughtUp.state.recycledAt
      : undefined;
  return { state, transitions, reviewed, cooldownFrom };
}

/**
 * Returns the accounts of the lead's membership: its own and the
 * email-domain account it links to its group.
 */
function accountsOf(lead: LeadState | undefined): string[] {
  const membership = lead?.membership;
  if (membership === undefined) return [];
  return membership.linkedAccountId === undefined
    ? [membership.accountId]
    : [membership.accountId, membership.linkedAccountId];
}

/** Returns the tombstone with its merge marked complete. */
export function completedTombstone(tombstone: LeadState): LeadState {
  return {
    ...tombstone,
    mergePending: false,
    nextReviewAt: undefined,
    accountsLeft: undefined,
  };
}

/**
 * Adds the qualification history of a merged lead to the lead it merges
 * into, so that a merge neither qualifies a lead again within a cooldown
 * nor repeats an episode number under the target's id. Returns `target`
 * itself when the merged lead never qualified. The rules:
 * - The episodes of both are listed by qualification time, each with its
 *   own number, so two leads that both qualified can list a number twice.
 * - An MQL target keeps its episode, status and disposition, because its
 *   own activity qualified it and "Lead Qualified" named its episode.
 * - Any other target continues from the larger episode number of the
 *   two, and the cooldown that ends later applies: the target becomes
 *   recycled at the merged lead's recycle time when that is the later
 *   one. It keeps the disposition of the higher episode number, and of
 *   two dispositions of one number the later one. A disposition taken
 *   from the merged lead keeps that lead's key in the conversion
 *   outcomes, so a later disposition of the episode counts with it.
 */
export function absorbQualification(
  target: LeadState,
  tombstone: Tombstone,
): LeadState {
  const source = tombstone.state;
  if (source.episode === 0) return target;

  const next: LeadState = {
    ...target,
    episodes: mergeEpisodes(target.episodes, source.episodes),
    firstQualifiedAt: earliest(
      target.firstQualifiedAt,
      source.firstQualifiedAt,
    ),
  };
  if (target.status === 'mql') return next;

  next.episode = Math.max(target.episode, source.episode);
  next.qualifiedAt = latest(target.qualifiedAt, source.qualifiedAt);
  const disposition = laterDisposition(target.disposition, source.disposition);
  if (disposition !== undefined && disposition === source.disposition) {
    next.disposition = {
      ...disposition,
      episodeKey:
        disposition.episodeKey ?? episodeKeyOf(source, disposition.episode),
    };
  }

  const { cooldownFrom } = tombstone;
  const ownCooldownFrom =
    target.status === 'recycled' ? target.recycledAt : undefined;
  if (
    cooldownFrom !== undefined &&
    (ownCooldownFrom === undefined || cooldownFrom > ownCooldownFrom)
  ) {
    next.status = 'recycled';
    next.recycledAt = cooldownFrom;
    next.statusChangedAt = Math.max(target.statusChangedAt, cooldownFrom);
  }
  return next;
}

/** Lists the episodes of two leads by qualification time, the latest 20. */
function mergeEpisodes(
  own: readonly EpisodeRecord[],
  merged: readonly EpisodeRecord[],
): EpisodeRecord[] {
  const episodes = [...own, ...merged].sort(
    (a, b) => a.qualifiedAt - b.qualifiedAt || a.episode - b.episode,
  );
  return episodes.slice(-MAX_EPISODE_RECORDS);
}

function laterDisposition(
  own: DispositionRecord | undefined,
  merged: DispositionRecord | undefined,
): DispositionRecord | undefined {
  if (own === undefined || merged === undefined) return own ?? merged;
  if (own.episode !== merged.episode) {
    return own.episode > merged.episode ? own : merged;
  }
  return merged.at > own.at ? merged : own;
}

function earliest(
  a: number | undefined,
  b: number | undefined,
): number | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return Math.min(a, b);
}

function latest(
  a: number | undefined,
  b: number | undefined,
): number | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return Math.max(a, b);
}
