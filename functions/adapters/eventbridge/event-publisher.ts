import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import type { OutgoingEvent } from '../../domain/outgoing-events.js';
import type {
  EventPublisher,
  FailedEvent,
  PublishResult,
} from '../../ports/event-publisher.js';

/** PutEvents limits: 10 entries and 256 KB per request. */
export const MAX_ENTRIES_PER_REQUEST = 10;
export const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_DETAIL_TYPE_LENGTH = 128;

/** Entry error codes that may succeed when the entry is sent again. */
const RETRYABLE_CODES = new Set([
  'ThrottlingException',
  'InternalFailure',
  'InternalException',
  'ServiceUnavailableException',
]);

/** Settings of the EventBridge publisher. */
export interface EventBridgePublisherOptions {
  eventBusName: string;
  /** Source of every event. @default 'mql-engine' */
  source?: string;
  /** Sends per entry before a retryable failure is returned. @default 3 */
  maxAttempts?: number;
  /** Cap of the jittered delay between attempts. @default 200 */
  maxBackoffMs?: number;
}

/**
 * Publishes outgoing events with PutEvents. PutEvents answers 200 even
 * when entries fail, so each entry's result is checked: an event counts as
 * published only when its entry came back with an EventId.
 */
export class EventBridgePublisher implements EventPublisher {
  private readonly busName: string;
  private readonly source: string;
  private readonly maxAttempts: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly client: EventBridgeClient,
    options: EventBridgePublisherOptions,
  ) {
    this.busName = options.eventBusName;
    this.source = options.source ?? 'mql-engine';
    this.maxAttempts = options.maxAttempts ?? 3;
    this.maxBackoffMs = options.maxBackoffMs ?? 200;
  }

  async publish(events: readonly OutgoingEvent[]): Promise<PublishResult> {
    const result: PublishResult = { published: [], failed: [] };
    const valid: Array<{ eventId: string; entry: PutEventsRequestEntry }> = [];
    for (const event of events) {
      const entry = this.toEntry(event);
      const problem = entryProblem(entry);
      if (problem === undefined) {
        valid.push({ eventId: event.eventId, entry });
      } else {
        result.failed.push({
          eventId: event.eventId,
          errorCode: 'InvalidEntry',
          errorMessage: problem,
          retryable: false,
        });
      }
    }
    for (const batch of requestBatches(valid)) {
      const outcome = await this.sendWithRetries(batch);
      result.published.push(...outcome.published);
      result.failed.push(...outcome.failed);
    }
    return result;
  }

  private toEntry(event: OutgoingEvent): PutEventsRequestEntry {
    return {
      EventBusName: this.busName,
      Source: this.source,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail),
      Time: new Date(event.detail.occurredAt),
    };
  }

  private async sendWithRetries(
    batch: Array<{ eventId: string; entry: PutEventsRequestEntry }>,
  ): Promise<PublishResult> {
    const published: string[] = [];
    let pending = batch;
    let failed: FailedEvent[] = [];
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      const response = await this.client.send(
        new PutEventsCommand({ Entries: pending.map((item) => item.entry) }),
      );
      const retry: typeof pending = [];
      failed = [];
      pending.forEach((item, index) => {
        const entry = response.Entries?.[index];
        if (entry?.EventId) {
          published.push(item.eventId);
          return;
        }
        const errorCode = entry?.ErrorCode ?? 'MissingResult';
        const retryable =
          RETRYABLE_CODES.has(errorCode) || errorCode === 'MissingResult';
        failed.push({
          eventId: item.eventId,
          errorCode,
          errorMessage: entry?.ErrorMessage ?? 'No result for this entry.',
          retryable,
        });
        if (retryable) retry.push(item);
      });
      if (retry.length === 0) break;
      pending = retry;
      if (attempt < this.maxAttempts) {
        const cap = Math.min(this.maxBackoffMs, 25 * 2 ** attempt);
        await new Promise((r) => setTimeout(r, Math.random() * cap));
      }
    }
    return { published, failed };
  }
}

/** Returns why an entry would be rejected, or undefined when it is valid. */
function entryProblem(entry: PutEventsRequestEntry): string | undefined {
  const detailType = entry.DetailType ?? '';
  if (detailType.length === 0 || detailType.length > MAX_DETAIL_TYPE_LENGTH) {
    return `DetailType must have 1 to ${MAX_DETAIL_TYPE_LENGTH} characters.`;
  }
  if (entrySize(entry) > MAX_REQUEST_BYTES) {
    return `Entry exceeds the PutEvents limit of ${MAX_REQUEST_BYTES} bytes.`;
  }
  return undefined;
}

/**
 * Returns an entry's size as EventBridge counts it: the UTF-8 bytes of
 * source, detail type and detail, plus 14 bytes for the time.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  return (
    14 +
    Buffer.byteLength(entry.Source ?? '') +
    Buffer.byteLength(entry.DetailType ?? '') +
    Buffer.byteLength(entry.Detail ?? '')
  );
}

function requestBatches<T extends { entry: PutEventsRequestEntry }>(
  items: readonly T[],
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = entrySize(item.entry);
    const full =
      current.length === MAX_ENTRIES_PER_REQUEST ||
      bytes + size > MAX_REQUEST_BYTES;
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
