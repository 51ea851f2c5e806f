import { newOutcomeSalt } from '../domain/disposition.js';
import { ConcurrencyError } from '../domain/errors.js';
import {
  historyFields,
  type ReviewedLead,
  writeHistory,
} from '../domain/history.js';
import {
  applyEvents,
  type EventOutcome,
  incarnationOf,
  type LeadState,
  newIncarnationId,
  newLead,
} from '../domain/lead.js';
import type { TrackingEvent } from '../domain/messages.js';
import type { ScoringModel } from '../domain/model.js';
import {
  type OutgoingEvent,
  transitionEvent,
} from '../domain/outgoing-events.js';
import {
  catchUpReviews,
  type Evaluation,
  evaluateLead,
  type Transition,
} from '../domain/qualification.js';
import {
  DuplicateMessageError,
  type FollowedTombstone,
  type LeadChange,
  VersionConflictError,
} from '../ports/lead-repository.js';
import { updateMembership } from './check-accounts.js';
import { sleepWithJitter } from './concurrency.js';
import type { ScoringDependencies } from './dependencies.js';
import { eventPersonalData } from './event-personal-data.js';

/**
 * Maximum events per transaction. DynamoDB allows 100 items, and each
 * event takes 2. The other 20 are left for the lead state, two history
 * entries, up to four membership and account link items, the tombstone
 * check, and the outgoing events of the write's reviews and
 * qualification.
 */
export const MAX_EVENTS_PER_WRITE = 40;

/** Attempts before a lead update under contention gives up. */
const MAX_ATTEMPTS = 30;
const MAX_BACKOFF_MS = 250;

/** Merged leads followed before an update gives up on a chain of links. */
export const MAX_REDIRECTS = 8;

/** What one lead update stored and caused. */
export interface LeadUpdate {
  /** The lead that was updated, after following merged leads. */
  leadId: string;
  storedMessageIds: string[];
  duplicateMessageIds: string[];
  /**
   * Lead id that the message marker of each duplicate names, which is the
   * lead that stored it first. A merge since then can have moved it.
   */
  duplicateLeadIds: Map<string, string>;
  /** Evaluation of the lead at `now`, with the state as stored. */
  evaluation: Evaluation | undefined;
  outgoing: OutgoingEvent[];
  /** Accounts whose coverage or qualification the update can change. */
  accounts: string[];
}

/**
 * A strongly consistent read the caller made for this update: the lead's
 * stored state (undefined when no lead exists) and the stored message ids
 * with the lead id that each one's marker names.
 */
export interface PrefetchedRead {
  state: LeadState | undefined;
  storedMessages: ReadonlyMap<string, string>;
}

/**
 * Adds events to a lead and evaluates it at `now`, retrying on conflicts
 * until its write wins. Events already stored are reported as duplicates
 * and change nothing. A lead merged into another one is followed, so the
 * events land on the lead it was merged into. With no events it only
 * re-evaluates the lead (the sweep's path), and writes only when something
 * changed; a merged lead is then left as it is.
 */
export async function updateLead(
  deps: ScoringDependencies,
  sourceId: string,
  leadId: string,
  events: readonly TrackingEvent[],
  now: number,
  prefetched?: PrefetchedRead,
): Promise<LeadUpdate> {
  const update: LeadUpdate = {
    leadId,
    storedMessageIds: [],
    duplicateMessageIds: [],
    duplicateLeadIds: new Map(),
    evaluation: undefined,
    outgoing: [],
    accounts: [],
  };
  const chunks = chunk(events, MAX_EVENTS_PER_WRITE);
  // The state a write stores is the known state of the next chunk. Each
  // chunk starts at `leadId`, so it follows a merge through its tombstone.
  let known = prefetched;
  for (const events of chunks.length > 0 ? chunks : [[]]) {
    const { written, ...result } = await writeWithRetries(
      deps,
      sourceId,
      leadId,
      events,
      now,
      known,
    );
    known =
      written === undefined ||
      prefetched === undefined ||
      result.leadId !== leadId
        ? undefined
        : { state: written, storedMessages: prefetched.storedMessages };
    update.leadId = result.leadId;
    update.storedMessageIds.push(...result.storedMessageIds);
    update.duplicateMessageIds.push(...result.duplicateMessageIds);
    for (const [messageId, firstLeadId] of result.duplicateLeadIds) {
      update.duplicateLeadIds.set(messageId, firstLeadId);
    }
    update.outgoing.push(...result.outgoing);
    update.accounts.push(...result.accounts);
    update.evaluation = result.evaluation ?? update.evaluation;
  }
  return update;
}

async function writeWithRetries(
  deps: ScoringDependencies,
  sourceId: string,
  leadId: string,
  events: readonly TrackingEvent[],
  now: number,
  prefetched: PrefetchedRead | undefined,
): Promise<WriteResult> {
  const messageIds = events.map((event) => event.messageId);
  const duplicates = new Map<string, string>();
  const storedMessages =
    prefetched?.storedMessages ??
    (await deps.repository.findStoredMessages(sourceId, messageIds));
  for (const id of messageIds) {
    const firstLeadId = storedMessages.get(id);
    if (firstLeadId !== undefined) duplicates.set(id, firstLeadId);
  }
  let target = leadId;
  // Only the first attempt on the first target may use the prefetched
  // state, because a conflict or a redirect makes it stale.
  let known: { state: LeadState | undefined } | undefined = prefetched;
  // The tombstone that led to `target`, which the write checks is still
  // there: an erasure of `target` deletes it.
  let followed: FollowedTombstone | undefined;
  let redirects = 0;
  let attempt = 1;
  // Whether the last read found the lead held by an unfinished erasure,
  // which rejects every write until the erasure ends.
  let heldForErasure = false;
  while (attempt <= MAX_ATTEMPTS) {
    const fresh = events.filter((event) => !duplicates.has(event.messageId));
    const prefetchedRead = known !== undefined;
    const stored =
      known === undefined ? await deps.repository.getLead(target) : known.state;
    known = undefined;
    heldForErasure = stored?.erasureHeldUntil !== undefined;
    try {
      return await writeOnce(deps, sourceId, target, fresh, now, {
        stored,
        duplicates,
        followed,
      });
    } catch (error) {
      if (error instanceof MergedLeadSignal) {
        if (events.length === 0) return emptyUpdate(target, duplicates);
        // An erasure of the merged lead deletes the tombstone too, so a
        // redirect follows only a tombstone read just now.
        if (prefetchedRead) continue;
        redirects += 1;
        if (redirects > MAX_REDIRECTS) {
          throw new Error(
            `A lead is linked through more than ${MAX_REDIRECTS} merged leads.`,
          );
        }
        followed = { leadId: target, mergedInto: error.mergedInto };
        target = error.mergedInto;
        continue;
      }
      if (error instanceof DuplicateMessageError) {
        // Another request stored these messages first. Their markers name
        // its lead. A marker deleted since then by an erasure is not read,
        // so the next attempt stores that message again.
        const found = await deps.repository.findStoredMessages(
          sourceId,
          error.messageIds,
        );
        for (const [id, firstLeadId] of found) duplicates.set(id, firstLeadId);
      } else if (!(error instanceof VersionConflictError)) {
        throw error;
      } else if (followed !== undefined) {
        // The tombstone may be gone, so the next attempt starts over.
        target = leadId;
        followed = undefined;
        redirects = 0;
      }
      deps.log.debug('lead write conflict', { leadId: target, attempt });
      await sleepWithJitter(Math.min(MAX_BACKOFF_MS, 10 * 2 ** attempt));
      attempt += 1;
    }
  }
  if (heldForErasure) {
    throw new ConcurrencyError(
      `Lead ${target} is being erased, so its events were not stored. Retry the request, and once the erasure ends it stores them on a new lead.`,
    );
  }
  throw new ConcurrencyError(
    `Lead ${target} kept changing concurrently; retry the request.`,
  );
}

async function writeOnce(
  deps: ScoringDependencies,
  sourceId: string,
  leadId: string,
  events: readonly TrackingEvent[],
  now: number,
  read: StoredRead,
): Promise<WriteResult> {
  const planned = planWrite(deps, sourceId, leadId, events, now, read);
  if (planned.change !== undefined) {
    await deps.repository.saveLeadChange(planned.change);
  }
  return planned.result;
}

/** A sweep's re-evaluation of one lead, worked out but not written yet. */
export interface PlannedReview {
  /** The change to write, undefined when the lead is unchanged. */
  change: LeadChange | undefined;
  /** Events to publish once the change is committed. */
  outgoing: OutgoingEvent[];
  /** Accounts to check once the change is committed. */
  accounts: string[];
}

/**
 * Re-evaluates a stored lead at `now` as updateLead does without events,
 * but returns the change instead of writing it, so that the sweep can
 * write the changes of several leads in one transaction. The change is
 * conditioned on the version of `state`. Raises on a merged lead, whose
 * review is the merge's work.
 */
export function planReview(
  deps: ScoringDependencies,
  state: LeadState,
  now: number,
): PlannedReview {
  if (state.mergedInto !== undefined) {
    throw new Error(`Lead ${state.leadId} is merged and has no review.`);
  }
  const { change, result } = planWrite(deps, 'sweep', state.leadId, [], now, {
    stored: state,
    duplicates: new Map(),
    followed: undefined,
  });
  return { change, outgoing: result.outgoing, accounts: result.accounts };
}

/**
 * The stored state, the duplicate message ids with the lead id of each
 * one's marker and the followed tombstone that a writer read before
 * working out a lead change.
 */
interface StoredRead {
  stored: LeadState | undefined;
  duplicates: ReadonlyMap<string, string>;
  followed: FollowedTombstone | undefined;
}

/**
 * Works out the change that adding `events` at `now` makes to the lead as
 * read, and what the update returns once that change is written. The
 * change is undefined when nothing needs writing.
 */
function planWrite(
  deps: ScoringDependencies,
  sourceId: string,
  leadId: string,
  events: readonly TrackingEvent[],
  now: number,
  read: StoredRead,
): { change: LeadChange | undefined; result: WriteResult } {
  const { model } = deps;
  const { stored, duplicates, followed } = read;
  if (stored?.mergedInto !== undefined) {
    throw new MergedLeadSignal(stored.mergedInto);
  }
  if (stored === undefined && events.length === 0) {
    return {
      change: undefined,
      result: emptyUpdate(leadId, duplicates),
    };
  }
  const { before, outcomes, evaluation, reviewed, outgoing, membership } =
    scoreNewEvents(deps, leadId, stored, events, now);
  const unchanged =
    stored !== undefined &&
    events.length === 0 &&
    outgoing.length === 0 &&
    membership.change === undefined &&
    evaluation.state.nextReviewAt === stored.nextReviewAt;
  let written = stored;
  let result = evaluation;
  let change: LeadChange | undefined;
  if (!unchanged) {
    const history = writeHistory(
      stored,
      reviewed,
      evaluation.state,
      evaluation.score,
      model,
      events.length > 0 ? 'event' : 'sweep',
      events.length,
    );
    const state = { ...evaluation.state, version: history.version };
    change = {
      sourceId,
      expectedVersion: before.version,
      state,
      events: events.map((event) => ({
        event,
        outcome: outcomes.get(event.messageId) ?? {
          messageId: event.messageId,
        },
      })),
      outgoing,
      ...(membership.change === undefined
        ? {}
        : { membership: membership.change }),
      ...historyFields(history),
      ...(followed === undefined ? {} : { followedTombstone: followed }),
    };
    written = state;
    // Carry the stored version, so an update that wrote ranks above one
    // that found the same lead unchanged before this write.
    result = { ...evaluation, state };
  }
  return {
    change,
    result: {
      written,
      leadId,
      storedMessageIds: events.map((event) => event.messageId),
      duplicateMessageIds: [...duplicates.keys()],
      duplicateLeadIds: new Map(duplicates),
      evaluation: result,
      outgoing,
      accounts: membership.accounts,
    },
  };
}

/**
 * Scores `events` added at `now` to the lead `stored`, or to a new lead
 * `leadId` when none is stored. Returns the state before the events, the
 * outcome of each event by message id and the evaluation. Also returns
 * the review caught up before them, the events that their transitions
 * send and the account membership after them.
 */
export function scoreNewEvents(
  deps: ScoringDependencies,
  leadId: string,
  stored: LeadState | undefined,
  events: readonly TrackingEvent[],
  now: number,
): {
  before: LeadState;
  outcomes: Map<string, EventOutcome>;
  evaluation: Evaluation;
  reviewed: ReviewedLead | undefined;
  outgoing: OutgoingEvent[];
  membership: ReturnType<typeof updateMembership>;
} {
  const { model } = deps;
  const firstSeenAt = Math.min(now, ...events.map((e) => e.occurredAt));
  const before =
    stored ??
    newLead(
      leadId,
      model,
      firstSeenAt,
      now,
      newOutcomeSalt(),
      newIncarnationId(),
    );
  const { outcomes, evaluation, transitions, reviewed } = applyNewEvents(
    before,
    events,
    model,
    now,
  );
  const personal = eventPersonalData(deps, evaluation.state);
  const outgoing = transitions.map((transition) =>
    transitionEvent(
      leadId,
      transition,
      model,
      now,
      personal,
      incarnationOf(evaluation.state),
    ),
  );
  const membership = updateMembership(
    evaluation.state,
    evaluation.score,
    deps,
    now,
  );
  return {
    before,
    outcomes: new Map(outcomes.map((o) => [o.messageId, o])),
    evaluation,
    reviewed,
    outgoing,
    membership,
  };
}

/**
 * Applies new events to a lead and evaluates it at `now`. Reviews due
 * before the first new event run first, as they would have on time, so a
 * lead whose score fell below the recycle level before that event is
 * recycled at its own time before the event counts. Returns the
 * transitions of both steps in order.
 */
function applyNewEvents(
  before: LeadState,
  events: readonly TrackingEvent[],
  model: ScoringModel,
  now: number,
): {
  outcomes: EventOutcome[];
  evaluation: Evaluation;
  transitions: Transition[];
  reviewed: ReviewedLead | undefined;
} {
  const firstEventAt = Math.min(now, ...events.map((e) => e.occurredAt));
  // NOTE: reviews due between the first event and `now` do not run. An
  // MQL that fell below the level after a late event of the request and
  // before its current events stays an MQL, unless the sweep recycled it
  // first and started its cooldown.
  const caughtUp = catchUpReviews(before, model, firstEventAt);
  // A copy, taken before the events change the reviewed state.
  const reviewed =
    caughtUp.score === undefined
      ? undefined
      : { state: { ...caughtUp.state }, score: caughtUp.score };
  const applied = applyEvents(caughtUp.state, events, model);
  const evaluation = evaluateLead(applied.state, model, now);
  const transitions = [...caughtUp.transitions, ...evaluation.transitions];
  return { outcomes: applied.outcomes, evaluation, transitions, reviewed };
}

/** A lead update with the state it stored, or found unchanged. */
interface WriteResult extends LeadUpdate {
  written: LeadState | undefined;
}

/** Raised inside an update when the lead turns out to be merged. */
class MergedLeadSignal extends Error {
  constructor(readonly mergedInto: string) {
    super(`The lead was merged into ${mergedInto}.`);
    this.name = 'MergedLeadSignal';
  }
}

function emptyUpdate(
  leadId: string,
  duplicates: ReadonlyMap<string, string>,
): WriteResult {
  return {
    written: undefined,
    leadId,
    storedMessageIds: [],
    duplicateMessageIds: [...duplicates.keys()],
    duplicateLeadIds: new Map(duplicates),
    evaluation: undefined,
    outgoing: [],
    accounts: [],
  };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    chunks.push(items.slice(start, start + size));
  }
  return chunks;
}
