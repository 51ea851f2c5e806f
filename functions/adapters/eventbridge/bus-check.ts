import {
  DescribeEventBusCommand,
  type EventBridgeClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-eventbridge';

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
 * EventBusNotFoundError when it does not, and the SDK's error when the
 * call fails.
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
    throw error;
  }
}

/** Options of onceUntilSuccess. */
export interface OnceUntilSuccessOptions {
  /**
   * Time in ms during which a failed check is not run again: calls in
   * this time raise its error at once.
   */
  retryAfterMs: number;
  /** Current time in ms since the epoch. */
  clock: () => number;
}

/**
 * Returns a function that runs `check` once and returns its promise on
 * every later call. A failed check runs again on the first call after
 * `retryAfterMs`, so a transient error does not fail a container for
 * good, and an outage does not add a check to every invocation.
 */
export function onceUntilSuccess(
  check: () => Promise<void>,
  options: OnceUntilSuccessOptions,
): () => Promise<void> {
  let pending: Promise<void> | undefined;
  let failedAt: number | undefined;
  return () => {
    const retry =
      failedAt !== undefined &&
      options.clock() - failedAt >= options.retryAfterMs;
    if (pending === undefined || retry) {
      failedAt = undefined;
      pending = check().catch((error: unknown) => {
        failedAt = options.clock();
        throw error;
      });
    }
    return pending;
  };
}

/**
 * Returns a function that awaits `check` and raises only an
 * EventBusNotFoundError. Any other failure, such as a timed-out request
 * to EventBridge, goes to `onUnconfirmed` and lets the invocation go on.
 * Its events then wait in the outbox as after a failed publish, and the
 * next call checks again.
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
      onUnconfirmed(error);
    }
  };
}
