import {
  BatchWriteItemCommand,
  GetItemCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  leadPartition,
  linkItem,
} from '../../functions/adapters/dynamodb/items.js';
import {
  ConcurrencyError,
  NotFoundError,
} from '../../functions/domain/errors.js';
import {
  ERASURE_HOLD_MS,
  type Erasure,
  ErasurePausedError,
  eraseLead,
} from '../../functions/use-cases/erase-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import {
  blog,
  chainedLead,
  erasedEventsOf,
  identify,
  itemsNaming,
  storeManyItems,
} from '../fixtures/erasure-leads.js';
import { accountModel } from '../fixtures/models.js';
import { holdNextCall } from '../support/held-call.js';
import {
  type FaultPlan,
  faultyDynamoDependencies,
} from './support/faulty-dynamodb.js';
import {
  ingestRetrying,
  type RaceSetup,
  scanTable,
  tableViolations,
} from './support/table-check.js';

/** More merged leads than 1,000, a limit that erasure once had. */
const MERGED_LEADS = 1001;
const BATCH_WRITE_LIMIT = 25;

/** Builds dependencies whose erasure holds use the manual clock. */
async function manualClockSetup(): Promise<RaceSetup> {
  return faultyDynamoDependencies(
    { current: () => 'pass' },
    { model: accountModel() },
  );
}

/**
 * Stores `lead` with one anonymous id merged into it by identify, then
 * copies that tombstone and its link item `count` times under other ids,
 * as `count` identifies would leave them. Returns the ids merged.
 */
async function storeMergedLeads(
  setup: RaceSetup,
  lead: string,
  count: number,
): Promise<string[]> {
  await ingestRetrying(setup, [
    blog({ anonymousId: 'seed' }, 'seed-blog'),
    identify(lead, 'CPO', 'seed'),
  ]);
  const { table } = setup;
  const { Item } = await table.client.send(
    new GetItemCommand({
      TableName: table.tableName,
      Key: marshall({ PK: 'LEAD#anon:seed', SK: 'STATE' }),
    }),
  );
  const tombstone = unmarshall(Item ?? {});
  expect(tombstone.mergedInto).toBe(lead);
  const ids = Array.from({ length: count }, (_, i) => `anon:browser-${i}`);
  const items = ids.flatMap((id) => [
    marshall({ ...tombstone, PK: `LEAD#${id}`, leadId: id }),
    linkItem(lead, id),
  ]);
  for (let start = 0; start < items.length; start += BATCH_WRITE_LIMIT) {
    const batch = items.slice(start, start + BATCH_WRITE_LIMIT);
    await table.client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [table.tableName]: batch.map((Item) => ({ PutRequest: { Item } })),
        },
      }),
    );
  }
  return ['anon:seed', ...ids];
}

/** Makes every read of a lead state move the setup's clock by 1 ms. */
function tickOnEachRead(setup: RaceSetup): void {
  const { repository } = setup.deps;
  const getLead = repository.getLead.bind(repository);
  repository.getLead = async (leadId) => {
    setup.clock.advance(1);
    return getLead(leadId);
  };
}

describe('erasure of many merged leads', () => {
  it('continues across requests and the sweep', {
    timeout: 120_000,
  }, async () => {
    const setup = await manualClockSetup();
    const { deps, clock } = setup;
    const lead = 'many@acme.example';
    const merged = await storeMergedLeads(setup, lead, MERGED_LEADS);
    tickOnEachRead(setup);
    const eraseWithDeadline = () =>
      eraseLead(deps, lead, { deadline: clock.now + 500 });

    // Each request stops at its deadline, and the next one continues.
    for (let request = 0; request < 2; request += 1) {
      await expect(eraseWithDeadline()).rejects.toThrow(
        /not finished: it deleted \d+ item\(s\).*Repeat the request/,
      );
    }
    const tombstonesLeft = async () =>
      (await scanTable(setup)).filter((item) =>
        String(item.PK).startsWith('LEAD#anon:'),
      ).length;
    const left = await tombstonesLeft();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(MERGED_LEADS);
    // Between requests the lead takes no events.
    await expect(
      ingestMessages(deps, {
        sourceId: 'web',
        messages: [blog({ userId: lead }, 'between-requests')],
        receivedAt: clock.now,
      }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    // The request is not repeated, and the sweep finishes the erasure.
    await runSweep(deps, { now: clock.now, deadline: Infinity });

    for (const id of [lead, merged[0] ?? '', merged.at(-1) ?? '']) {
      expect(await deps.repository.getLead(id)).toBeUndefined();
    }
    expect(await tombstonesLeft()).toBe(0);
    const items = await scanTable(setup);
    expect(itemsNaming(items, [lead])).toEqual([]);
    expect(tableViolations(items)).toEqual([]);
    expect(erasedEventsOf(setup.published, lead)).toHaveLength(1);
  });
});

/** Clock time that one BatchWriteItem call takes in the tests below. */
const BATCH_WRITE_MS = 100;
/**
 * Time of the first erasure request: about 80 BatchWriteItem calls, which
 * delete more than the lead's first Query page.
 */
const FIRST_REQUEST_MS = 8000;
/** Time of a later request or a sweep: about 5 BatchWriteItem calls. */
const REQUEST_MS = 500;
/**
 * Events of 1 KB of padding each, which with their markers and the
 * history entries need about 80 BatchWriteItem calls and fill more than
 * one 1 MB Query page of the lead.
 */
const MANY_ITEMS = { events: 900, historyEntries: 100, paddingBytes: 1000 };

/**
 * Stores the lead of chainedLead(`tag`) with MANY_ITEMS added, and makes
 * each BatchWriteItem call move the clock by BATCH_WRITE_MS. Every fifth
 * call writes one delete and leaves the rest unprocessed. Returns the
 * setup, the lead's ids and the counts of those calls.
 */
async function storeLeadWithManyItems(tag: string) {
  const plan: { current: FaultPlan } = { current: () => 'pass' };
  const setup = await faultyDynamoDependencies(plan, {
    model: accountModel(),
  });
  const ids = chainedLead(tag);
  await ingestRetrying(setup, ids.messages);
  await storeManyItems(setup.table, ids.lead, MANY_ITEMS);
  const calls = { batchWrites: 0, unprocessed: 0, continuedQueries: 0 };
  plan.current = (command, input) => {
    if (command === 'QueryCommand') {
      const query = input as QueryCommandInput;
      const values = JSON.stringify(query.ExpressionAttributeValues);
      if (
        query.ExclusiveStartKey !== undefined &&
        values.includes(leadPartition(ids.lead))
      ) {
        calls.continuedQueries += 1;
      }
    }
    if (command !== 'BatchWriteItemCommand') return 'pass';
    calls.batchWrites += 1;
    setup.clock.advance(BATCH_WRITE_MS);
    if (calls.batchWrites % 5 !== 0) return 'pass';
    calls.unprocessed += 1;
    return 'unprocessed';
  };
  return { setup, ids, calls };
}

/**
 * Checks the table between two requests of a paused erasure: the lead is
 * still closed to writers, fewer of its items are left than `before`, and
 * no message marker outlives its event. Returns the number of its items
 * left.
 */
async function expectPaused(
  setup: RaceSetup,
  ids: ReturnType<typeof chainedLead>,
  before: number,
): Promise<number> {
  const items = await scanTable(setup);
  const left = itemsNaming(items, ids.all).length;
  expect(left).toBeGreaterThan(0);
  expect(left).toBeLessThan(before);
  const orphanMarkers = tableViolations(items).filter((line) =>
    line.startsWith('marker '),
  );
  expect(orphanMarkers).toEqual([]);
  const state = await setup.deps.repository.getLead(ids.lead);
  expect(state?.erasureHeldUntil).toBeDefined();
  await expect(
    ingestMessages(setup.deps, {
      sourceId: 'web',
      messages: [blog({ userId: ids.lead }, `paused-${left}`)],
      receivedAt: setup.clock.now,
    }),
  ).rejects.toBeInstanceOf(ConcurrencyError);
  return left;
}

/** Checks that nothing of the lead is left and it was announced once. */
async function expectErased(
  setup: RaceSetup,
  ids: ReturnType<typeof chainedLead>,
): Promise<void> {
  const items = await scanTable(setup);
  expect(itemsNaming(items, ids.all)).toEqual([]);
  expect(tableViolations(items)).toEqual([]);
  expect(erasedEventsOf(setup.published, ids.lead)).toHaveLength(1);
}

describe('erasure of a lead with many items', () => {
  it('stops between pages and continues on repeat', {
    timeout: 120_000,
  }, async () => {
    const { setup, ids, calls } = await storeLeadWithManyItems('requests');
    const { deps, clock } = setup;
    let left = itemsNaming(await scanTable(setup), ids.all).length;

    const paused: number[] = [];
    let erasure: Erasure | undefined;
    while (erasure === undefined && paused.length < 20) {
      const time = paused.length === 0 ? FIRST_REQUEST_MS : REQUEST_MS;
      try {
        erasure = await eraseLead(deps, ids.lead, {
          deadline: clock.now + time,
        });
      } catch (error) {
        expect(error).toBeInstanceOf(ErasurePausedError);
        const message = (error as Error).message;
        expect(message).toMatch(
          /not finished: it deleted \d+ item\(s\).*Repeat the request/,
        );
        const { itemsDeleted } = error as ErasurePausedError;
        expect(message).toContain(`deleted ${itemsDeleted} item(s)`);
        expect(itemsDeleted).toBeGreaterThan(0);
        paused.push(itemsDeleted);
        left = await expectPaused(setup, ids, left);
      }
    }

    expect(paused.length).toBeGreaterThan(2);
    expect(erasure?.result.itemsDeleted).toBeGreaterThan(0);
    expect(calls.continuedQueries).toBeGreaterThan(0);
    expect(calls.unprocessed).toBeGreaterThan(0);
    await expectErased(setup, ids);
  });

  it('stops the sweep at its deadline too', {
    timeout: 120_000,
  }, async () => {
    const { setup, ids } = await storeLeadWithManyItems('sweep');
    const { deps, clock, log } = setup;
    const before = itemsNaming(await scanTable(setup), ids.all).length;
    await expect(
      eraseLead(deps, ids.lead, { deadline: clock.now + REQUEST_MS }),
    ).rejects.toBeInstanceOf(ErasurePausedError);
    let left = await expectPaused(setup, ids, before);

    // The request is not repeated. The sweep takes the erasure over and
    // stops at its own deadline, so the lead stays due.
    const stopped = await runSweep(deps, {
      now: clock.now,
      deadline: clock.now + REQUEST_MS,
    });

    expect(stopped.incomplete).toBe(true);
    left = await expectPaused(setup, ids, left);
    const failures = log.entries.filter(
      (entry) => entry.message === 'sweep item failed',
    );
    expect(failures).toEqual([]);

    const finished = await runSweep(deps, {
      now: clock.now,
      deadline: Infinity,
    });

    expect(finished.incomplete).toBe(false);
    await expectErased(setup, ids);
  });
});

/**
 * Stores the lead of chainedLead(`tag`) and starts its erasure, which
 * waits after its first tombstone delete until `held` is released. By
 * then it has deleted the lead's events and one merged lead.
 */
async function erasureHeldAfterTombstone(tag: string) {
  const setup = await manualClockSetup();
  const ids = chainedLead(tag);
  await ingestRetrying(setup, ids.messages);
  const held = holdNextCall(setup.deps.repository, 'deleteTombstone', {
    when: 'after',
  });
  const erasure = eraseLead(setup.deps, ids.lead);
  await held.reached;
  return { setup, ids, held, erasure };
}

describe('events for a lead during its erasure', () => {
  it('wait for a stopped erasure, then start a new lead', async () => {
    // The erasure stops for good, as a Lambda function that timed out.
    const {
      setup,
      ids,
      held: stopped,
      erasure,
    } = await erasureHeldAfterTombstone('stopped');
    const { deps, clock } = setup;
    clock.advance(ERASURE_HOLD_MS + 1);

    // The hold's time has passed, but the lead stays closed to events.
    const during = ingestMessages(deps, {
      sourceId: 'web',
      messages: [blog({ userId: ids.lead }, 'during-erasure')],
      receivedAt: clock.now,
    });
    await expect(during).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(during).rejects.toThrow(`Lead ${ids.lead} is being erased`);
    const disposition = recordDisposition(deps, ids.lead, {
      kind: 'accepted',
    });
    await expect(disposition).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(disposition).rejects.toThrow(
      `Lead ${ids.lead} is being erased`,
    );
    const half = await deps.repository.getLead(ids.lead);
    expect(half?.erasureHeldUntil).toBeDefined();

    // The sweep takes the erasure over, and the one that stopped finds
    // the lead gone.
    await runSweep(deps, { now: clock.now, deadline: Infinity });
    stopped.release();
    await expect(erasure).rejects.toBeInstanceOf(NotFoundError);
    const items = await scanTable(setup);
    expect(itemsNaming(items, ids.all)).toEqual([]);
    expect(erasedEventsOf(setup.published, ids.lead)).toHaveLength(1);

    // The client sends the event again, and it starts a new lead.
    const again = await ingestRetrying(setup, [
      blog({ userId: ids.lead }, 'during-erasure'),
    ]);
    expect(again.results[0]?.status).toBe('scored');
    const stored = await deps.repository.getLead(ids.lead);
    expect(stored?.eventCount).toBe(1);
    expect(stored?.traits).toEqual({});
    expect(tableViolations(await scanTable(setup))).toEqual([]);
  });

  it('wait for a running erasure, then start a new lead', async () => {
    const {
      setup,
      ids,
      held: deleting,
      erasure,
    } = await erasureHeldAfterTombstone('running');
    const { deps } = setup;
    // The identify links a new anonymous id to the lead being erased.
    const during = ingestRetrying(setup, [
      {
        ...identify(ids.lead, 'CPO', 'browser-during'),
        messageId: 'identify-during',
      },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    deleting.release();

    const { result } = await erasure;
    await during;
    expect(result.itemsDeleted).toBeGreaterThan(0);
    const stored = await deps.repository.getLead(ids.lead);
    expect(stored?.eventCount).toBe(1);
    expect(stored?.traits.title?.value).toBe('CPO');
    expect(stored?.episode).toBe(0);
    const anonymous = await deps.repository.getLead('anon:browser-during');
    expect(anonymous?.mergedInto).toBe(ids.lead);
    const items = await scanTable(setup);
    expect(tableViolations(items)).toEqual([]);
    const erasedMessages = ids.messages
      .filter((message) => !JSON.stringify(message).includes(ids.peer))
      .map((message) => message.messageId);
    const left = items.filter((item) =>
      erasedMessages.includes(String(item.messageId)),
    );
    expect(left).toEqual([]);
  });
});
