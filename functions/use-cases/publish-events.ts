import type { OutgoingEvent } from '../domain/outgoing-events.js';
import type { ScoringDependencies } from './dependencies.js';

/** Counts of one publish attempt. */
export interface PublishSummary {
  published: number;
  /** Events left in the outbox for the sweep to retry. */
  pending: number;
}

/**
 * Publishes committed outbox entries and removes each one the bus accepted.
 * An entry that failed, or whose removal failed, stays in the outbox and
 * the sweep publishes it again; event ids let consumers drop the repeat.
 */
export async function publishEvents(
  deps: ScoringDependencies,
  events: readonly OutgoingEvent[],
): Promise<PublishSummary> {
  if (events.length === 0) {
    return { published: 0, pending: 0 };
  }
  let result: Awaited<ReturnType<typeof deps.publisher.publish>>;
  try {
    result = await deps.publisher.publish(events);
  } catch (error) {
    deps.log.error('event publish failed', {
      error,
      eventIds: events.map((event) => event.eventId),
    });
    return { published: 0, pending: events.length };
  }
  for (const failure of result.failed) {
    deps.log.warn('event not accepted by the bus', { ...failure });
  }
  const byId = new Map(events.map((event) => [event.eventId, event]));
  const removals = result.published.map(async (eventId) => {
    const event = byId.get(eventId);
    if (event === undefined) return;
    await deps.repository.deleteOutboxEntry(event, eventId);
    deps.log.info('event published', {
      eventId,
      leadId: event.leadId,
      accountId: event.accountId,
      detailType: event.detailType,
    });
  });
  const settled = await Promise.allSettled(removals);
  for (const outcome of settled) {
    if (outcome.status === 'rejected') {
      deps.log.warn('outbox entry removal failed', { error: outcome.reason });
    }
  }
  return {
    published: result.published.length,
    pending: events.length - result.published.length,
  };
}
