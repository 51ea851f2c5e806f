import {
  BatchWriteItemCommand,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { linkItem } from '../../functions/adapters/dynamodb/items.js';
import {
  ConcurrencyError,
  NotFoundError,
} from '../../functions/domain/errors.js';
import {
  ERASURE_HOLD_MS,
  eraseLead,
} from '../../functions/use-cases/erase-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import {
  blog,
  chainedLead,
  erasedEventsOf,
  identify,
  itemsNaming,
} from '../fixtures/erasure-leads.js';
import { accountModel } from '../fixtures/models.js';
import { holdNextCall } from '../support/held-call.js';
import { faultyDynamoDependencies } from './support/faulty-dynamodb.js';
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
