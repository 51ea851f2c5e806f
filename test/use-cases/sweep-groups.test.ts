import {
  type DynamoDBClient,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../functions/domain/outgoing-events.js';
import { DAY_MS } from '../../functions/domain/time.js';
import type { LeadRepository } from '../../functions/ports/lead-repository.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { demoRequested, qualifyingBatch } from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';

const HOUR_MS = 3_600_000;

/**
 * Qualifies `count` leads at the clock's time on a table with one review
 * shard, so all of them come due on one page, and returns their ids and
 * their common review time. With `account`, the leads share one company
 * account, whose membership the sweep updates too. Without it they have
 * no email or company name, so they belong to no account.
 */
async function dueLeads(
  prefix: string,
  count: number,
  { account }: { account: boolean },
) {
  const real = await realDependencies({ reviewShards: 1 });
  const { deps, clock } = real;
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  // The qualifications need no bus: an accepting publisher empties the
  // outbox without the cost of moto's PutEvents.
  const publisher = deps.publisher;
  deps.publisher = {
    publish: async (events) => ({
      published: events.map((event) => event.eventId),
      failed: [],
    }),
  };
  await ingestMessages(deps, {
    sourceId: 'default',
    messages: ids.flatMap((leadId) =>
      account ? qualifyingBatch(leadId) : accountlessBatch(leadId),
    ),
    receivedAt: clock.now,
  });
  deps.publisher = publisher;
  const states = await deps.repository.getLeads(ids);
  const reviews = new Set([...states.values()].map((s) => s.nextReviewAt));
  expect(states.size).toBe(count);
  expect(reviews.size).toBe(1);
  const dueAt = [...reviews][0] ?? Number.NaN;
  return { ...real, ids, dueAt };
}

/** Qualifying messages of a lead with no email and no company name. */
function accountlessBatch(leadId: string) {
  const traits = {
    title: 'Chief Procurement Officer',
    company: { industry: 'Manufacturing', employee_count: 25000 },
  };
  const [identify, ...rest] = qualifyingBatch(leadId);
  return [{ ...identify, traits }, ...rest];
}

/** Lead ids of the "Lead Recycled" events the bus accepted, in order. */
function recycledLeads(real: Awaited<ReturnType<typeof realDependencies>>) {
  return real.published
    .filter((event) => event.detailType === DETAIL_TYPES.recycled)
    .map((event) => event.leadId);
}

/** Records the lead state writes and lead reads a client sends. */
function recordLeadCalls(client: DynamoDBClient) {
  const calls = {
    /** Lead ids of the state puts of each TransactWriteItems call. */
    transactions: [] as string[][],
    /** Item count of each TransactWriteItems call. */
    transactionItems: [] as number[],
    /** Lead ids read by GetItem or BatchGetItem, once per read. */
    reads: [] as string[],
  };
  const leadOf = (key: Record<string, { S?: string }> | undefined) =>
    key?.SK?.S === 'STATE' ? key.PK?.S?.replace(/^LEAD#/, '') : undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (context.commandName === 'TransactWriteItemsCommand') {
        const items = (input as unknown as TransactWriteItemsCommandInput)
          .TransactItems;
        calls.transactionItems.push(items?.length ?? 0);
        calls.transactions.push(
          (items ?? []).flatMap((item) => {
            const leadId = leadOf(item.Put?.Item as never);
            return leadId === undefined ? [] : [leadId];
          }),
        );
      }
      if (context.commandName === 'GetItemCommand') {
        const leadId = leadOf(input.Key as never);
        if (leadId !== undefined) calls.reads.push(leadId);
      }
      if (context.commandName === 'BatchGetItemCommand') {
        const requests = input.RequestItems as Record<
          string,
          { Keys: Record<string, { S?: string }>[] }
        >;
        for (const { Keys } of Object.values(requests)) {
          for (const key of Keys) {
            const leadId = leadOf(key);
            if (leadId !== undefined) calls.reads.push(leadId);
          }
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordLeadCalls' },
  );
  return calls;
}

describe('grouped sweep writes', () => {
  it('commits many due leads in few transactions', async () => {
    const real = await dueLeads('many', 40, { account: false });
    const { deps, ids, dueAt } = real;
    const calls = recordLeadCalls(real.table.client);

    const sweep = await runSweep(deps, {
      now: dueAt + HOUR_MS,
      deadline: Infinity,
    });

    expect(sweep.read).toBe(40);
    expect(sweep.leadsChanged).toBe(40);
    expect(sweep.recycled).toBe(40);
    expect(sweep.incomplete).toBe(false);
    expect(recycledLeads(real).sort()).toEqual([...ids].sort());
    const leadWrites = calls.transactions.filter((leads) => leads.length > 0);
    expect(leadWrites.flat().sort()).toEqual([...ids].sort());
    expect(leadWrites.length).toBeLessThanOrEqual(2);
    expect(Math.max(...calls.transactionItems)).toBeLessThanOrEqual(100);
    expect(calls.reads.sort()).toEqual([...ids].sort());
    for (const leadId of ids) {
      const lead = await deps.repository.getLead(leadId);
      expect(lead?.status).toBe('recycled');
      expect(lead?.recycledAt).toBe(dueAt);
    }
  });

  it('keeps the change of a racing ingest', async () => {
    const real = await dueLeads('raced', 6, { account: true });
    const { deps, ids, dueAt, log } = real;
    const now = dueAt + DAY_MS;
    const repository = deps.repository;
    const racing: LeadRepository = Object.create(repository);
    let raced = false;
    // The ingest commits after the sweep read the page and before its
    // grouped write, which then fails for this lead alone.
    racing.saveLeadChanges = async (changes) => {
      if (!raced) {
        raced = true;
        await ingestMessages(deps, {
          sourceId: 'default',
          messages: [demoRequested('raced-2', { messageId: 'raced-2-demo-2' })],
          receivedAt: now,
        });
      }
      return repository.saveLeadChanges(changes);
    };

    const sweep = await runSweep(
      { ...deps, repository: racing },
      { now, deadline: Infinity },
    );

    expect(raced).toBe(true);
    expect(sweep.leadsChanged).toBe(5);
    const conflicts = log.entries.filter(
      (entry) => entry.message === 'sweep group conflict',
    );
    expect(conflicts.map((entry) => entry.fields?.leadIds)).toEqual([
      ['raced-2'],
    ]);
    const lead = await repository.getLead('raced-2');
    expect(lead?.eventCount).toBe(4);
    expect(lead?.status).toBe('recycled');
    expect(lead?.recycledAt).toBe(dueAt);
    expect(lead?.nextReviewAt).toBe(dueAt + 30 * DAY_MS);
    expect(recycledLeads(real).sort()).toEqual([...ids].sort());
    for (const leadId of ids) {
      expect((await repository.getLead(leadId))?.status).toBe('recycled');
    }
  });

  it('retries a group cancelled by a transaction conflict', async () => {
    const real = await dueLeads('conflict', 5, { account: false });
    const { deps, ids, dueAt, log } = real;
    const client = real.table.client;
    const send = client.send.bind(client);
    const mock = mockClient(client);
    let cancelled = 0;
    // The first grouped transaction fails as a whole, as when another
    // transaction held its items; every later call reaches DynamoDB Local.
    mock.send.callsFake(async (command: unknown) => {
      if (command instanceof TransactWriteItemsCommand) {
        const items = command.input.TransactItems ?? [];
        if (cancelled === 0 && items.length > 5) {
          cancelled += 1;
          throw new TransactionCanceledException({
            message: 'Transaction cancelled',
            $metadata: {},
            CancellationReasons: items.map(() => ({
              Code: 'TransactionConflict',
            })),
          });
        }
      }
      return send(command as never);
    });

    const sweep = await runSweep(deps, {
      now: dueAt + HOUR_MS,
      deadline: Infinity,
    }).finally(() => mock.restore());

    expect(cancelled).toBe(1);
    expect(sweep.leadsChanged).toBe(5);
    expect(sweep.incomplete).toBe(false);
    const conflicts = log.entries.filter(
      (entry) => entry.message === 'sweep group conflict',
    );
    expect(conflicts).toHaveLength(1);
    expect(recycledLeads(real).sort()).toEqual([...ids].sort());
    const again = await runSweep(deps, {
      now: dueAt + 2 * HOUR_MS,
      deadline: Infinity,
    });
    expect(again.leadsChanged).toBe(0);
    expect(recycledLeads(real)).toHaveLength(5);
  });

  it('leaves leads due when their batch read fails', async () => {
    const real = await dueLeads('unread', 4, { account: false });
    const { deps, ids, dueAt, log } = real;
    const options = { now: dueAt + HOUR_MS, deadline: Infinity };
    const failing: LeadRepository = Object.create(deps.repository);
    failing.getLeads = async () => {
      throw new Error('connection reset');
    };

    const failed = await runSweep({ ...deps, repository: failing }, options);
    const next = await runSweep(deps, options);

    expect(failed.incomplete).toBe(true);
    expect(failed.leadsChanged).toBe(0);
    const errors = log.entries.filter(
      (entry) => entry.message === 'sweep lead read failed',
    );
    expect(errors).toHaveLength(1);
    expect(next.incomplete).toBe(false);
    expect(next.leadsChanged).toBe(4);
    expect(recycledLeads(real).sort()).toEqual([...ids].sort());
  });

  it('publishes each transition once across overlapping sweeps', async () => {
    const real = await dueLeads('overlap', 30, { account: false });
    const { deps, ids, dueAt } = real;
    const options = { now: dueAt + HOUR_MS, deadline: Infinity };

    const runs = await Promise.all([
      runSweep(deps, options),
      runSweep(deps, options),
      runSweep(deps, options),
    ]);

    const changed = runs.reduce((sum, run) => sum + run.leadsChanged, 0);
    expect(changed).toBe(30);
    expect(recycledLeads(real).sort()).toEqual([...ids].sort());
  });
});
