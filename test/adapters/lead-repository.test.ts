import {
  type BatchGetItemCommandInput,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { linkItem } from '../../functions/adapters/dynamodb/items.js';
import { DynamoLeadRepository } from '../../functions/adapters/dynamodb/lead-repository.js';
import { newAccount } from '../../functions/domain/account.js';
import { sha256Hex } from '../../functions/domain/canonical-json.js';
import { CapacityExceededError } from '../../functions/domain/errors.js';
import { applyEvents, newLead } from '../../functions/domain/lead.js';
import { transitionEvent } from '../../functions/domain/outgoing-events.js';
import { evaluateLead } from '../../functions/domain/qualification.js';
import { DAY_MS, QUARTER_MS } from '../../functions/domain/time.js';
import {
  DuplicateMessageError,
  type LeadChange,
  VersionConflictError,
} from '../../functions/ports/lead-repository.js';
import {
  blog,
  cfoIdentify,
  demo,
  identify,
  pricing,
  T0,
  trackingEvent,
} from '../fixtures/events.js';
import { modelWith, testModel } from '../fixtures/models.js';
import {
  type FaultPlan,
  faultyRepository,
} from '../races/support/faulty-dynamodb.js';
import { createTestTable } from '../support/aws.js';
import * as reference from '../support/reference-scoring/index.js';

const model = testModel();

async function repositoryOnNewTable(reviewShards = 4) {
  const table = await createTestTable();
  const repository = new DynamoLeadRepository(table.client, {
    tableName: table.tableName,
    reviewShards,
    eventRetentionDays: 10,
    outboxGraceMs: 1000,
  });
  return { ...table, repository };
}

/** A change that qualifies `leadId` from scratch (one outgoing event). */
function qualifyingChange(leadId: string, version = 0): LeadChange {
  const events = [cfoIdentify(), demo(), pricing()].map((event, i) => ({
    ...event,
    userId: leadId,
    messageId: `${leadId}-${i}`,
  }));
  const applied = applyEvents(newLead(leadId, model, T0), events, model);
  const evaluation = evaluateLead(applied.state, model, T0);
  return {
    sourceId: 'default',
    expectedVersion: version,
    state: { ...evaluation.state, version: version + 1 },
    events: events.map((event, i) => ({
      event,
      outcome: applied.outcomes[i] ?? { messageId: event.messageId },
    })),
    outgoing: evaluation.transitions.map((t) =>
      transitionEvent(leadId, t, model, T0),
    ),
  };
}

describe('DynamoLeadRepository', () => {
  it('stores state, events, markers and outbox in one write', async () => {
    const { repository, client, tableName } = await repositoryOnNewTable();
    const change = qualifyingChange('lead-a');

    await repository.saveLeadChange(change);

    expect(await repository.getLead('lead-a')).toEqual(change.state);
    const items = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: marshall({ ':pk': 'LEAD#lead-a' }),
      }),
    );
    const kinds = (items.Items ?? []).map((item) => unmarshall(item).entity);
    expect(kinds.sort()).toEqual(['event', 'event', 'event', 'lead', 'outbox']);
    const marker = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: marshall({ PK: 'MESSAGE#default#lead-a-1', SK: 'MESSAGE' }),
      }),
    );
    const fields = unmarshall(marker.Item ?? {});
    expect(fields.leadId).toBe('lead-a');
    expect(fields.expiresAt).toBe(Math.floor((T0 + 10 * DAY_MS) / 1000));
  });

  it('stores intent sums and cap windows as maps by index', async () => {
    const { repository, client, tableName } = await repositoryOnNewTable();
    const capped = modelWith({
      intent: [
        {
          id: 'blog',
          when: { path: '^/blog/' },
          points: 2,
          cap: { max: 1, windowDays: 30 },
        },
      ],
    });
    const reads = [blog(), blog(1)];
    const { state } = applyEvents(newLead('lead-1', capped, T0), reads, capped);

    await repository.saveLeadChange({
      sourceId: 'default',
      expectedVersion: 0,
      state: { ...state, version: 1 },
      events: [],
      outgoing: [],
    });

    const { Item } = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: marshall({ PK: 'LEAD#lead-1', SK: 'STATE' }),
      }),
    );
    const tally = unmarshall(Item ?? {}).intent.blog;
    const year = String(Math.floor(T0 / (4 * QUARTER_MS)));
    const window = String(Math.floor(T0 / (30 * DAY_MS)));
    expect(Object.keys(tally.sums)).toEqual([year]);
    expect(tally.windows).toEqual({
      [window]: { times: [T0, T0 + DAY_MS], total: 2 },
    });
  });

  it('stores a lead that clicked every second of a day', async () => {
    const { repository } = await repositoryOnNewTable();
    // Click seconds stay open for burst detection for a day, and the
    // seconds of this many clicks exceed DynamoDB's 400 KB item limit.
    const clicks = Array.from({ length: 20_000 }, (_, second) =>
      trackingEvent({
        name: 'Email Link Clicked',
        occurredAt: T0 + second * 1000,
      }),
    );
    const { state } = applyEvents(newLead('lead-1', model, T0), clicks, model);
    const change = {
      sourceId: 'default',
      expectedVersion: 0,
      state: { ...state, version: 1 },
      events: [],
      outgoing: [],
    };

    await repository.saveLeadChange(change);

    expect(await repository.getLead('lead-1')).toEqual(change.state);
  });

  it('stores traits named like Object members', async () => {
    const { repository } = await repositoryOnNewTable();
    const names = ['constructor', 'toString', 'valueOf', 'hasOwnProperty'];
    const traits = Object.fromEntries(names.map((name) => [name, `${name}!`]));
    const { state } = applyEvents(
      newLead('lead-1', model, T0),
      [identify({ title: 'CFO', ...traits })],
      model,
    );
    const change = {
      sourceId: 'default',
      expectedVersion: 0,
      state: { ...state, version: 1 },
      events: [],
      outgoing: [],
    };

    await repository.saveLeadChange(change);

    const stored = await repository.getLead('lead-1');
    expect(stored).toEqual(change.state);
    for (const name of names) {
      expect(Object.hasOwn(stored?.traits ?? {}, name)).toBe(true);
      expect(stored?.traits[name]?.value).toBe(`${name}!`);
    }
  });

  it('reads a lead item that an earlier version stored', async () => {
    const { repository, client, tableName } = await repositoryOnNewTable();
    const change = qualifyingChange('lead-r');
    // The reference copy of the scoring core keeps its state in the form
    // that earlier versions stored, with records keyed by index.
    const events = change.events.map((record) => record.event);
    const lead = reference.newLead('lead-r', model, T0);
    const applied = reference.applyEvents(lead, events, model);
    const earlier = reference.evaluateLead(applied.state, model, T0).state;
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: marshall(
          { PK: 'LEAD#lead-r', SK: 'STATE', entity: 'lead', ...earlier },
          { removeUndefinedValues: true },
        ),
      }),
    );

    const loaded = await repository.getLead('lead-r');

    expect(loaded).toEqual({ ...change.state, version: 0 });
  });

  it('rejects a write based on a stale version', async () => {
    const { repository } = await repositoryOnNewTable();
    await repository.saveLeadChange(qualifyingChange('lead-b'));
    const stale = qualifyingChange('lead-b', 0);
    stale.events = [];
    stale.outgoing = [];

    await expect(repository.saveLeadChange(stale)).rejects.toBeInstanceOf(
      VersionConflictError,
    );
  });

  it('refuses lead changes while an erasure holds the lead', async () => {
    const table = await createTestTable();
    let wallClock = T0;
    const repository = new DynamoLeadRepository(table.client, {
      tableName: table.tableName,
      clock: () => wallClock,
    });
    await repository.saveLeadChange(qualifyingChange('lead-h'));
    const stored = await repository.getLead('lead-h');
    if (stored === undefined) throw new Error('lead-h was not stored');

    const { version: heldVersion } = await repository.holdForErasure(
      stored,
      30_000,
    );
    expect(heldVersion).toBe(stored.version + 1);
    const reread = await repository.getLead('lead-h');
    expect(reread?.version).toBe(heldVersion);
    expect(reread?.erasureHeldUntil).toBe(T0 + 30_000);
    const change = (version: number): LeadChange => ({
      ...qualifyingChange('lead-h', version),
      events: [],
      outgoing: [],
      state: { ...stored, version: version + 1 },
    });
    await expect(
      repository.saveLeadChange(change(heldVersion)),
    ).rejects.toBeInstanceOf(VersionConflictError);
    // A second erasure cannot take over a live hold, whatever it read.
    await expect(
      repository.holdForErasure(stored, 30_000),
    ).rejects.toBeInstanceOf(VersionConflictError);
    await expect(
      repository.holdForErasure({ ...stored, version: heldVersion }, 30_000),
    ).rejects.toBeInstanceOf(VersionConflictError);

    // Once the hold's time has passed, writers are still refused, because
    // the erasure that stopped may have deleted part of the lead. Another
    // erasure takes it over.
    wallClock = T0 + 30_001;
    await expect(
      repository.saveLeadChange(change(heldVersion)),
    ).rejects.toBeInstanceOf(VersionConflictError);
    const takenOver = await repository.holdForErasure(stored, 30_000);
    expect(takenOver.version).toBe(heldVersion + 1);
    expect(takenOver.erasureHeldUntil).toBe(wallClock + 30_000);

    // A paused erasure can be taken over at once.
    await repository.pauseErasure(takenOver);
    const resumed = await repository.holdForErasure(stored, 30_000);
    expect(resumed.version).toBe(takenOver.version + 1);

    // Released, the lead takes writes again, which store no hold.
    await repository.releaseErasureHold(resumed);
    await repository.saveLeadChange({
      ...change(resumed.version),
      state: { ...resumed, version: resumed.version + 1 },
    });
    const { Item } = await table.client.send(
      new GetItemCommand({
        TableName: table.tableName,
        Key: marshall({ PK: 'LEAD#lead-h', SK: 'STATE' }),
      }),
    );
    expect(Item).toBeDefined();
    expect(unmarshall(Item ?? {})).not.toHaveProperty('erasureHeldUntil');
    const written = await repository.getLead('lead-h');
    expect(written?.version).toBe(resumed.version + 1);
    expect(written?.erasureHeldUntil).toBeUndefined();
  });

  it('makes a held lead due when its hold ends', async () => {
    const table = await createTestTable();
    const repository = new DynamoLeadRepository(table.client, {
      tableName: table.tableName,
      clock: () => T0,
    });
    const change = qualifyingChange('lead-d');
    const reviewAt = T0 + 3_600_000;
    await repository.saveLeadChange({
      ...change,
      state: { ...change.state, nextReviewAt: reviewAt },
    });
    const stored = await repository.getLead('lead-d');
    if (stored === undefined) throw new Error('lead-d was not stored');
    const dueLeads = async (until: number) => {
      const ids: string[] = [];
      for (let shard = 0; shard < repository.reviewShards; shard += 1) {
        const page = await repository.listDue(shard, until, 100);
        for (const item of page.items) {
          if (item.kind === 'lead') ids.push(item.leadId);
        }
      }
      return ids;
    };

    const held = await repository.holdForErasure(stored, 30_000);

    expect(await dueLeads(T0 + 29_999)).toEqual([]);
    expect(await dueLeads(T0 + 30_000)).toEqual(['lead-d']);
    // Released, the lead is due at its own review time again.
    await repository.releaseErasureHold(held);
    expect(await dueLeads(T0 + 30_000)).toEqual([]);
    expect(await dueLeads(reviewAt)).toEqual(['lead-d']);
  });

  it('rejects a write read from an erased incarnation', async () => {
    const { repository } = await repositoryOnNewTable();
    // Both incarnations are first written in the same millisecond.
    const incarnation = (incarnationId: string | undefined): LeadChange => {
      const change = qualifyingChange('lead-i');
      const state = { ...change.state, createdAt: T0 };
      return {
        ...change,
        state:
          incarnationId === undefined ? state : { ...state, incarnationId },
      };
    };
    const staleWrite = (first: LeadChange): LeadChange => ({
      ...first,
      expectedVersion: 1,
      events: [],
      outgoing: [],
      state: { ...first.state, version: 2 },
    });

    for (const firstId of ['first', undefined]) {
      const first = incarnation(firstId);
      await repository.saveLeadChange(first);
      await repository.deleteLeadData('lead-i');
      await repository.deleteLeadState('lead-i', 1);
      await repository.saveLeadChange(incarnation('second'));

      await expect(
        repository.saveLeadChange(staleWrite(first)),
      ).rejects.toBeInstanceOf(VersionConflictError);
      await expect(
        repository.holdForErasure(first.state, 30_000),
      ).rejects.toBeInstanceOf(VersionConflictError);
      expect((await repository.getLead('lead-i'))?.incarnationId).toBe(
        'second',
      );
      await repository.deleteLeadData('lead-i');
      await repository.deleteLeadState('lead-i', 1);
    }
  });

  it('holds a lead whatever version the erasure read', async () => {
    const { repository } = await repositoryOnNewTable();
    await repository.saveLeadChange(qualifyingChange('lead-v'));
    const stored = await repository.getLead('lead-v');
    if (stored === undefined) throw new Error('lead-v was not stored');

    const held = await repository.holdForErasure(
      { ...stored, version: stored.version + 5 },
      30_000,
    );

    expect(held.version).toBe(stored.version + 1);
    expect(held.leadId).toBe('lead-v');
    expect(held.membership).toEqual(stored.membership);
    await expect(
      repository.holdForErasure(
        { ...stored, leadId: 'lead-never-stored' },
        30_000,
      ),
    ).rejects.toBeInstanceOf(VersionConflictError);
  });

  it('deletes a tombstone and its link together', async () => {
    const { repository, client, tableName } = await repositoryOnNewTable();
    await repository.saveLeadChange(qualifyingChange('lead-t'));
    await repository.saveLeadChange(qualifyingChange('lead-m'));
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: linkItem('lead-t', 'lead-m'),
      }),
    );

    const data = await repository.deleteLeadData('lead-t');
    expect(data.linkedLeadIds).toEqual(['lead-m']);
    expect(await repository.listMergedLeadIds('lead-t')).toEqual(['lead-m']);
    await expect(
      repository.deleteTombstone('lead-t', 'lead-m', 2),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect(await repository.listMergedLeadIds('lead-t')).toEqual(['lead-m']);
    expect(await repository.getLead('lead-m')).toBeDefined();

    await repository.deleteTombstone('lead-t', 'lead-m', 1);
    expect(await repository.listMergedLeadIds('lead-t')).toEqual([]);
    expect(await repository.getLead('lead-m')).toBeUndefined();
  });

  it('stops deletes left unprocessed at the deadline', async () => {
    const table = await createTestTable();
    const plan: { current: FaultPlan } = { current: () => 'pass' };
    const { repository } = faultyRepository(plan, table.tableName, 4);
    await repository.saveLeadChange(qualifyingChange('lead-d'));
    let batchWrites = 0;
    plan.current = (command) => {
      if (command !== 'BatchWriteItemCommand') return 'pass';
      batchWrites += 1;
      return 'unprocessed';
    };

    // The deadline passes while the first call's deletes are unprocessed.
    const deletion = await repository.deleteLeadData('lead-d', {
      mayContinue: () => batchWrites === 0,
    });

    expect(batchWrites).toBe(1);
    expect(deletion.finished).toBe(false);
    expect(deletion.deleted).toBe(1);
  });

  it('reports which messages were already stored', async () => {
    const { repository } = await repositoryOnNewTable();
    const first = qualifyingChange('lead-c');
    await repository.saveLeadChange(first);
    const second = qualifyingChange('lead-c', 1);
    second.outgoing = [];

    const error = await repository.saveLeadChange(second).catch((e) => e);

    expect(error).toBeInstanceOf(DuplicateMessageError);
    expect((error as DuplicateMessageError).messageIds.sort()).toEqual([
      'lead-c-0',
      'lead-c-1',
      'lead-c-2',
    ]);
    expect((await repository.getLead('lead-c'))?.version).toBe(1);
  });

  it('lists the events of a lead oldest first, in pages', async () => {
    const { repository } = await repositoryOnNewTable();
    const change = qualifyingChange('lead-e');
    await repository.saveLeadChange(change);

    const first = await repository.listEvents('lead-e', 2);
    const rest = await repository.listEvents('lead-e', 2, first.cursor);

    const ids = [...first.events, ...rest.events].map((e) => e.event.messageId);
    expect(ids).toEqual(['lead-e-0', 'lead-e-1', 'lead-e-2']);
    expect(first.events[0]?.sourceId).toBe('default');
    expect(first.events[0]?.event).toEqual(change.events[0]?.event);
    expect(rest.cursor).toBeUndefined();
  });

  it('finds a stored event by message id', async () => {
    const { repository } = await repositoryOnNewTable();
    const change = qualifyingChange('lead-h');
    await repository.saveLeadChange(change);

    const found = await repository.findStoredEvent(
      'lead-h',
      'default',
      'lead-h-1',
    );
    const otherSource = await repository.findStoredEvent(
      'lead-h',
      'other',
      'lead-h-1',
    );
    const otherLead = await repository.findStoredEvent(
      'lead-i',
      'default',
      'lead-h-1',
    );

    expect(found?.event).toEqual(change.events[1]?.event);
    expect(found?.sourceId).toBe('default');
    expect(otherSource).toBeUndefined();
    expect(otherLead).toBeUndefined();
  });

  it('moves an event once and rejects a second move', async () => {
    const { repository } = await repositoryOnNewTable();
    const original = qualifyingChange('lead-f');
    await repository.saveLeadChange(original);
    const moved = qualifyingChange('lead-g');
    moved.events = original.events.map((record) => ({
      ...record,
      movedFrom: 'lead-f',
      sourceId: 'default',
    }));

    await repository.saveLeadChange(moved);
    const again = { ...moved, expectedVersion: 1 };
    again.state = { ...moved.state, version: 2 };

    await expect(repository.saveLeadChange(again)).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    expect((await repository.listEvents('lead-f', 10)).events).toEqual([]);
    expect((await repository.listEvents('lead-g', 10)).events).toHaveLength(3);
    expect((await repository.getLead('lead-g'))?.version).toBe(1);
  });

  it('finds stored message ids of one source only', async () => {
    const { repository } = await repositoryOnNewTable();
    await repository.saveLeadChange(qualifyingChange('lead-d'));

    const stored = await repository.findStoredMessages('default', [
      'lead-d-0',
      'lead-d-2',
      'unknown',
    ]);
    const otherSource = await repository.findStoredMessages('other', [
      'lead-d-0',
    ]);

    expect([...stored].sort()).toEqual([
      ['lead-d-0', 'lead-d'],
      ['lead-d-2', 'lead-d'],
    ]);
    expect(otherSource.size).toBe(0);
  });

  it('reads lead states and stored messages at once', async () => {
    const { repository } = await repositoryOnNewTable();
    const saved = qualifyingChange('lead-s');
    await repository.saveLeadChange(saved);
    await repository.saveLeadChange(qualifyingChange('lead-t'));
    // More keys than one BatchGetItem call takes.
    const unknownIds = Array.from({ length: 150 }, (_, i) => `unknown-${i}`);

    const snapshot = await repository.readIngestSnapshot(
      'default',
      ['lead-s', 'lead-t', 'lead-missing'],
      ['lead-s-0', ...unknownIds, 'lead-t-2', 'lead-s-0'],
    );
    const otherSource = await repository.readIngestSnapshot(
      'other',
      ['lead-s'],
      ['lead-s-0'],
    );

    expect([...snapshot.leads.keys()].sort()).toEqual(['lead-s', 'lead-t']);
    expect(snapshot.leads.get('lead-s')).toEqual(
      await repository.getLead('lead-s'),
    );
    expect([...snapshot.storedMessages].sort()).toEqual([
      ['lead-s-0', 'lead-s'],
      ['lead-t-2', 'lead-t'],
    ]);
    expect(otherSource.storedMessages.size).toBe(0);
    expect(otherSource.leads.get('lead-s')?.version).toBe(1);
  });

  it('reads a snapshot again for unprocessed keys', async () => {
    const { repository, client } = await repositoryOnNewTable();
    await repository.saveLeadChange(qualifyingChange('lead-u'));
    // Each BatchGetItem call reads only its first 30 keys and returns the
    // rest as unprocessed, as DynamoDB does above its response size limit.
    let calls = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as BatchGetItemCommandInput;
        const table = Object.keys(input.RequestItems ?? {})[0];
        const request =
          table === undefined ? undefined : input.RequestItems?.[table];
        if (table === undefined || request?.Keys === undefined) {
          return next(args);
        }
        calls += 1;
        const keys = request.Keys;
        const output = await next({
          ...args,
          input: {
            RequestItems: {
              [table]: { ...request, Keys: keys.slice(0, 30) },
            },
          },
        });
        const rest = keys.slice(30);
        const response = output.output as BatchGetItemCommandOutput;
        response.UnprocessedKeys =
          rest.length === 0 ? {} : { [table]: { ...request, Keys: rest } };
        return output;
      },
      { step: 'initialize', name: 'partialBatchGet' },
    );
    // The stored ids come last, beyond the first 30 keys of the second page.
    const unknownIds = Array.from({ length: 150 }, (_, i) => `unknown-${i}`);

    const snapshot = await repository.readIngestSnapshot(
      'default',
      ['lead-u', 'lead-missing'],
      [...unknownIds, 'lead-u-1', 'lead-u-2'],
    );

    expect(calls).toBeGreaterThan(2);
    expect([...snapshot.leads.keys()]).toEqual(['lead-u']);
    expect([...snapshot.storedMessages.keys()].sort()).toEqual([
      'lead-u-1',
      'lead-u-2',
    ]);
  });

  it('lists due reviews and outbox entries, oldest first, in pages', async () => {
    const { repository } = await repositoryOnNewTable(1);
    for (const id of ['p1', 'p2', 'p3']) {
      await repository.saveLeadChange(qualifyingChange(id));
    }

    const first = await repository.listDue(0, Number.MAX_SAFE_INTEGER, 4);
    const rest = await repository.listDue(
      0,
      Number.MAX_SAFE_INTEGER,
      4,
      first.cursor,
    );
    const all = [...first.items, ...rest.items];

    expect(first.cursor).toBeDefined();
    expect(all).toHaveLength(6);
    expect(all.filter((item) => item.kind === 'outbox')).toHaveLength(3);
    const times = all.map((item) => item.dueAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(await repository.listDue(0, T0, 10)).toEqual({
      items: [],
      cursor: undefined,
    });
  });

  it('lets only one of two sweeps claim an outbox entry', async () => {
    const { repository } = await repositoryOnNewTable(1);
    const change = qualifyingChange('lead-e');
    await repository.saveLeadChange(change);
    const eventId = change.outgoing[0]?.eventId ?? '';
    const due = (
      await repository.listDue(0, Number.MAX_SAFE_INTEGER, 10)
    ).items.find((item) => item.kind === 'outbox');

    const claims = await Promise.all([
      repository.claimOutboxEntry('lead-e', eventId, {
        dueAt: due?.dueAt ?? 0,
        attempts: 1,
        retryAt: T0 + 1,
        claimedAt: T0,
      }),
      repository.claimOutboxEntry('lead-e', eventId, {
        dueAt: due?.dueAt ?? 0,
        attempts: 1,
        retryAt: T0 + 2,
        claimedAt: T0,
      }),
    ]);

    expect(claims.filter((claim) => claim !== undefined)).toHaveLength(1);
    expect(claims.find((c) => c)?.detail).toEqual(change.outgoing[0]?.detail);
  });

  it('deletes outbox entries in batches', async () => {
    const { repository } = await repositoryOnNewTable(1);
    const changes = Array.from({ length: 30 }, (_, i) =>
      qualifyingChange(`lead-batch-${i}`),
    );
    await repository.saveLeadChanges(changes);
    const events = changes.flatMap((change) => change.outgoing);
    const kept = qualifyingChange('lead-kept');
    await repository.saveLeadChange(kept);

    // A repeated entry and an entry removed already are no error.
    await repository.deleteOutboxEntries([...events, ...events.slice(0, 1)]);
    await repository.deleteOutboxEntries(events.slice(0, 2));

    expect(events).toHaveLength(30);
    for (const change of changes) {
      expect(await repository.listOutbox(change.state.leadId)).toEqual([]);
    }
    expect(await repository.listOutbox('lead-kept')).toEqual(kept.outgoing);
  });

  it('deletes an outbox entry idempotently', async () => {
    const { repository } = await repositoryOnNewTable(1);
    const change = qualifyingChange('lead-f');
    await repository.saveLeadChange(change);
    const eventId = change.outgoing[0]?.eventId ?? '';

    await repository.deleteOutboxEntry('lead-f', eventId);
    await repository.deleteOutboxEntry('lead-f', eventId);

    const due = await repository.listDue(0, Number.MAX_SAFE_INTEGER, 10);
    expect(due.items.filter((item) => item.kind === 'outbox')).toHaveLength(0);
  });
});

/** Records the item count of every TransactWriteItems call of a client. */
function recordTransactions(client: DynamoDBClient): number[] {
  const sizes: number[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand') {
        const input = args.input as TransactWriteItemsCommandInput;
        sizes.push(input.TransactItems?.length ?? 0);
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordTransactions' },
  );
  return sizes;
}

describe('DynamoLeadRepository.saveLeadChanges', () => {
  it('writes many leads in transactions of at most 100 items', async () => {
    const { repository, client } = await repositoryOnNewTable();
    const transactions = recordTransactions(client);
    // Each change has 8 items: state, 3 message markers, 3 events, outbox.
    const changes = Array.from({ length: 40 }, (_, i) =>
      qualifyingChange(`group-${i}`),
    );

    const result = await repository.saveLeadChanges(changes);

    expect(result.saved).toHaveLength(40);
    expect(result.conflicted).toEqual([]);
    expect(result.failed).toEqual([]);
    expect(transactions).toEqual([96, 96, 96, 32]);
    const stored = await repository.getLeads(
      changes.map((c) => c.state.leadId),
    );
    expect(stored.size).toBe(40);
    for (const change of changes) {
      expect(stored.get(change.state.leadId)).toEqual(change.state);
      expect(await repository.listOutbox(change.state.leadId)).toHaveLength(1);
    }
  });

  it('reports a stale change and saves the rest of its group', async () => {
    const { repository, client } = await repositoryOnNewTable();
    await repository.saveLeadChange(qualifyingChange('stale'));
    const before = await repository.getLead('stale');
    const stale = { ...qualifyingChange('stale'), events: [] };
    const fresh = [qualifyingChange('fresh-1'), qualifyingChange('fresh-2')];
    const transactions = recordTransactions(client);

    const result = await repository.saveLeadChanges([
      fresh[0] as LeadChange,
      stale,
      fresh[1] as LeadChange,
    ]);

    expect(result.conflicted).toEqual([stale]);
    expect(result.saved).toEqual(fresh);
    expect(result.failed).toEqual([]);
    expect(transactions).toEqual([18, 16]);
    expect(await repository.getLead('stale')).toEqual(before);
    expect(await repository.listOutbox('stale')).toHaveLength(1);
    expect((await repository.getLead('fresh-2'))?.version).toBe(1);
  });

  it('reports a lead held for its erasure as conflicted', async () => {
    const { repository } = await repositoryOnNewTable();
    await repository.saveLeadChange(qualifyingChange('held'));
    const stored = await repository.getLead('held');
    if (stored === undefined) throw new Error('held was not stored');
    const { version } = await repository.holdForErasure(stored, 30_000);
    const change: LeadChange = {
      ...qualifyingChange('held', version),
      events: [],
      outgoing: [],
      state: { ...stored, version: version + 1 },
    };
    const other = qualifyingChange('not-held');

    const result = await repository.saveLeadChanges([change, other]);

    expect(result.conflicted).toEqual([change]);
    expect(result.saved).toEqual([other]);
    expect((await repository.getLead('held'))?.version).toBe(version);
  });
});

/**
 * Returns a repository on a new table whose TransactWriteItems calls are
 * cancelled with `codes` as the reasons of their last items, and None as
 * the reasons of the others.
 */
async function cancellingRepository(codes: readonly string[]) {
  const table = await createTestTable();
  const plan: { current: FaultPlan } = {
    current: (command, input) => {
      if (command !== 'TransactWriteItemsCommand') return 'pass';
      const items =
        (input as TransactWriteItemsCommandInput).TransactItems ?? [];
      const offset = items.length - codes.length;
      return {
        failBefore: new TransactionCanceledException({
          message: `Transaction cancelled [${codes.join(', ')}]`,
          $metadata: {},
          CancellationReasons: items.map((_, index) => ({
            Code: codes[index - offset] ?? 'None',
          })),
        }),
      };
    },
  };
  return faultyRepository(plan, table.tableName, 4).repository;
}

describe('DynamoLeadRepository cancellations', () => {
  it.each([
    [['ThrottlingError']],
    [['None', 'ProvisionedThroughputExceeded']],
    [['TransactionConflict', 'RequestLimitExceeded']],
  ])('raises CapacityExceededError for %j', async (codes) => {
    const repository = await cancellingRepository(codes);
    const account = newAccount('acme.example', model, T0);

    await expect(
      repository.saveLeadChange(qualifyingChange('throttled')),
    ).rejects.toThrow(CapacityExceededError);
    await expect(
      repository.saveAccountChange({
        expectedVersion: 0,
        state: { ...account, version: 1 },
        outgoing: [],
      }),
    ).rejects.toThrow(CapacityExceededError);
  });

  it.each([[['TransactionConflict']], [['ConditionalCheckFailed']]])(
    'raises VersionConflictError for %j',
    async (codes) => {
      const repository = await cancellingRepository(codes);
      const account = newAccount('acme.example', model, T0);

      await expect(
        repository.saveLeadChange(qualifyingChange('conflicted')),
      ).rejects.toThrow(VersionConflictError);
      await expect(
        repository.saveAccountChange({
          expectedVersion: 0,
          state: { ...account, version: 1 },
          outgoing: [],
        }),
      ).rejects.toThrow(VersionConflictError);
    },
  );

  it('raises a validation cancellation of an account as it is', async () => {
    const repository = await cancellingRepository(['ValidationError']);
    const account = newAccount('acme.example', model, T0);

    const saving = repository.saveAccountChange({
      expectedVersion: 0,
      state: { ...account, version: 1 },
      outgoing: [],
    });

    await expect(saving).rejects.toThrow(TransactionCanceledException);
    await expect(saving).rejects.toThrow('ValidationError');
  });
});

describe('DynamoLeadRepository erased merged leads', () => {
  async function heldLead() {
    const { repository } = await repositoryOnNewTable();
    await repository.saveLeadChange(qualifyingChange('lead-m'));
    const stored = await repository.getLead('lead-m');
    if (stored === undefined) throw new Error('lead-m was not stored');
    const held = await repository.holdForErasure(stored, 30_000);
    return { repository, held };
  }

  it('records hashes up to the maximum', async () => {
    const { repository, held } = await heldLead();
    const [a, b, c] = ['m-1', 'm-2', 'm-3'].map(sha256Hex) as [
      string,
      string,
      string,
    ];

    await repository.recordErasedMergedLead(held, a, 2);
    await repository.recordErasedMergedLead(held, b, 2);
    // A repeat of a recorded hash, as from a resumed erasure, fits.
    await repository.recordErasedMergedLead(held, b, 2);
    expect(await repository.getErasedMergedLeads('lead-m')).toEqual({
      leadIdSha256s: [a, b].sort(),
      omitted: false,
    });
    await repository.recordErasedMergedLead(held, c, 2);

    expect(await repository.getErasedMergedLeads('lead-m')).toEqual({
      leadIdSha256s: [a, b].sort(),
      omitted: true,
    });
    // The hashes are no part of the lead state.
    const state = await repository.getLead('lead-m');
    expect(JSON.stringify(state)).not.toContain(a);
  });

  it('rejects a record after the lead changed', async () => {
    const { repository, held } = await heldLead();
    // Another erasure takes the paused erasure over.
    await repository.pauseErasure(held);
    const takenOver = await repository.holdForErasure(held, 30_000);
    expect(takenOver.version).toBeGreaterThan(held.version);

    await expect(
      repository.recordErasedMergedLead(held, sha256Hex('m-1'), 2),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect(await repository.getErasedMergedLeads('lead-m')).toEqual({
      leadIdSha256s: [],
      omitted: false,
    });
  });

  it('returns nothing for a lead without records', async () => {
    const { repository } = await repositoryOnNewTable();

    expect(await repository.getErasedMergedLeads('lead-none')).toEqual({
      leadIdSha256s: [],
      omitted: false,
    });
  });
});
