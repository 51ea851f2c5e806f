import {
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  accountPartition,
  leadPartition,
} from '../../functions/adapters/dynamodb/items.js';
import type { ProblemDetails } from '../../functions/adapters/http/problem.js';
import type { HttpResponse } from '../../functions/adapters/http/responses.js';
import { runtime } from '../../functions/adapters/runtime.js';
import { handler as leads } from '../../functions/handlers/leads.js';
import type { IngestResult } from '../../functions/use-cases/ingest-messages.js';
import { routeEvent } from '../fixtures/api-gateway-events.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import {
  type FaultPlan,
  faultyRepository,
} from '../races/support/faulty-dynamodb.js';
import {
  bodyOf,
  expectCapacityExceeded,
  getLead,
  postBatch,
  postDisposition,
} from '../support/handler-calls.js';
import {
  startTrackingBackend,
  type TrackingBackend,
} from '../support/tracking-api.js';

let backend: TrackingBackend;
const plan: { current: FaultPlan } = { current: () => 'pass' };

beforeAll(async () => {
  backend = await startTrackingBackend();
  // The handlers keep using the runtime built here, with a repository
  // whose DynamoDB calls pass through `plan` to DynamoDB Local.
  const { deps } = await runtime();
  const tableName = process.env.TABLE_NAME ?? '';
  deps.repository = faultyRepository(
    plan,
    tableName,
    deps.repository.reviewShards,
  ).repository;
});

afterAll(async () => {
  await backend?.stop();
});

beforeEach(() => {
  plan.current = () => 'pass';
});

/** Returns a TransactionCanceledException with `code` on one item. */
function cancelled(input: unknown, code: string, index = 0): Error {
  const items = (input as TransactWriteItemsCommandInput).TransactItems ?? [];
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${code}]`,
    $metadata: {},
    CancellationReasons: items.map((_, position) => ({
      Code: position === index ? code : 'None',
    })),
  });
}

/** Returns the error DynamoDB raises beyond the table's throughput. */
function throughputExceeded(): Error {
  return new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput was exceeded.',
    $metadata: {},
  });
}

/** Tells whether a TransactWriteItems input writes the lead's partition. */
function writesLead(input: unknown, leadId: string): boolean {
  return JSON.stringify(input).includes(`"${leadPartition(leadId)}"`);
}

/**
 * Fails the first `times` transactions that write `leadId` with the
 * error from `fault`, and passes every other call.
 */
function failTransactions(
  leadId: string,
  fault: (input: unknown) => Error,
  times = 1,
): FaultPlan {
  let failed = 0;
  return (command, input) => {
    if (command !== 'TransactWriteItemsCommand') return 'pass';
    if (!writesLead(input, leadId) || failed >= times) return 'pass';
    failed += 1;
    return { failBefore: fault(input) };
  };
}

/** The rejection that these tests record. */
const REJECTION = { disposition: 'rejected', reason: 'no budget this year' };

/** Returns the message ids of the events stored for a lead, sorted. */
async function storedMessageIds(leadId: string): Promise<string[]> {
  const events = await backend.storedEvents(leadId);
  return events.map((stored) => stored.messageId).sort();
}

const THROTTLING_REASONS = [
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
];

describe('throttled writes on the tracking routes', () => {
  it.each(THROTTLING_REASONS)(
    'answers a %s cancellation with 503',
    async (code) => {
      const leadId = `throttled-${code}`;
      plan.current = failTransactions(leadId, (input) =>
        cancelled(input, code),
      );

      const response = await postBatch(qualifyingBatch(leadId));

      expectCapacityExceeded(response);
      expect(await storedMessageIds(leadId)).toEqual([]);
    },
  );

  it('answers a conflict beside a throttle with 503', async () => {
    const leadId = 'conflict-and-throttle';
    plan.current = failTransactions(leadId, (input) => {
      const error = cancelled(input, 'ThrottlingError', 1);
      const reasons = (error as TransactionCanceledException)
        .CancellationReasons;
      if (reasons?.[0] !== undefined) reasons[0].Code = 'TransactionConflict';
      return error;
    });

    const response = await postBatch(qualifyingBatch(leadId));

    expectCapacityExceeded(response);
  });

  it('answers a throttled read with 503', async () => {
    const leadId = 'throttled-read';
    plan.current = (command) =>
      command === 'BatchGetItemCommand'
        ? { failBefore: throughputExceeded() }
        : 'pass';

    const response = await postBatch(qualifyingBatch(leadId));

    expectCapacityExceeded(response);
  });

  it('stores each message once on retry', async () => {
    const stored = 'retry-stored';
    const throttled = 'retry-throttled';
    const batch = [...qualifyingBatch(stored), ...qualifyingBatch(throttled)];
    plan.current = failTransactions(throttled, (input) =>
      cancelled(input, 'ThrottlingError'),
    );

    const first = await postBatch(batch);
    plan.current = () => 'pass';
    const retry = await postBatch(batch);
    const again = await postBatch(batch);

    expectCapacityExceeded(first);
    expect(retry.statusCode).toBe(200);
    const result = JSON.parse(String(retry.body)) as IngestResult;
    const statuses = Object.fromEntries(
      result.results.map((entry) => [entry.messageId, entry.status]),
    );
    for (const message of qualifyingBatch(throttled)) {
      expect(statuses[message.messageId]).toBe('scored');
    }
    for (const message of qualifyingBatch(stored)) {
      expect(statuses[message.messageId]).toBe('duplicate');
    }
    const repeated = JSON.parse(String(again.body)) as IngestResult;
    expect(repeated.counts).toEqual({ scored: 0, duplicate: 6, rejected: 0 });
    for (const leadId of [stored, throttled]) {
      const expected = qualifyingBatch(leadId)
        .map((message) => message.messageId)
        .sort();
      expect(await storedMessageIds(leadId)).toEqual(expected);
    }
  });

  it('answers lasting conflicts with 503', async () => {
    const leadId = 'lasting-conflict';
    plan.current = failTransactions(
      leadId,
      (input) => cancelled(input, 'TransactionConflict'),
      Number.POSITIVE_INFINITY,
    );

    const first = await postBatch(qualifyingBatch(leadId));
    plan.current = () => 'pass';
    const retry = await postBatch(qualifyingBatch(leadId));

    expect(first.statusCode).toBe(503);
    expect(first.headers?.['retry-after']).toBe('1');
    expect(bodyOf<ProblemDetails>(first).type).toBe(
      'urn:mql-engine:problem:concurrent-update',
    );
    expect(retry.statusCode).toBe(200);
    expect(await storedMessageIds(leadId)).toEqual(
      qualifyingBatch(leadId)
        .map((message) => message.messageId)
        .sort(),
    );
  }, 30_000);
});

describe('throttled writes on the admin routes', () => {
  it('answers a throttled disposition with 503', async () => {
    const leadId = 'disposition-throttled';
    expect((await postBatch(qualifyingBatch(leadId))).statusCode).toBe(200);
    plan.current = failTransactions(leadId, (input) =>
      cancelled(input, 'ProvisionedThroughputExceeded'),
    );

    const first = await postDisposition(leadId, REJECTION);
    plan.current = () => 'pass';
    const retry = await postDisposition(leadId, REJECTION);
    const again = await postDisposition(leadId, REJECTION);

    expectCapacityExceeded(first);
    expect(retry.statusCode).toBe(200);
    expect(again.statusCode).toBe(200);
    const history = (await leads(
      routeEvent('GET /leads/{leadId}/history', { pathParameters: { leadId } }),
    )) as HttpResponse;
    const entries = JSON.parse(String(history.body)).entries as Array<{
      cause: string;
    }>;
    expect(
      entries.filter((entry) => entry.cause === 'disposition'),
    ).toHaveLength(1);
  });

  it('checks the account again on retry', async () => {
    const leadId = 'disposition-account';
    expect((await postBatch(qualifyingBatch(leadId))).statusCode).toBe(200);
    // The disposition commits, then the read of the lead's account for
    // its account check is throttled.
    let accountReads = 0;
    const readsAccount = (command: string, input: unknown) =>
      command === 'QueryCommand' &&
      JSON.stringify(input).includes(`"${accountPartition('')}`);
    plan.current = (command, input) => {
      if (!readsAccount(command, input)) return 'pass';
      accountReads += 1;
      return { failBefore: throughputExceeded() };
    };

    const first = await postDisposition(leadId, REJECTION);
    const throttledReads = accountReads;
    plan.current = (command, input) => {
      if (readsAccount(command, input)) accountReads += 1;
      return 'pass';
    };
    const retry = await postDisposition(leadId, REJECTION);

    expectCapacityExceeded(first);
    expect(throttledReads).toBe(1);
    expect(retry.statusCode).toBe(200);
    expect(accountReads).toBeGreaterThan(throttledReads);
  });

  it('answers a throttled lead read with 503', async () => {
    const leadId = 'read-throttled';
    expect((await postBatch(qualifyingBatch(leadId))).statusCode).toBe(200);
    plan.current = (command) =>
      command === 'GetItemCommand'
        ? { failBefore: throughputExceeded() }
        : 'pass';

    const response = await getLead(leadId);

    expectCapacityExceeded(response);
  });
});
