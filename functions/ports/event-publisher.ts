import type { OutgoingEvent } from '../domain/outgoing-events.js';

/** An event the bus did not accept, with the bus's error code. */
export interface FailedEvent {
  eventId: string;
  errorCode: string;
  errorMessage: string;
  /**
   * Whether sending the same entry again can succeed. A retryable event
   * stays in the outbox for the sweep; a non-retryable one is kept as a
   * failed outbox entry until an operator retries it.
   */
  retryable: boolean;
  /** Whether the bus throttled the event; such a failure is retryable. */
  throttled: boolean;
}

/** What happened to each event of a publish call. */
export interface PublishResult {
  /** Ids of events the bus accepted (it returned an EventId). */
  published: string[];
  failed: FailedEvent[];
}

/** Sends outgoing events to the event bus. */
export interface EventPublisher {
  /**
   * Publishes the events and reports each one's result. Failed requests
   * and failed entries are returned as failures, never raised, so the
   * events a call did publish are always reported.
   */
  publish(events: readonly OutgoingEvent[]): Promise<PublishResult>;
}
