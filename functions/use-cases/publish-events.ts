import { accountIdForLog } from '../domain/account.js';
import type { OutgoingEvent } from '../domain/outgoing-events.js';
import type { FailedEvent, PublishResult } from '../ports/event-publisher.js';
import type { ScoringDependencies } from './dependencies.js';

/** Counts of one publish attempt. */
export interface PublishSummary {
  published: number;
  /** Events left in the outbox for the sweep to retry. */
  pending: number;
  /**
   * Events the bus rejected with a non-retryable error, kept in the
   * outbox as failed entries for an operator; a subset of `pending`.
   */
  failed: number;
}

/** Counts of a request that published nothing. */
export const NOTHING_PUBLISHED: PublishSummary = {
  published: 0,
  pending: 0,
  failed: 0,
};

/** Adds the counts of two publish attempts. */
export function addSummaries(
  first: PublishSummary,
  second: PublishSummary,
): PublishSummary {
  return {
    published: first.published + second.published,
    pending: first.pending + second.pending,
    failed: first.failed + second.failed,
  };
}

/** Counts of one publish attempt, and whether the bus throttled it. */
export interface PublishOutcome {
  summary: PublishSummary;
  /** Whether an event left pending was pending because of throttling. */
  throttled: boolean;
}

/** Options of publishing outbox entries. */
export interface PublishOptions {
  /**
   * Claim time (epoch ms) that the caller stored when it claimed the
   * entries, so that handing back an entry it could not publish clears
   * its own claim and no later one. Undefined for a request publishing
   * the entries it stored.
   */
  claimedAt?: number;
}

/** Publishes events as publishEventsWithOutcome does; returns the counts. */
export async function publishEvents(
  deps: ScoringDependencies,
  events: readonly OutgoingEvent[],
  options: PublishOptions = {},
): Promise<PublishSummary> {
  const { summary } = await publishEventsWithOutcome(deps, events, options);
  return summary;
}

/**
 * Publishes committed outbox entries and removes each one the bus accepted.
 * An entry that failed with a retryable error, or whose removal failed,
 * stays in the outbox and the sweep publishes it again. Event ids let
 * consumers drop the repeat. An entry rejected with a non-retryable error
 * is marked failed, which takes it out of the sweep until an operator
 * retries it (`npm run outbox -- retry`).
 */
export async function publishEventsWithOutcome(
  deps: ScoringDependencies,
  events: readonly OutgoingEvent[],
  options: PublishOptions = {},
): Promise<PublishOutcome> {
  if (events.length === 0) {
    return {
      summary: { published: 0, pending: 0, failed: 0 },
      throttled: false,
    };
  }
  let result: PublishResult;
  try {
    result = await deps.publisher.publish(events);
  } catch (error) {
    deps.log.error('event publish failed', {
      error,
      eventIds: events.map((event) => event.eventId),
    });
    await releaseEntries(deps, events, options);
    return {
      summary: { published: 0, pending: events.length, failed: 0 },
      throttled: false,
    };
  }
  const byId = new Map(events.map((event) => [event.eventId, event]));
  const accepted = result.published.flatMap((eventId) => {
    const event = byId.get(eventId);
    return event === undefined ? [] : [event];
  });
  const settledIds = new Set([
    ...result.published,
    ...result.failed
      .filter((failure) => !failure.retryable)
      .map((failure) => failure.eventId),
  ]);
  const retryable = events.filter((event) => !settledIds.has(event.eventId));
  const settled = await Promise.allSettled([
    removeEntries(deps, accepted),
    ...result.failed.map((failure) => keepFailure(deps, byId, failure)),
  ]);
  for (const outcome of settled) {
    if (outcome.status === 'rejected') {
      deps.log.warn('outbox entry update failed', { error: outcome.reason });
    }
  }
  await releaseEntries(deps, retryable, options);
  return {
    summary: {
      published: result.published.length,
      pending: events.length - result.published.length,
      failed: result.failed.filter((failure) => !failure.retryable).length,
    },
    throttled: result.failed.some(
      (failure) => failure.retryable && failure.throttled,
    ),
  };
}

/**
 * Makes the entries of events that the bus did not accept due now, unless
 * a publisher claimed them. The request that stored them is done with
 * them, so the sweep and an erasure need not wait out the grace period
 * that keeps them off entries that a request is still publishing. A
 * publisher that claimed them clears its own claim time instead.
 */
async function releaseEntries(
  deps: ScoringDependencies,
  events: readonly OutgoingEvent[],
  { claimedAt }: PublishOptions,
): Promise<void> {
  const settled = await Promise.allSettled(
    events.map((event) =>
      deps.repository.releaseOutboxEntry(
        event,
        event.eventId,
        deps.clock(),
        claimedAt,
      ),
    ),
  );
  for (const outcome of settled) {
    if (outcome.status === 'rejected') {
      deps.log.warn('outbox entry update failed', { error: outcome.reason });
    }
  }
}

/**
 * Removes the outbox entries of accepted events, several of them (a
 * request's or a sweep page's) in one batch call.
 */
async function removeEntries(
  deps: ScoringDependencies,
  events: readonly OutgoingEvent[],
): Promise<void> {
  const [first] = events;
  if (first === undefined) return;
  if (events.length === 1) {
    await deps.repository.deleteOutboxEntry(first, first.eventId);
  } else {
    await deps.repository.deleteOutboxEntries(events);
  }
  for (const event of events) {
    deps.log.info('event published', {
      eventId: event.eventId,
      leadId: event.leadId,
      accountId: accountIdOfEventForLog(event),
      detailType: event.detailType,
    });
  }
}

/**
 * Logs a failure. A non-retryable one is marked failed in the outbox; a
 * retryable one stays pending for the sweep.
 */
async function keepFailure(
  deps: ScoringDependencies,
  byId: ReadonlyMap<string, OutgoingEvent>,
  failure: FailedEvent,
): Promise<void> {
  const event = byId.get(failure.eventId);
  const fields = {
    ...failure,
    leadId: event?.leadId,
    accountId: event === undefined ? undefined : accountIdOfEventForLog(event),
    detailType: event?.detailType,
  };
  if (failure.retryable || event === undefined) {
    deps.log.warn('event not accepted by the bus', fields);
    return;
  }
  deps.log.error('event rejected by the bus', fields);
  await deps.repository.markOutboxFailed(event, failure.eventId, {
    errorCode: failure.errorCode,
    errorMessage: failure.errorMessage,
    failedAt: deps.clock(),
  });
}

/** Returns the account id of an account's event as log lines carry it. */
function accountIdOfEventForLog(event: OutgoingEvent): string | undefined {
  return event.accountId === undefined
    ? undefined
    : accountIdForLog(event.accountId);
}
