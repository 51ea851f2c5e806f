import type { TrackingEvent } from './messages.js';

/** Prefix of lead ids made from an anonymous id. */
export const ANONYMOUS_PREFIX = 'anon:';

/**
 * Returns the lead an event belongs to: its userId, or its anonymousId
 * under the `anon:` prefix so the two id spaces never collide.
 */
export function leadIdOf(
  event: Pick<TrackingEvent, 'userId' | 'anonymousId'>,
): string {
  if (event.userId !== undefined) {
    return event.userId;
  }
  return `${ANONYMOUS_PREFIX}${event.anonymousId}`;
}
