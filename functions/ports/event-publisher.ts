import type { OutgoingEvent } from '../domain/outgoing-events.js';

/** An event the bus did not accept, with the bus's error code. */
export interface FailedEvent {
  eventId: string;
  errorCode: string;
  errorMessage: string;
  /** Whether sending the same entry again can succeed. */
  retryable: boolean;
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
   * Publishes the events and reports each one's result. Raises only when
   * the bus could not be called at all; per-event failures are returned.
   */
  publish(events: readonly OutgoingEvent[]): Promise<PublishResult>;
}
