import { describe, expect, it } from 'vitest';
import {
  type Batch,
  type BatchItem,
  type BatchLimits,
  batchBody,
  ENVELOPE_BYTES,
  toBatches,
} from '../../scripts/replay/batches.js';
import type { ReplayRecord } from '../../scripts/replay/records.js';

function record(origin: string, sizes: number[], endOffset = 0): ReplayRecord {
  return {
    kind: 'record',
    origin,
    endOffset,
    messages: sizes.map((size, index) => ({
      id: `${origin}-${index}`,
      pad: 'x'.repeat(size),
    })),
  };
}

async function batchesOf(
  records: ReplayRecord[],
  limits: BatchLimits,
): Promise<{ batches: Batch[]; oversized: BatchItem[] }> {
  const oversized: BatchItem[] = [];
  const batches: Batch[] = [];
  const source = (async function* () {
    yield* records;
  })();
  for await (const batch of toBatches(source, limits, (item) =>
    oversized.push(item),
  )) {
    batches.push(batch);
  }
  return { batches, oversized };
}

const origins = (batch: Batch | undefined) =>
  batch?.items.map((item) => item.origin);

describe('toBatches', () => {
  it('splits by message count', async () => {
    const records = [record('a', [1, 1]), record('b', [1]), record('c', [1])];

    const { batches } = await batchesOf(records, {
      maxMessages: 2,
      maxBytes: 10_000,
    });

    expect(batches.map(origins)).toEqual([
      ['a', 'a'],
      ['b', 'c'],
    ]);
  });

  it('keeps the messages of one record together', async () => {
    const records = [record('a', [1]), record('b', [1, 1])];

    const { batches } = await batchesOf(records, {
      maxMessages: 2,
      maxBytes: 10_000,
    });

    expect(batches.map(origins)).toEqual([['a'], ['b', 'b']]);
  });

  it('splits a record larger than a batch', async () => {
    const { batches } = await batchesOf([record('a', [1, 1, 1])], {
      maxMessages: 2,
      maxBytes: 10_000,
    });

    expect(batches.map(origins)).toEqual([['a', 'a'], ['a']]);
  });

  it('keeps every request body within the byte limit', async () => {
    const records = Array.from({ length: 40 }, (_, i) =>
      record(`r${i}`, [50 + i * 7, 30]),
    );
    const limits = { maxMessages: 1000, maxBytes: 1_000 };

    const { batches, oversized } = await batchesOf(records, limits);

    expect(oversized).toEqual([]);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      const body = batchBody(batch, new Date().toISOString());
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(limits.maxBytes);
      expect(JSON.parse(body).batch).toHaveLength(batch.items.length);
    }
    const sent = batches.flatMap((batch) => batch.items).length;
    expect(sent).toBe(80);
  });

  it('leaves out a message too large for any batch', async () => {
    const { batches, oversized } = await batchesOf(
      [record('a', [10, 2_000, 10])],
      { maxMessages: 100, maxBytes: 500 },
    );

    expect(oversized.map((item) => item.origin)).toEqual(['a']);
    expect(batches.flatMap((b) => b.items)).toHaveLength(2);
  });

  it('carries the end offset of the last record', async () => {
    const records = [record('a', [1], 100), record('b', [1], 250)];

    const { batches } = await batchesOf(records, {
      maxMessages: 1,
      maxBytes: 10_000,
    });

    expect(batches.map((batch) => batch.endOffset)).toEqual([100, 250]);
  });

  it('sends the JSON text of a record as it is', async () => {
    const depth = 20_000;
    const deep = `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const texts = ['{"n": 1e400}', deep];
    const written: ReplayRecord = {
      kind: 'record',
      origin: 'line 1',
      endOffset: 0,
      messages: [{ n: Number.POSITIVE_INFINITY }, {}],
      jsonTexts: texts,
    };

    const { batches } = await batchesOf([written], {
      maxMessages: 10,
      maxBytes: 500_000,
    });

    expect(batches[0]?.items.map((item) => item.json)).toEqual(texts);
  });

  it('yields nothing for no records', async () => {
    const { batches } = await batchesOf([], {
      maxMessages: 10,
      maxBytes: 1_000,
    });

    expect(batches).toEqual([]);
  });
});

describe('batchBody', () => {
  it('fits the envelope allowance', () => {
    const body = batchBody(
      { items: [], endOffset: 0 },
      new Date().toISOString(),
    );

    expect(JSON.parse(body)).toEqual({ batch: [], sentAt: expect.any(String) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(ENVELOPE_BYTES);
  });
});
