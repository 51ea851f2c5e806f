import {
  DeleteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { linkItem } from '../../functions/adapters/dynamodb/items.js';
import {
  canonicalJson,
  sha256Hex,
} from '../../functions/domain/canonical-json.js';
import {
  ConcurrencyError,
  NotFoundError,
} from '../../functions/domain/errors.js';
import { tallyOf } from '../../functions/domain/intent-tallies.js';
import {
  type OutgoingEvent,
  transitionEventId,
} from '../../functions/domain/outgoing-events.js';
import type { ScoringDependencies } from '../../functions/use-cases/dependencies.js';
import {
  ERASURE_HOLD_MS,
  eraseLead,
} from '../../functions/use-cases/erase-lead.js';
import { getAccount } from '../../functions/use-cases/get-account.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import {
  alias,
  blog,
  demo,
  identify,
  itemsNaming,
  pricing,
} from '../fixtures/erasure-leads.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import {
  type RaceSetup,
  retryingConflicts,
  scanTable,
} from '../races/support/table-check.js';
import { accountSetup } from '../support/account-setup.js';
import { realDependencies } from '../support/dependencies.js';
import { holdNextCall } from '../support/held-call.js';

const ERASED = 'erin@acme.example';
const ANONYMOUS = 'browser-erin-1';

function committee(userId: string, title: string, anonymousId?: string) {
  return [
    ...(anonymousId === undefined
      ? []
      : [blog({ anonymousId }, `${anonymousId}-blog`)]),
    identify(userId, title, anonymousId),
    demo({ userId }, `${userId}-demo`),
    pricing({ userId }, `${userId}-pricing`),
    {
      ...demo({ userId }, `${userId}-demo-2`),
      properties: { again: true },
    },
  ];
}

/** Returns the items that contain the erased lead's user or anonymous id. */
async function itemsNamingErin(context: RaceSetup) {
  return itemsNaming(await scanTable(context), [ERASED, ANONYMOUS]);
}

/**
 * Makes the next ingest snapshot wait after its read until `release` is
 * called. `read` resolves once that snapshot has been read.
 */
function holdNextSnapshot(deps: ScoringDependencies) {
  const held = holdNextCall(deps.repository, 'readIngestSnapshot', {
    when: 'after',
  });
  return { read: held.reached, release: held.release };
}

/**
 * Makes the erasure's next delete of the tombstone `mergedLeadId` wait
 * before it runs until `release` is called. `reached` resolves with the
 * call's arguments once the erasure has read the tombstone's version.
 */
function holdBeforeTombstoneDelete(
  deps: ScoringDependencies,
  mergedLeadId: string,
) {
  let targetId = '';
  let expectedVersion = 0;
  const held = holdNextCall(deps.repository, 'deleteTombstone', {
    when: 'before',
    matches: (target, merged, version) => {
      if (merged !== mergedLeadId) return false;
      targetId = target;
      expectedVersion = version;
      return true;
    },
  });
  return {
    reached: held.reached.then(() => ({ targetId, expectedVersion })),
    release: held.release,
  };
}

describe('eraseLead', () => {
  it('leaves no item of the lead in the table', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    await ingest([committee(ERASED, 'CPO', ANONYMOUS)[0]]);
    await ingest(committee(ERASED, 'Chief Procurement Officer', ANONYMOUS));
    await ingest(committee('carl@acme.example', 'CFO'));
    await recordDisposition(deps, ERASED, { kind: 'accepted' });
    const before = await scanTable(context);
    const mentions = (items: Record<string, unknown>[]) =>
      items.filter((item) => {
        const text = JSON.stringify(item);
        return (
          text.includes(ERASED) ||
          text.includes(ANONYMOUS) ||
          text.includes(sha256Hex(ERASED))
        );
      });
    expect(mentions(before).length).toBeGreaterThan(10);

    const { leadId, result } = await eraseLead(deps, ERASED);

    const after = await scanTable(context);
    expect(mentions(after)).toEqual([]);
    expect(leadId).toBe(ERASED);
    expect(result.leadIdSha256).toBe(sha256Hex(ERASED));
    expect(result.requestedLeadId).toBeUndefined();
    expect(result.itemsDeleted).toBe(mentions(before).length);
    expect(result.accountsUpdated).toBe(1);
    const erased = context.published.filter(
      (event) => event.detailType === 'Lead Erased',
    );
    expect(erased).toHaveLength(1);
    expect(JSON.stringify(erased[0]?.detail)).not.toContain('erin');
    const account = await getAccount(deps, 'domain:acme.example');
    expect(account.leads.map((lead) => lead.leadId)).toEqual([
      'carl@acme.example',
    ]);
    expect(account.coverage.covered).toEqual(['finance']);
    expect(after.some((item) => item.entity === 'outcome')).toBe(true);
    await expect(eraseLead(deps, ERASED)).rejects.toThrow(NotFoundError);
    await expect(eraseLead(deps, `anon:${ANONYMOUS}`)).rejects.toThrow(
      NotFoundError,
    );
  });

  it('answers 404 for an account whose leads were all erased', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    for (const [userId, title] of [
      [ERASED, 'Chief Procurement Officer'],
      ['carl@acme.example', 'CFO'],
      ['tina@acme.example', 'CTO'],
    ] as const) {
      await ingest(committee(userId, title));
    }
    const qualified = await getAccount(deps, 'domain:acme.example');

    for (const userId of [ERASED, 'carl@acme.example', 'tina@acme.example']) {
      await eraseLead(deps, userId);
    }

    expect(qualified.status).toBe('mqa');
    await expect(getAccount(deps, 'domain:acme.example')).rejects.toThrow(
      NotFoundError,
    );
  });

  it('leaves no uncounted event when ingest races it', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    const page = (id: string) => ({
      type: 'page',
      messageId: id,
      userId: ERASED,
      properties: { path: '/blog/post' },
    });
    await ingest(committee(ERASED, 'CPO'));

    for (let round = 0; round < 4; round += 1) {
      const racing = (async () => {
        for (let i = 0; i < 12; i += 1) {
          await ingest([page(`race-${round}-${i}`)]);
        }
      })();
      // The erasure may find no lead when the race recreated none yet.
      const erasure = eraseLead(deps, ERASED).catch((error) => {
        if (!(error instanceof NotFoundError)) throw error;
      });
      await Promise.all([racing, erasure]);

      const items = await scanTable(context);
      const ofLead = items.filter((item) => item.PK === `LEAD#${ERASED}`);
      const state = ofLead.find((item) => item.entity === 'lead');
      const events = ofLead.filter((item) => item.entity === 'event');
      const markers = items.filter(
        (item) => item.entity === 'message' && item.leadId === ERASED,
      );
      // Every stored event is one the current state counts.
      expect(events).toHaveLength(Number(state?.eventCount ?? 0));
      expect(markers).toHaveLength(events.length);
    }
  });

  it('releases its hold when it cannot publish', async () => {
    const { deps, clock } = await realDependencies();
    const working = deps.publisher;
    deps.publisher = { publish: async () => ({ published: [], failed: [] }) };
    const ingest = (messages: unknown[]) =>
      ingestMessages(deps, {
        sourceId: 'default',
        messages,
        receivedAt: clock.now,
      });
    await ingest(qualifyingBatch('held-1'));

    const erasure = eraseLead(deps, 'held-1');

    await expect(erasure).rejects.toThrow(ConcurrencyError);
    deps.publisher = working;
    // The clock does not move, so a hold left in place would block this.
    const later = await ingest([
      {
        type: 'page',
        messageId: 'held-1-after',
        userId: 'held-1',
        properties: { path: '/blog/post' },
      },
    ]);
    expect(later.results[0]?.status).toBe('scored');
    const second = await eraseLead(deps, 'held-1');
    expect(second.result.itemsDeleted).toBeGreaterThan(0);
  });

  it('completes while ingest keeps writing the lead', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    let sent = 0;
    await ingest(committee(ERASED, 'CPO'));
    let erasing = true;
    const stream = async (writer: number) => {
      while (erasing) {
        sent += 1;
        await ingest([
          {
            type: 'page',
            messageId: `stream-${writer}-${sent}`,
            userId: ERASED,
            properties: { path: '/blog/post' },
          },
        ]);
      }
    };
    const writers = [0, 1, 2].map(stream);
    // Lets the writers reach a steady stream before the erasure starts.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const erasure = await eraseLead(deps, ERASED).finally(() => {
      erasing = false;
    });
    await Promise.all(writers);

    expect(erasure.result.itemsDeleted).toBeGreaterThan(0);
    const items = await scanTable(context);
    const ofLead = items.filter((item) => item.PK === `LEAD#${ERASED}`);
    const state = ofLead.find((item) => item.entity === 'lead');
    const events = ofLead.filter((item) => item.entity === 'event');
    // What remains is a lead stored again after the erasure, whose
    // state counts every event kept.
    expect(events).toHaveLength(Number(state?.eventCount ?? 0));
    expect(state?.traits ?? {}).toEqual({});
  });

  it('keeps erased data out of a request read before it', async () => {
    const context = await accountSetup();
    const { deps, clock, ingest } = context;
    const page = (id: string) => ({
      type: 'page',
      messageId: id,
      userId: ERASED,
      properties: { path: '/blog/post' },
    });
    await ingest(committee(ERASED, 'Chief Procurement Officer'));
    // The slow request reads the lead, then waits until the erasure and
    // a new first event are done before it writes.
    const heldSnapshot = holdNextSnapshot(deps);
    const slow = ingest([page('slow')]);
    await heldSnapshot.read;

    clock.advance(60_000);
    await eraseLead(deps, ERASED);
    await ingest([page('after')]);
    heldSnapshot.release();
    await slow;

    const state = await deps.repository.getLead(ERASED);
    expect(state?.traits.title).toBeUndefined();
    expect(state?.traits.email).toBeUndefined();
    expect(state?.eventCount).toBe(2);
    expect(state).toBeDefined();
    if (state !== undefined) {
      expect(tallyOf(state.intent, 'demo-request')).toBeUndefined();
    }
    const items = await scanTable(context);
    const events = items.filter(
      (item) => item.PK === `LEAD#${ERASED}` && item.entity === 'event',
    );
    expect(events.map((event) => event.messageId).sort()).toEqual([
      'after',
      'slow',
    ]);
  });

  it('keeps a stale merged id from storing the erased lead', async () => {
    const context = await accountSetup();
    const { deps, clock, ingest } = context;
    await ingest(committee(ERASED, 'CPO', ANONYMOUS));
    const heldSnapshot = holdNextSnapshot(deps);
    // The request reads the anonymous id while it is merged into the lead.
    const slow = ingest([
      {
        type: 'page',
        messageId: 'anonymous-after',
        anonymousId: ANONYMOUS,
        properties: { path: '/blog/post' },
      },
    ]);
    await heldSnapshot.read;

    clock.advance(60_000);
    await eraseLead(deps, ERASED);
    heldSnapshot.release();
    const result = await slow;

    expect(await deps.repository.getLead(ERASED)).toBeUndefined();
    expect(result.results[0]).toMatchObject({
      status: 'scored',
      leadId: `anon:${ANONYMOUS}`,
    });
    const anonymous = await deps.repository.getLead(`anon:${ANONYMOUS}`);
    expect(anonymous?.eventCount).toBe(1);
    expect(anonymous?.mergedInto).toBeUndefined();
  });

  it('keeps a merged id from storing the erased lead', async () => {
    const context = await accountSetup();
    const { deps, clock, ingest } = context;
    await ingest(committee(ERASED, 'CPO', ANONYMOUS));
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let tombstoneRead = () => {};
    const tombstoneDone = new Promise<void>((resolve) => {
      tombstoneRead = resolve;
    });
    // The request reads the tombstone, then waits for the erasure before
    // it writes to the lead the tombstone points at.
    const getLead = deps.repository.getLead.bind(deps.repository);
    deps.repository.getLead = async (leadId) => {
      const state = await getLead(leadId);
      if (state?.mergedInto !== undefined) {
        deps.repository.getLead = getLead;
        tombstoneRead();
        await gate;
      }
      return state;
    };
    const slow = ingest([
      {
        type: 'page',
        messageId: 'anonymous-later',
        anonymousId: ANONYMOUS,
        properties: { path: '/blog/post' },
      },
    ]);
    await tombstoneDone;

    clock.advance(60_000);
    await eraseLead(deps, ERASED);
    release();
    const result = await slow;

    expect(await getLead(ERASED)).toBeUndefined();
    expect(result.results[0]).toMatchObject({
      status: 'scored',
      leadId: `anon:${ANONYMOUS}`,
    });
    const anonymous = await getLead(`anon:${ANONYMOUS}`);
    expect(anonymous?.eventCount).toBe(1);
    expect(anonymous?.mergedInto).toBeUndefined();
  });

  // A gap of 0 stores the lead again in the millisecond of its first
  // write, as a request received together with the first one does.
  it.each([0, 60_000])(
    'gives a lead stored again %i ms later new event ids',
    async (gap) => {
      const context = await accountSetup();
      const { deps, clock, ingest } = context;
      const qualify = () =>
        ingest(committee(ERASED, 'Chief Procurement Officer'));
      const qualifiedIds = () =>
        context.published
          .filter((event) => event.detailType === 'Lead Qualified')
          .map((event) => event.eventId);
      await qualify();
      expect(qualifiedIds()).toHaveLength(1);

      await eraseLead(deps, ERASED);
      clock.advance(gap);
      await qualify();

      const ids = qualifiedIds();
      expect(ids).toHaveLength(2);
      expect(ids[1]).not.toBe(ids[0]);
    },
  );

  it.each([0, 60_000])(
    'gives an erasure %i ms after another a new event id',
    async (gap) => {
      const context = await accountSetup();
      const { deps, clock, ingest } = context;
      const store = () => ingest(committee(ERASED, 'CPO'));
      const erasedIds = () =>
        context.published
          .filter((event) => event.detailType === 'Lead Erased')
          .map((event) => event.eventId);
      await store();
      await eraseLead(deps, ERASED);
      clock.advance(gap);
      await store();

      await eraseLead(deps, ERASED);

      const ids = erasedIds();
      expect(ids).toHaveLength(2);
      expect(ids[1]).not.toBe(ids[0]);
    },
  );

  it('keeps the ids of a lead stored without incarnationId', async () => {
    const context = await accountSetup();
    const { deps, clock, ingest } = context;
    const [first, ...rest] = committee(ERASED, 'Chief Procurement Officer');
    await ingest([first]);
    // A lead that a version before incarnationId stored.
    await context.table.client.send(
      new UpdateItemCommand({
        TableName: context.table.tableName,
        Key: marshall({ PK: `LEAD#${ERASED}`, SK: 'STATE' }),
        UpdateExpression: 'REMOVE incarnationId',
      }),
    );
    const createdAt = clock.now;
    clock.advance(1000);

    await ingest(rest);
    await eraseLead(deps, ERASED);

    const idOf = (detailType: string) =>
      context.published.find((event) => event.detailType === detailType)
        ?.eventId;
    expect(idOf('Lead Qualified')).toBe(
      transitionEventId(ERASED, 1, 'qualified', createdAt),
    );
    const erasedId = sha256Hex(
      canonicalJson(['erased', sha256Hex(ERASED), createdAt]),
    ).slice(0, 32);
    expect(idOf('Lead Erased')).toBe(erasedId);
  });

  it('leaves a running request its events to publish', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    const publisher = deps.publisher;
    let startErasure = () => {};
    const committed = new Promise<void>((resolve) => {
      startErasure = resolve;
    });
    // The ingest request commits its transition, then publishes only
    // after the erasure has read the lead's outbox.
    deps.publisher = {
      async publish(events) {
        deps.publisher = publisher;
        startErasure();
        await new Promise((resolve) => setTimeout(resolve, 150));
        return publisher.publish(events);
      },
    };

    const ingesting = ingest(committee(ERASED, 'Chief Procurement Officer'));
    await committed;
    // Under load the publish can outlast the erasure's wait, which then
    // raises ConcurrencyError (a 503), and the client sends it again.
    const erasure = retryingConflicts(() => eraseLead(deps, ERASED));
    await Promise.all([ingesting, erasure]);

    const types = context.published.map((event) => event.detailType);
    expect(types.filter((type) => type === 'Lead Qualified')).toHaveLength(1);
    expect(types.filter((type) => type === 'Lead Erased')).toHaveLength(1);
    expect(await itemsNamingErin(context)).toEqual([]);
  });

  it('finishes when another erasure deletes a tombstone', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    await ingest(committee(ERASED, 'CPO', ANONYMOUS));
    const tombstoneId = `anon:${ANONYMOUS}`;
    const { repository } = deps;
    // The first delete of the tombstone loses to a concurrent erasure
    // that deleted it after this one read it.
    const deleting = holdBeforeTombstoneDelete(deps, tombstoneId);
    const erasure = eraseLead(deps, ERASED);
    const { targetId, expectedVersion } = await deleting.reached;
    await repository.deleteTombstone(targetId, tombstoneId, expectedVersion);
    deleting.release();

    const { leadId } = await erasure;

    expect(leadId).toBe(ERASED);
    expect(await itemsNamingErin(context)).toEqual([]);
  });

  it('erases a chain of tombstones after a conflict', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    const old = 'erin-old@acme.example';
    const renamed = 'erin-renamed@acme.example';
    await ingest([
      blog({ userId: old }, `${old}-page`),
      blog({ userId: renamed }, `${renamed}-page`),
      ...committee(ERASED, 'CPO', ANONYMOUS),
      alias('alias-1', renamed, old),
      alias('alias-2', ERASED, renamed),
    ]);

    // The second alias pointed `old` at the erased lead and left its
    // earlier link under `renamed`. Without the newer link, the erasure
    // finds `old` only through `renamed`, as after a repoint that gave
    // up, and must delete `old` before the tombstone `renamed`.
    expect((await deps.repository.getLead(old))?.mergedInto).toBe(ERASED);
    expect(await deps.repository.listMergedLeadIds(renamed)).toContain(old);
    await context.table.client.send(
      new DeleteItemCommand({
        TableName: context.table.tableName,
        Key: marshall({ PK: `LEAD#${ERASED}`, SK: `LINK#${old}` }),
      }),
    );
    expect(await deps.repository.listMergedLeadIds(ERASED)).not.toContain(old);

    // A write of the tombstone `old` lands between the erasure's read of
    // it and its delete, as a merge completing would.
    const deleting = holdBeforeTombstoneDelete(deps, old);
    const erasure = eraseLead(deps, ERASED);
    await deleting.reached;
    const tombstone = await deps.repository.getLead(old);
    if (tombstone === undefined) throw new Error(`${old} was not stored`);
    await deps.repository.saveLeadChange({
      sourceId: 'identity',
      expectedVersion: tombstone.version,
      state: { ...tombstone, version: tombstone.version + 1 },
      events: [],
      outgoing: [],
    });
    deleting.release();

    const { leadId } = await erasure;

    expect(leadId).toBe(ERASED);
    for (const id of [ERASED, `anon:${ANONYMOUS}`, old, renamed]) {
      expect(await deps.repository.getLead(id)).toBeUndefined();
    }
    const items = await scanTable(context);
    const left = items.filter((item) =>
      [old, renamed].some((id) => JSON.stringify(item).includes(id)),
    );
    expect(left).toEqual([]);
    expect(await itemsNamingErin(context)).toEqual([]);
  });

  it('lets one of three concurrent erasures delete the lead', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    await ingest(committee(ERASED, 'CPO', ANONYMOUS));

    const outcomes = await Promise.allSettled([
      eraseLead(deps, ERASED),
      eraseLead(deps, `anon:${ANONYMOUS}`),
      eraseLead(deps, ERASED),
    ]);

    const erased = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const failures = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [outcome.reason] : [],
    );
    expect(erased.length).toBeGreaterThanOrEqual(1);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(NotFoundError);
    }
    expect(await itemsNamingErin(context)).toEqual([]);
  });

  it('names another erasure that holds the lead', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    await ingest(committee(ERASED, 'CPO'));
    const state = await deps.repository.getLead(ERASED);
    if (state === undefined) throw new Error('Lead erin is not stored.');
    await deps.repository.holdForErasure(state, 60_000);

    const erasure = eraseLead(deps, ERASED);

    await expect(erasure).rejects.toThrow(ConcurrencyError);
    await expect(erasure).rejects.toThrow(
      `Another erasure of lead ${ERASED} is in progress, so this request did not start one. Retry the request after that erasure ends.`,
    );
    expect(await deps.repository.getLead(ERASED)).toBeDefined();
  });

  it('keeps a live lead named by a stale link', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    const live = 'carl@acme.example';
    await ingest([...committee(ERASED, 'CPO'), ...committee(live, 'CFO')]);
    // A link item under the erased lead that names a lead not merged,
    // as earlier versions could leave after an erasure of a merge.
    await context.table.client.send(
      new PutItemCommand({
        TableName: context.table.tableName,
        Item: linkItem(ERASED, live),
      }),
    );

    await eraseLead(deps, ERASED);

    const kept = await deps.repository.getLead(live);
    expect(kept?.eventCount).toBe(4);
    const items = await scanTable(context);
    const events = items.filter(
      (item) => item.PK === `LEAD#${live}` && item.entity === 'event',
    );
    expect(events).toHaveLength(4);
    expect(items.filter((item) => item.PK === `LEAD#${ERASED}`)).toEqual([]);
  });

  it('erases the identified lead of a merged anonymous id', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    await ingest(committee(ERASED, 'CPO', ANONYMOUS));

    const { leadId, result } = await eraseLead(deps, `anon:${ANONYMOUS}`);

    expect(leadId).toBe(ERASED);
    expect(result.leadIdSha256).toBe(sha256Hex(ERASED));
    expect(result.requestedLeadId).toBe(`anon:${ANONYMOUS}`);
    await expect(eraseLead(deps, ERASED)).rejects.toThrow(NotFoundError);
  });
});

describe('Lead Erased of merged leads', () => {
  /** Returns the details of the "Lead Erased" events published. */
  function erasedDetails(published: readonly OutgoingEvent[]) {
    return published.flatMap((event) =>
      event.detailType === 'Lead Erased' ? [event.detail] : [],
    );
  }

  it('hashes the ids merged into the lead', async () => {
    const context = await realDependencies();
    const { deps, clock } = context;
    const ingest = (messages: unknown[]) =>
      ingestMessages(deps, {
        sourceId: 'default',
        messages,
        receivedAt: clock.now,
      });
    await ingest(qualifyingBatch('xq1'));
    await ingest([alias('xq-alias', 'xq2', 'xq1')]);
    const named = context.published.flatMap((event) =>
      'leadId' in event.detail ? [event.detail.leadId] : [],
    );
    expect(named).toContain('xq1');

    await eraseLead(deps, 'xq2');

    const [detail, ...others] = erasedDetails(context.published);
    expect(others).toEqual([]);
    expect(detail?.leadIdSha256).toBe(sha256Hex('xq2'));
    // An alias merges its previousId both as a user id and as an
    // anonymous id.
    expect(detail?.mergedLeadIdSha256s).toEqual(
      ['xq1', 'anon:xq1'].map(sha256Hex).sort(),
    );
    expect(detail?.mergedLeadIdSha256sTruncated).toBe(false);
    expect(JSON.stringify(detail)).not.toContain('xq');
    // The README's replay filter: drop every event whose leadId hashes to
    // a hash of a later "Lead Erased".
    const erasedHashes = new Set([
      detail?.leadIdSha256,
      ...(detail?.mergedLeadIdSha256s ?? []),
    ]);
    for (const leadId of named) {
      expect(erasedHashes.has(sha256Hex(leadId)), leadId).toBe(true);
    }
  });

  it('hashes a chain of merged ids, sorted', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    const old = 'erin-old@acme.example';
    const renamed = 'erin-renamed@acme.example';
    await ingest([
      blog({ userId: old }, `${old}-page`),
      blog({ userId: renamed }, `${renamed}-page`),
      ...committee(ERASED, 'CPO', ANONYMOUS),
      alias('alias-1', renamed, old),
      alias('alias-2', ERASED, renamed),
    ]);

    await eraseLead(deps, `anon:${ANONYMOUS}`);

    const [detail] = erasedDetails(context.published);
    const expected = [ANONYMOUS, old, renamed]
      .flatMap((id) => (id === ANONYMOUS ? [] : [id]).concat(`anon:${id}`))
      .map(sha256Hex)
      .sort();
    expect(detail?.leadIdSha256).toBe(sha256Hex(ERASED));
    expect(detail?.mergedLeadIdSha256s).toEqual(expected);
  });

  it('hashes merged leads that a stopped erasure deleted', async () => {
    const context = await accountSetup();
    const { deps, ingest } = context;
    const first = 'erin-first@acme.example';
    const second = 'erin-second@acme.example';
    await ingest([
      blog({ userId: first }, `${first}-page`),
      blog({ userId: second }, `${second}-page`),
      ...committee(ERASED, 'CPO', ANONYMOUS),
      alias('alias-1', ERASED, first),
      alias('alias-2', ERASED, second),
    ]);
    // The erasure stops at the delete of one tombstone, after it deleted
    // the other merged leads, as at a failed DynamoDB call.
    const { repository } = deps;
    const deleteTombstone = repository.deleteTombstone.bind(repository);
    repository.deleteTombstone = async (targetId, mergedLeadId, version) => {
      if (mergedLeadId === second) {
        throw new Error('injected failure of the tombstone delete');
      }
      return deleteTombstone(targetId, mergedLeadId, version);
    };
    await expect(eraseLead(deps, ERASED)).rejects.toThrow('injected failure');
    repository.deleteTombstone = deleteTombstone;
    expect(await repository.getLead(first)).toBeUndefined();
    expect(await repository.getLead(`anon:${ANONYMOUS}`)).toBeUndefined();

    // The hold's time ends, as 30 seconds after the stop, so a repeat
    // takes the erasure over.
    const held = await repository.getLead(ERASED);
    if (held === undefined) throw new Error(`${ERASED} was not stored`);
    await repository.pauseErasure(held);
    await eraseLead(deps, ERASED);

    const [detail, ...others] = erasedDetails(context.published);
    expect(others).toEqual([]);
    const expected = [ANONYMOUS, first, second]
      .flatMap((id) => (id === ANONYMOUS ? [] : [id]).concat(`anon:${id}`))
      .map(sha256Hex)
      .sort();
    expect(detail?.mergedLeadIdSha256s).toEqual(expected);
    expect(detail?.mergedLeadIdSha256sTruncated).toBe(false);
    expect(await itemsNamingErin(context)).toEqual([]);
  });
});

describe('erasure that the sweep finishes', () => {
  it('counts a rejected Lead Erased', async () => {
    const { deps, clock } = await realDependencies();
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: qualifyingBatch('sweep-erased-1'),
      receivedAt: clock.now,
    });
    const stored = await deps.repository.getLead('sweep-erased-1');
    if (stored === undefined) throw new Error('sweep-erased-1 was not stored');
    // An erasure that stopped at its deadline leaves the lead held and due.
    await deps.repository.pauseErasure(
      await deps.repository.holdForErasure(stored, ERASURE_HOLD_MS),
    );
    // The bus rejects every entry with a non-retryable error.
    deps.publisher = {
      publish: async (events) => ({
        published: [],
        failed: events.map((event) => ({
          eventId: event.eventId,
          errorCode: 'AccessDeniedException',
          errorMessage: 'Not authorized to put events on this bus.',
          retryable: false,
          throttled: false,
        })),
      }),
    };

    // Erasure holds and the review time the pause sets use the
    // repository's wall clock, not the test's clock.
    const result = await runSweep(deps, {
      now: Date.now() + 1_000,
      deadline: Number.POSITIVE_INFINITY,
    });

    expect(await deps.repository.getLead('sweep-erased-1')).toBeUndefined();
    expect(result.failed).toBe(1);
  });
});
