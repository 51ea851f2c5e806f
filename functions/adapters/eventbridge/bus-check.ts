import {
  DescribeEventBusCommand,
  type EventBridgeClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-eventbridge';
import { CapacityExceededError } from '../../domain/errors.js';
import { isThrottlingError } from './throttling.js';

/** The configured event bus does not exist. */
export class EventBusNotFoundError extends Error {
  constructor(readonly eventBusName: string) {
    super(
      `Event bus "${eventBusName}" does not exist. EventBridge accepts events for a missing bus and drops them, so nothing is published until EVENT_BUS_NAME names an existing bus.`,
    );
    this.name = 'EventBusNotFoundError';
  }
}

/**
 * Confirms that the bus exists with DescribeEventBus. Raises
 * EventBusNotFoundError when it does not, CapacityExceededError when
 * EventBridge throttled the call after the SDK's retries, and the SDK's
 * error when the call fails otherwise.
 */
export async function confirmEventBus(
  client: EventBridgeClient,
  eventBusName: string,
): Promise<void> {
  try {
    await client.send(new DescribeEventBusCommand({ Name: eventBusName }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new EventBusNotFoundError(eventBusName);
    }
    if (isThrottlingError(error)) {
      throw new CapacityExceededError({ cause: error, service: 'EventBridge' });
    }
    throw error;
  }
}

/** Options of onceUntilSuccess. */
export interface OnceUntilSuccessOptions {
  /**
   * Returns the time in ms, after the check failed with `error`, during
   * which the check is not run again: calls in this time raise its error
   * at once.
   */
  retryAfterMs: (error: unknown) => number;
  /** Current time in ms since the epoch. */
  clock: () => number;
}

/**
 * Returns a function that runs `check` once and returns its promise on
 * every later call. A failed check runs again on the first call after
 * `retryAfterMs(error)`, so a transient error does not fail a container
 * for good, and an outage does not add a check to every invocation.
 */
export function onceUntilSuccess(
  check: () => Promise<void>,
  options: OnceUntilSuccessOptions,
): () => Promise<void> {
  let pending: Promise<void> | undefined;
  let retryAt: number | undefined;
  return () => {
    const retry = retryAt !== undefined && options.clock() >= retryAt;
    if (pending === undefined || retry) {
      retryAt = undefined;
      pending = check().catch((error: unknown) => {
        retryAt = options.clock() + options.retryAfterMs(error);
        throw error;
      });
    }
    return pending;
  };
}

/**
 * Returns a function that awaits `check` and raises an
 * EventBusNotFoundError or a CapacityExceededError. A throttled check
 * leaves it unknown whether the bus exists, and PutEvents has its own
 * quota, so events published meanwhile could be dropped by a missing bus.
 * The request is rejected before it stores anything and can be retried.
 * Any other failure, such as a timed-out request to EventBridge, goes to
 * `onUnconfirmed` and lets the invocation go on. Its events then wait in
 * the outbox as after a failed publish, and the next call checks again.
 */
export function failOnMissingBus(
  check: () => Promise<void>,
  onUnconfirmed: (error: unknown) => void,
): () => Promise<void> {
  return async () => {
    try {
      await check();
    } catch (error) {
      if (error instanceof EventBusNotFoundError) throw error;
      if (error instanceof CapacityExceededError) throw error;
      onUnconfirmed(error);
    }
  };
}
