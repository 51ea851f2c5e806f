import type { ReplayRecord } from './records.js';

/** A serialized message and where it came from. */
export interface BatchItem {
  json: string;
  origin: string;
}

/** Messages for one POST /v1/batch request. */
export interface Batch {
  items: BatchItem[];
  /** Bytes of the input file up to the end of the batch's last record. */
  endOffset: number;
}

export interface BatchLimits {
  maxMessages: number;
  /** Maximum request body in UTF-8 bytes, including the envelope. */
  maxBytes: number;
}

/**
 * Bytes of the request envelope around the messages:
 * `{"batch":[],"sentAt":"2026-01-31T12:00:00.000Z"}` is 48 bytes.
 */
export const ENVELOPE_BYTES = 64;

/**
 * Groups the messages of the records into batches within the limits. The
 * messages of one record stay in one batch unless they exceed a batch on
 * their own, so one lead's messages are scored in one request. A message
 * too large for any batch is passed to `onOversized` and left out. A
 * message is sent as the record's JSON text of it when it has one.
 */
export async function* toBatches(
  records: AsyncIterable<ReplayRecord>,
  limits: BatchLimits,
  onOversized: (item: BatchItem, bytes: number) => void,
): AsyncGenerator<Batch> {
  const builder = new BatchBuilder(limits);
  for await (const record of records) {
    const items = record.messages.map((message, index) => ({
      json: record.jsonTexts?.[index] ?? JSON.stringify(message),
      origin: record.origin,
    }));
    if (!builder.fits(items)) {
      yield* builder.flush();
    }
    for (const item of items) {
      const bytes = Buffer.byteLength(item.json);
      if (bytes + ENVELOPE_BYTES > limits.maxBytes) {
        onOversized(item, bytes);
        continue;
      }
      if (!builder.fits([item])) {
        yield* builder.flush();
      }
      builder.add(item, bytes, record.endOffset);
    }
  }
  yield* builder.flush();
}

/** Collects items of the batch being filled. */
class BatchBuilder {
  private items: BatchItem[] = [];
  private bytes = ENVELOPE_BYTES;
  private endOffset = 0;

  constructor(private readonly limits: BatchLimits) {}

  /** Tells whether the items fit in the current batch. */
  fits(items: readonly BatchItem[]): boolean {
    let bytes = this.bytes;
    for (const item of items) {
      bytes += Buffer.byteLength(item.json) + 1;
    }
    const count = this.items.length + items.length;
    return count <= this.limits.maxMessages && bytes <= this.limits.maxBytes;
  }

  add(item: BatchItem, bytes: number, endOffset: number): void {
    this.items.push(item);
    // One more byte for the comma between messages.
    this.bytes += bytes + 1;
    this.endOffset = Math.max(this.endOffset, endOffset);
  }

  /** Yields the current batch unless it is empty, and starts a new one. */
  *flush(): Generator<Batch> {
    if (this.items.length === 0) return;
    yield { items: this.items, endOffset: this.endOffset };
    this.items = [];
    this.bytes = ENVELOPE_BYTES;
  }
}

/** Builds the request body of a batch. */
export function batchBody(batch: Batch, sentAt: string): string {
  const messages = batch.items.map((item) => item.json).join(',');
  return `{"batch":[${messages}],"sentAt":"${sentAt}"}`;
}
