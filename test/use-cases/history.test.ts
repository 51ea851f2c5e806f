import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import type { ApiRequest } from '../../functions/adapters/http/api-request.js';
import { ValidationError } from '../../functions/domain/errors.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { historyPageOf } from '../../functions/handlers/history-query.js';
import { getHistory } from '../../functions/use-cases/get-history.js';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { modelWith } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import { holdNextCall } from '../support/held-call.js';

function blogRead(userId: string, n: number) {
  return {
    type: 'page',
    messageId: `${userId}-blog-${n}`,
    userId,
    properties: { path: '/blog/post' },
  };
}

describe('lead history', () => {
  it('keeps an entry per score change with its cause', async () => {
    const { deps, clock } = await realDependencies();
    const ingest = (messages: unknown[]) =>
      ingestMessages(deps, {
        sourceId: 'default',
        messages,
        receivedAt: clock.now,
      });

    await ingest(qualifyingBatch('hist-1'));
    clock.advance(DAY_MS);
    await ingest([blogRead('hist-1', 1)]);
    clock.advance(DAY_MS);
    await recordDisposition(deps, 'hist-1', { kind: 'accepted' });
    clock.advance(400 * DAY_MS);
    await runSweep(deps, { now: clock.now, deadline: clock.now + 60_000 });

    const page = await getHistory(deps, 'hist-1', { limit: 10 });
    expect(page.nextCursor).toBeNull();
    expect(page.entries.map((entry) => entry.cause)).toEqual([
      'sweep',
      'disposition',
      'event',
      'event',
    ]);
    const [sweep, , read, first] = page.entries;
    expect(first?.before).toBeNull();
    expect(first?.after.status).toBe('mql');
    expect(first?.events).toBe(3);
    expect(read?.before?.score).toBe(first?.after.score);
    expect(sweep?.after.status).toBe('recycled');
    expect(sweep?.modelVersion).toBe(deps.model.version);
  });

  it('keeps reviews due before an event as their own entry', async () => {
    const { deps, clock } = await realDependencies();
    const ingest = (messages: unknown[]) =>
      ingestMessages(deps, {
        sourceId: 'default',
        messages,
        receivedAt: clock.now,
      });
    await ingest(qualifyingBatch('late-1'));
    clock.advance(400 * DAY_MS);

    await ingest([blogRead('late-1', 1)]);

    const page = await getHistory(deps, 'late-1', { limit: 10 });
    expect(page.entries.map((entry) => entry.cause)).toEqual([
      'event',
      'sweep',
      'event',
    ]);
    const [read, sweep] = page.entries;
    expect(sweep?.before?.status).toBe('mql');
    expect(sweep?.after.status).toBe('recycled');
    expect(read?.before).toEqual(sweep?.after);
    expect(Date.parse(sweep?.at ?? '')).toBeLessThan(
      Date.parse(read?.at ?? ''),
    );
  });

  it('keeps reviews due before a disposition as their own entry', async () => {
    const { deps, clock } = await realDependencies();
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: qualifyingBatch('late-sale'),
      receivedAt: clock.now,
    });
    clock.advance(400 * DAY_MS);

    await recordDisposition(deps, 'late-sale', {
      kind: 'converted',
      convertedTo: 'sql',
    });

    const page = await getHistory(deps, 'late-sale', { limit: 10 });
    expect(page.entries.map((entry) => entry.cause)).toEqual([
      'disposition',
      'sweep',
      'event',
    ]);
    const [disposition, sweep] = page.entries;
    expect(sweep?.after.status).toBe('recycled');
    expect(disposition?.before).toEqual(sweep?.after);
  });

  it('keeps a disposition entry only for a score or status change', async () => {
    const { deps, clock } = await realDependencies();
    for (const userId of ['accepted-1', 'rejected-1']) {
      await ingestMessages(deps, {
        sourceId: 'default',
        messages: qualifyingBatch(userId),
        receivedAt: clock.now,
      });
    }

    await recordDisposition(deps, 'accepted-1', { kind: 'accepted' });
    await recordDisposition(deps, 'rejected-1', {
      kind: 'rejected',
      reason: 'no fit',
    });

    const causesOf = async (userId: string) =>
      (await getHistory(deps, userId, { limit: 10 })).entries.map(
        (entry) => entry.cause,
      );
    expect(await causesOf('accepted-1')).toEqual(['event']);
    expect(await causesOf('rejected-1')).toEqual(['disposition', 'event']);
  });

  it('shows the score as GET shows it', async () => {
    // Fit 10.004 and intent 5.004 round to 10.00 and 5.00 apart, but the
    // score 15.008 rounds to 15.01, so GET shows an intent of 5.01.
    const model = modelWith({
      fit: [
        {
          traits: ['title'],
          group: 'persona',
          pattern: 'buyer',
          points: 10.004,
        },
      ],
      intent: [
        {
          when: { events: ['Tiny Signal'] },
          points: 5.004,
          retentionPerQuarter: 1,
        },
      ],
    });
    const { deps, clock } = await realDependencies({ model });
    const signal = (n: number) => ({
      type: 'track',
      messageId: `fractional-signal-${n}`,
      userId: 'fractional',
      event: 'Tiny Signal',
    });
    const ingest = (messages: unknown[]) =>
      ingestMessages(deps, {
        sourceId: 'default',
        messages,
        receivedAt: clock.now,
      });
    const shownScore = async () => {
      const { score, fit, intent, status } = await getLead(deps, 'fractional');
      return { score, fit, intent, status };
    };

    await ingest([
      {
        type: 'identify',
        messageId: 'fractional-identify',
        userId: 'fractional',
        traits: { title: 'Buyer' },
      },
      signal(1),
    ]);
    const first = await shownScore();
    clock.advance(DAY_MS);
    await ingest([signal(2)]);
    const second = await shownScore();

    expect(first).toEqual({
      score: 15.01,
      fit: 10,
      intent: 5.01,
      status: 'engaged',
    });
    const page = await getHistory(deps, 'fractional', { limit: 10 });
    const [latest, earlier] = page.entries;
    expect(earlier?.after).toEqual(first);
    expect(latest?.before).toEqual(first);
    expect(latest?.after).toEqual(second);
    const stored = await deps.repository.listHistory('fractional', 10);
    expect(stored.entries[1]?.after).toEqual(first);
    expect(stored.entries[0]?.before).toEqual(first);
  });

  it('answers for a lead merged while it is read', async () => {
    const { deps, clock } = await realDependencies();
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: qualifyingBatch('hist-merged'),
      receivedAt: clock.now,
    });
    // The alias makes the lead a tombstone right after the request's
    // first read of it.
    const held = holdNextCall(deps.repository, 'getLead', {
      when: 'after',
      matches: (leadId) => leadId === 'hist-merged',
    });
    const history = getHistory(deps, 'hist-merged', { limit: 20 });
    await held.reached;
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: [
        { type: 'alias', userId: 'hist-target', previousId: 'hist-merged' },
      ],
      receivedAt: clock.now,
    });
    held.release();

    const page = await history;

    // The page is the history as of the read, when the lead was unmerged.
    expect(page.leadId).toBe('hist-merged');
    expect(page.requestedLeadId).toBeUndefined();
    expect(page.entries.length).toBeGreaterThan(0);
  });

  it('pages through the history with a cursor', async () => {
    const { deps, clock } = await realDependencies();
    for (let n = 0; n < 5; n += 1) {
      await ingestMessages(deps, {
        sourceId: 'default',
        messages: [blogRead('pager', n)],
        receivedAt: clock.now,
      });
      clock.advance(DAY_MS);
    }

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await getHistory(deps, 'pager', { limit: 2, cursor });
      seen.push(...page.entries.map((entry) => entry.at));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor !== undefined && pages < 10);

    expect(seen).toHaveLength(5);
    expect([...seen].sort().reverse()).toEqual(seen);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('ends with a null cursor on a full last page', async () => {
    const { deps, clock } = await realDependencies();
    for (let n = 0; n < 4; n += 1) {
      await ingestMessages(deps, {
        sourceId: 'default',
        messages: [blogRead('full-pages', n)],
        receivedAt: clock.now,
      });
      clock.advance(DAY_MS);
    }

    const all = await getHistory(deps, 'full-pages', { limit: 4 });
    const first = await getHistory(deps, 'full-pages', { limit: 2 });
    const second = await getHistory(deps, 'full-pages', {
      limit: 2,
      cursor: first.nextCursor ?? '',
    });

    expect(all.entries).toHaveLength(4);
    expect(all.nextCursor).toBeNull();
    expect(first.entries).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    expect(second.entries).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    expect([...first.entries, ...second.entries]).toEqual(all.entries);
  });

  it('rejects a cursor of another lead', async () => {
    const { deps, clock } = await realDependencies();
    for (const userId of ['one', 'two']) {
      for (let n = 0; n < 2; n += 1) {
        await ingestMessages(deps, {
          sourceId: 'default',
          messages: [blogRead(userId, n)],
          receivedAt: clock.now,
        });
        clock.advance(DAY_MS);
      }
    }
    const first = await getHistory(deps, 'one', { limit: 1 });
    const cursor = first.nextCursor ?? '';

    await expect(getHistory(deps, 'two', { limit: 1, cursor })).rejects.toThrow(
      ValidationError,
    );
    await expect(
      getHistory(deps, 'one', { limit: 1, cursor: 'bm90LWpzb24' }),
    ).rejects.toThrow(ValidationError);
  });

  it('continues a cursor taken before a merge', async () => {
    const { deps, clock } = await realDependencies();
    const ingest = (messages: unknown[]) =>
      ingestMessages(deps, {
        sourceId: 'default',
        messages,
        receivedAt: clock.now,
      });
    for (let n = 0; n < 5; n += 1) {
      await ingest([
        {
          type: 'page',
          messageId: `visitor-blog-${n}`,
          anonymousId: 'visitor',
          properties: { path: '/blog/post' },
        },
      ]);
      clock.advance(DAY_MS);
    }
    const before = await getHistory(deps, 'anon:visitor', { limit: 10 });
    const first = await getHistory(deps, 'anon:visitor', { limit: 2 });

    await ingest([
      {
        type: 'identify',
        messageId: 'visitor-identify',
        userId: 'visitor-user',
        anonymousId: 'visitor',
      },
    ]);

    const rest: unknown[] = [];
    let cursor = first.nextCursor ?? undefined;
    let pages = 0;
    while (cursor !== undefined && pages < 10) {
      const page = await getHistory(deps, 'anon:visitor', { limit: 2, cursor });
      expect(page.leadId).toBe('anon:visitor');
      expect(page.mergedInto).toBe('visitor-user');
      expect(page.requestedLeadId).toBeUndefined();
      rest.push(...page.entries);
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    }
    expect(before.entries).toHaveLength(5);
    expect(rest).toEqual(before.entries.slice(2));
    const merged = await getHistory(deps, 'anon:visitor', { limit: 2 });
    expect(merged.leadId).toBe('visitor-user');
    expect(merged.requestedLeadId).toBe('anon:visitor');
    expect(merged.mergedInto).toBeUndefined();
  });

  it('rejects an old cursor on the merge target', async () => {
    const { deps, clock } = await realDependencies();
    for (let n = 0; n < 3; n += 1) {
      await ingestMessages(deps, {
        sourceId: 'default',
        messages: [
          {
            type: 'page',
            messageId: `guest-blog-${n}`,
            anonymousId: 'guest',
            properties: { path: '/blog/post' },
          },
        ],
        receivedAt: clock.now,
      });
      clock.advance(DAY_MS);
    }
    const first = await getHistory(deps, 'anon:guest', { limit: 1 });
    const cursor = first.nextCursor ?? '';
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: [
        {
          type: 'identify',
          messageId: 'guest-identify',
          userId: 'guest-user',
          anonymousId: 'guest',
        },
      ],
      receivedAt: clock.now,
    });

    await expect(
      getHistory(deps, 'guest-user', { limit: 1, cursor }),
    ).rejects.toThrow(ValidationError);
    await expect(
      getHistory(deps, 'anon:guest', { limit: 1, cursor: 'bm90LWpzb24' }),
    ).rejects.toThrow(ValidationError);
    const continued = await getHistory(deps, 'anon:guest', {
      limit: 1,
      cursor,
    });
    expect(continued.leadId).toBe('anon:guest');
    expect(continued.entries).toHaveLength(1);
  });

  it('keeps the lead id out of its cursors', async () => {
    const { deps, clock } = await realDependencies();
    const leadId = 'jane.doe@acme.example';
    for (let n = 0; n < 3; n += 1) {
      await ingestMessages(deps, {
        sourceId: 'default',
        messages: [blogRead(leadId, n)],
        receivedAt: clock.now,
      });
      clock.advance(DAY_MS);
    }

    const first = await getHistory(deps, leadId, { limit: 1 });
    const cursor = first.nextCursor ?? '';
    const decoded = Buffer.from(cursor, 'base64url').toString('utf8');

    expect(decoded).not.toContain('jane');
    expect(Object.keys(JSON.parse(decoded)).sort()).toEqual(['SK', 'lead']);
    const second = await getHistory(deps, leadId, { limit: 1, cursor });
    expect(second.entries).toHaveLength(1);
    expect(second.entries[0]?.at).not.toBe(first.entries[0]?.at);
  });

  it('accepts a cursor with the partition key', async () => {
    const { deps, clock, table } = await realDependencies();
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: [blogRead('old-cursor', 9)],
      receivedAt: clock.now,
    });
    // A lead stored before incarnationId existed.
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: marshall({ PK: 'LEAD#old-cursor', SK: 'STATE' }),
        UpdateExpression: 'REMOVE incarnationId',
      }),
    );
    for (let n = 0; n < 3; n += 1) {
      await ingestMessages(deps, {
        sourceId: 'default',
        messages: [blogRead('old-cursor', n)],
        receivedAt: clock.now,
      });
      clock.advance(DAY_MS);
    }
    const first = await getHistory(deps, 'old-cursor', { limit: 1 });
    const { SK } = JSON.parse(
      Buffer.from(first.nextCursor ?? '', 'base64url').toString('utf8'),
    );
    const oldCursor = (leadId: string) =>
      Buffer.from(JSON.stringify({ PK: `LEAD#${leadId}`, SK })).toString(
        'base64url',
      );

    const second = await getHistory(deps, 'old-cursor', {
      limit: 1,
      cursor: oldCursor('old-cursor'),
    });
    const expected = await getHistory(deps, 'old-cursor', {
      limit: 1,
      cursor: first.nextCursor ?? '',
    });

    expect(second.entries).toEqual(expected.entries);
    await expect(
      getHistory(deps, 'old-cursor', { limit: 1, cursor: oldCursor('other') }),
    ).rejects.toThrow(ValidationError);
  });

  it('rejects a partition key cursor of a newer lead', async () => {
    const { deps, clock } = await realDependencies();
    for (let n = 0; n < 2; n += 1) {
      await ingestMessages(deps, {
        sourceId: 'default',
        messages: [blogRead('new-lead', n)],
        receivedAt: clock.now,
      });
    }
    const first = await getHistory(deps, 'new-lead', { limit: 1 });
    const { SK } = JSON.parse(
      Buffer.from(first.nextCursor ?? '', 'base64url').toString('utf8'),
    );
    const cursor = Buffer.from(
      JSON.stringify({ PK: 'LEAD#new-lead', SK }),
    ).toString('base64url');

    await expect(
      getHistory(deps, 'new-lead', { limit: 1, cursor }),
    ).rejects.toThrow(ValidationError);
  });

  it.each([
    ['a sort key that is no history version', 'HISTORY#zzz'],
    ['an empty version', 'HISTORY#'],
    ['a sort key over 1024 bytes', `HISTORY#${'1'.repeat(1100)}`],
  ])('rejects a cursor with %s', async (_case, sortKey) => {
    const { deps, clock } = await realDependencies();
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: [blogRead('tampered', 0)],
      receivedAt: clock.now,
    });
    const cursor = Buffer.from(
      JSON.stringify({ PK: 'LEAD#tampered', SK: sortKey }),
    ).toString('base64url');

    await expect(
      getHistory(deps, 'tampered', { limit: 1, cursor }),
    ).rejects.toThrow(ValidationError);
  });
});

describe('historyPageOf', () => {
  const request = (queryParameters: Record<string, string>) =>
    ({ queryParameters }) as unknown as ApiRequest;

  it('defaults the limit to 20', () => {
    expect(historyPageOf(request({}))).toEqual({
      limit: 20,
      cursor: undefined,
    });
  });

  it.each(['0', '101', '2.5', 'ten', '1e2', '0x10', ' 5', '+5', '', '007'])(
    'rejects the limit "%s"',
    (limit) => {
      expect(() => historyPageOf(request({ limit }))).toThrow(ValidationError);
    },
  );

  it('repeats a long limit cut to 100 characters', () => {
    const limit = '9'.repeat(5000);
    try {
      historyPageOf(request({ limit }));
      expect.unreachable('the limit is invalid');
    } catch (error) {
      const [issue] = (error as ValidationError).issues;
      expect(issue?.field).toBe('limit');
      expect(issue?.message).toContain(
        `"${'9'.repeat(100)}… (5000 characters)"`,
      );
      expect(issue?.message.length).toBeLessThan(200);
    }
  });

  it.each(['limt', 'LIMIT', 'Cursor', 'page'])(
    'rejects the unknown parameter %s',
    (name) => {
      try {
        historyPageOf(request({ [name]: '5' }));
        expect.unreachable('the parameter is unknown');
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues).toEqual([
          {
            field: name,
            message:
              'is not a known query parameter; accepted parameters are limit, cursor. Remove it or correct its spelling.',
          },
        ]);
      }
    },
  );

  it('rejects a repeated limit', () => {
    const repeated: ApiRequest = {
      ...request({ limit: '1,2' }),
      repeatedQueryNames: ['limit'],
    };
    try {
      historyPageOf(repeated);
      expect.unreachable('the limit is repeated');
    } catch (error) {
      expect((error as ValidationError).issues).toEqual([
        { field: 'limit', message: 'is given more than once. Send it once.' },
      ]);
    }
  });

  it('names each unknown parameter', () => {
    try {
      historyPageOf(
        request({ limt: '5', limit: '5', '': '1', 'a\u200bb': '' }),
      );
      expect.unreachable('the parameters are unknown');
    } catch (error) {
      const fields = (error as ValidationError).issues.map(
        (issue) => issue.field,
      );
      expect(fields).toEqual(['limt', '(empty name)', 'a\\u{200B}b']);
    }
  });

  it('reads limit and cursor together', () => {
    expect(historyPageOf(request({ limit: '5', cursor: 'abc' }))).toEqual({
      limit: 5,
      cursor: 'abc',
    });
  });

  it('rejects a cursor that is not base64url', () => {
    expect(() => historyPageOf(request({ cursor: 'a b' }))).toThrow(
      'The cursor is invalid.',
    );
  });
});
