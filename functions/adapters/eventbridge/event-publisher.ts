import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { detailProblem } from '../../domain/event-contract.js';
import type { OutgoingEvent } from '../../domain/outgoing-events.js';
import type {
  EventPublisher,
  FailedEvent,
  PublishResult,
} from '../../ports/event-publisher.js';
import { entryProblem, entrySize, MAX_REQUEST_BYTES } from './entry-limits.js';
import { isThrottlingCode, isThrottlingError } from './throttling.js';

export { entrySize, MAX_REQUEST_BYTES } from './entry-limits.js';

/** PutEvents accepts at most 10 entries per request. */
export const MAX_ENTRIES_PER_REQUEST = 10;

/**
 * Entry error codes that EventBridge documents as non-retryable: sending
 * the same entry again fails the same way. Every other code, and an entry
 * without a result, is retried.
 */
export const NON_RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'InvalidAccountIdException',
  'InvalidArgument',
  'MalformedDetail',
  'RedactionFailure',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
  'InvalidEntry',
]);

/** Error code of an entry the publisher rejects before sending it. */
export const INVALID_ENTRY_CODE = 'InvalidEntry';

/** Settings of the EventBridge publisher. */
export interface EventBridgePublisherOptions {
  eventBusName: string;
  /** Source of every event. @default 'mql-engine' */
  source?: string;
  /** Sends per entry before a retryable failure is returned. @default 3 */
  maxAttempts?: number;
  /** Backoff before the second attempt, doubled per attempt. @default 50 */
  baseBackoffMs?: number;
  /** Cap of the backoff between attempts. @default 500 */
  maxBackoffMs?: number;
  /** Waits the given milliseconds. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Returns a number in [0, 1) for the jitter. @default Math.random */
  random?: () => number;
}

interface PendingEntry {
  eventId: string;
  entry: PutEventsRequestEntry;
}

/**
 * Publishes outgoing events with PutEvents. Each entry is checked first
 * against EventBridge's limits and its detail type's schema. PutEvents
 * returns HTTP 200 even when entries fail, so each entry's result is checked: an event counts as
 * published only when its entry came back with an EventId. Entries are
 * sent in requests of at most 10 entries and less than 256 KB, and
 * retryable entry errors are sent again after a backoff with full jitter.
 */
export class EventBridgePublisher implements EventPublisher {
  private readonly busName: string;
  private readonly source: string;
  private readonly maxAttempts: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: EventBridgeClient,
    options: EventBridgePublisherOptions,
  ) {
    this.busName = options.eventBusName;
    this.source = options.source ?? 'mql-engine';
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseBackoffMs = options.baseBackoffMs ?? 50;
    this.maxBackoffMs = options.maxBackoffMs ?? 500;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  async publish(events: readonly OutgoingEvent[]): Promise<PublishResult> {
    const result: PublishResult = { published: [], failed: [] };
    const valid: PendingEntry[] = [];
    for (const event of events) {
      const entry = this.toEntry(event);
      const problem =
        entry === undefined
          ? undefined
          : (entryProblem(entry) ??
            detailProblem(event.detailType, event.detail));
      if (entry !== undefined && problem === undefined) {
        valid.push({ eventId: event.eventId, entry });
        continue;
      }
      result.failed.push({
        eventId: event.eventId,
        errorCode: INVALID_ENTRY_CODE,
        errorMessage: problem ?? 'Detail is not serializable as JSON.',
        retryable: false,
        throttled: false,
      });
    }
    for (const batch of requestBatches(valid)) {
      const outcome = await this.sendWithRetries(batch);
      result.published.push(...outcome.published);
      result.failed.push(...outcome.failed);
    }
    return result;
  }

  /** Returns the entry, or undefined when the detail is not JSON. */
  private toEntry(event: OutgoingEvent): PutEventsRequestEntry | undefined {
    let detail: string | undefined;
    try {
      detail = JSON.stringify(event.detail);
    } catch {
      return undefined;
    }
    if (detail === undefined) return undefined;
    return {
      EventBusName: this.busName,
      Source: this.source,
      DetailType: event.detailType,
      Detail: detail,
      Time: new Date(event.detail.occurredAt),
    };
  }

  private async sendWithRetries(batch: PendingEntry[]): Promise<PublishResult> {
    const published: string[] = [];
    let pending = batch;
    let failed: FailedEvent[] = [];
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      const { results, requestFailed, requestThrottled } =
        await this.send(pending);
      const retry: PendingEntry[] = [];
      failed = [];
      pending.forEach((item, index) => {
        const outcome = results[index];
        if (outcome?.EventId) {
          published.push(item.eventId);
          return;
        }
        const failure = failureOf(item.eventId, outcome, {
          requestFailed,
          requestThrottled,
        });
        failed.push(failure);
        if (failure.retryable) retry.push(item);
      });
      if (retry.length === 0) break;
      pending = retry;
      if (attempt < this.maxAttempts) {
        await this.sleep(this.backoffMs(attempt));
      }
    }
    return { published, failed };
  }

  /**
   * Sends one request. A request that fails as a whole, after the SDK's
   * own retries, is reported as a retryable failure of each entry. Its
   * cause (a missing permission, an unreachable endpoint) lies outside the
   * entries, so the same entries can succeed once the cause is fixed.
   */
  private async send(pending: PendingEntry[]): Promise<{
    results: Array<PutEventsResultEntry | undefined>;
    requestFailed: boolean;
    requestThrottled: boolean;
  }> {
    try {
      const response = await this.client.send(
        new PutEventsCommand({ Entries: pending.map((item) => item.entry) }),
      );
      return {
        results: pending.map((_, index) => response.Entries?.[index]),
        requestFailed: false,
        requestThrottled: false,
      };
    } catch (error) {
      const failure = {
        ErrorCode: error instanceof Error ? error.name : 'Error',
        ErrorMessage: error instanceof Error ? error.message : String(error),
      };
      return {
        results: pending.map(() => failure),
        requestFailed: true,
        requestThrottled: isThrottlingError(error),
      };
    }
  }

  /** Full jitter: a random delay up to the capped exponential backoff. */
  private backoffMs(attempt: number): number {
    const cap = Math.min(
      this.maxBackoffMs,
      this.baseBackoffMs * 2 ** (attempt - 1),
    );
    return Math.floor(this.random() * cap);
  }
}

function failureOf(
  eventId: string,
  outcome: PutEventsResultEntry | undefined,
  request: { requestFailed: boolean; requestThrottled: boolean },
): FailedEvent {
  const errorCode = outcome?.ErrorCode ?? 'MissingResult';
  return {
    eventId,
    errorCode,
    errorMessage: outcome?.ErrorMessage ?? 'No result for this entry.',
    retryable:
      request.requestFailed || !NON_RETRYABLE_ERROR_CODES.has(errorCode),
    throttled: request.requestThrottled || isThrottlingCode(errorCode),
  };
}

/**
 * Splits entries into requests of at most 10 entries whose sizes add up
 * to less than 256 KB, keeping their order.
 */
export function requestBatches<T extends { entry: PutEventsRequestEntry }>(
  items: readonly T[],
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = entrySize(item.entry);
    const full =
      current.length === MAX_ENTRIES_PER_REQUEST ||
      bytes + size >= MAX_REQUEST_BYTES;
    if (full && current.length > 0) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
