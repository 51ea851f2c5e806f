import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  type BatchWriteItemCommandOutput,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateToItem } from '../../functions/adapters/dynamodb/items.js';
import {
  DEFAULT_REVIEW_SHARDS,
  TABLE_LAYOUT,
} from '../../functions/adapters/dynamodb/table-layout.js';
import { newLead } from '../../functions/domain/lead.js';
import { mapWithConcurrency } from '../../functions/use-cases/concurrency.js';
import { loadStageConfig } from '../../lib/stage-config.js';
import type { LocalFunctionSettings } from '../../local/lambda-context.js';
import { runLocalSweep } from '../../local/sweep.js';
import { defaultModel } from '../support/dependencies.js';
import {
  startTrackingBackend,
  type TrackingBackend,
} from '../support/tracking-api.js';

/**
 * Timeout of the sweep function in this file. A run stops taking items
 * 10 s before the timeout, so each run here takes items for 1 s.
 */
const SWEEP_TIMEOUT_SECONDS = 11;

/**
 * Due leads. A run of 1 s read 650 to 1,040 of them on a shared
 * 2-core machine, so they take several runs. Without the context, one
 * run of up to 50 s would review them all.
 */
const LEADS = 3000;

/** Runs after which the test gives up on the sweep finishing. */
const MAX_RUNS = 60;

const BATCH_WRITE_LIMIT = 25;

let backend: TrackingBackend;
let sweep: LocalFunctionSettings;

beforeAll(async () => {
  backend = await startTrackingBackend();
  const configDir = join(import.meta.dirname, '..', '..', 'config', 'stages');
  const { functions } = loadStageConfig('local', configDir);
  sweep = { ...functions.sweep, timeoutSeconds: SWEEP_TIMEOUT_SECONDS };
});

afterAll(async () => {
  await backend?.stop();
});

/** Stores `count` engaged leads whose review fell due at `dueAt`. */
async function storeDueLeads(count: number, dueAt: number): Promise<void> {
  const model = defaultModel();
  const { client, tableName } = backend.table;
  const requests = Array.from({ length: count }, (_, index) => {
    // Version 1, because a write of a lead at version 0 expects no item.
    const state = {
      ...newLead(`due-${index}`, model, dueAt - 60_000),
      version: 1,
      nextReviewAt: dueAt,
    };
    return { PutRequest: { Item: stateToItem(state, DEFAULT_REVIEW_SHARDS) } };
  });
  const batches: (typeof requests)[] = [];
  for (let start = 0; start < count; start += BATCH_WRITE_LIMIT) {
    batches.push(requests.slice(start, start + BATCH_WRITE_LIMIT));
  }
  await mapWithConcurrency(batches, 8, async (batch) => {
    let pending: BatchWriteItemCommandInput['RequestItems'] = {
      [tableName]: batch,
    };
    while (pending !== undefined && Object.keys(pending).length > 0) {
      const output: BatchWriteItemCommandOutput = await client.send(
        new BatchWriteItemCommand({ RequestItems: pending }),
      );
      pending = output.UnprocessedItems;
    }
  });
}

/** Counts the items in the review index, which holds only due items here. */
async function countDue(): Promise<number> {
  const { client, tableName } = backend.table;
  let count = 0;
  let start: ScanCommand['input']['ExclusiveStartKey'];
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        IndexName: TABLE_LAYOUT.reviewIndex.name,
        Select: 'COUNT',
        ExclusiveStartKey: start,
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return count;
}

describe('local sweep at the function timeout', () => {
  it('stops in time and leaves the rest due', {
    timeout: 300_000,
  }, async () => {
    await storeDueLeads(LEADS, Date.now() - 1000);
    let due = await countDue();
    expect(due).toBe(LEADS);

    let runs = 0;
    let incomplete = true;
    while (incomplete && runs < MAX_RUNS) {
      const started = Date.now();
      const result = await runLocalSweep(sweep);
      const elapsed = Date.now() - started;
      runs += 1;

      expect(elapsed).toBeLessThan(SWEEP_TIMEOUT_SECONDS * 1000);
      const left = await countDue();
      expect(left).toBeLessThan(due);
      if (result.incomplete) expect(left).toBeGreaterThan(0);
      due = left;
      incomplete = result.incomplete;
    }

    expect(runs).toBeGreaterThan(1);
    expect(incomplete).toBe(false);
    expect(due).toBe(0);
  });
});
