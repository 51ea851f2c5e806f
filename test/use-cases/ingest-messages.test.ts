import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { MAX_OTHER_TRAITS } from '../../functions/domain/lead.js';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { SALES_TARGET } from '../../lib/definitions/event-routing.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';
import { holdNextCall } from '../support/held-call.js';

/**
 * Returns a function that ingests messages from the `default` source at
 * the clock's current time.
 */
function ingestAt(
  deps: Awaited<ReturnType<typeof realDependencies>>['deps'],
  clock: { now: number },
) {
  return (messages: unknown[]) =>
    ingestMessages(deps, {
      sourceId: 'default',
      messages,
      receivedAt: clock.now,
    });
}

describe('ingestMessages', () => {
  it('qualifies a CPO who viewed pricing and requested a demo', async () => {
    const { deps, clock, routing } = await realDependencies();

    const result = await ingestMessages(deps, {
      sourceId: 'default',
      messages: qualifyingBatch('cpo-1'),
      receivedAt: clock.now,
    });

    expect(result.counts).toEqual({ scored: 3, duplicate: 0, rejected: 0 });
    expect(result.leads).toHaveLength(1);
    expect(result.leads[0]?.status).toBe('mql');
    expect(result.events).toEqual({ published: 1, pending: 0, failed: 0 });
    expect(result.transitions).toEqual({ qualified: 1, recycled: 0 });
    const { Messages = [] } = await routing.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: routing.queueUrls[SALES_TARGET.id],
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
      }),
    );
    expect(Messages).toHaveLength(1);
    const routed = JSON.parse(Messages[0]?.Body ?? '{}');
    expect(routed['detail-type']).toBe('Lead Qualified');
    expect(routed.detail.leadId).toBe('cpo-1');
    expect(routed.detail.episode).toBe(1);
  });

  it('stores a lead that sends thousands of trait names', async () => {
    const { deps, clock, repository } = await realDependencies();
    // Each identify stays under the 32 KB message limit, but together
    // their distinct trait names exceed DynamoDB's 400 KB item limit.
    const identifies = Array.from({ length: 15 }, (_, call) => ({
      type: 'identify',
      messageId: `traits-${call}`,
      userId: 'collector',
      traits: {
        title: 'CFO',
        ...Object.fromEntries(
          Array.from({ length: 900 }, (_, key) => [
            `field_${call}_${key}`,
            'value-text',
          ]),
        ),
      },
    }));

    const result = await ingestMessages(deps, {
      sourceId: 'default',
      messages: identifies,
      receivedAt: clock.now,
    });

    expect(result.counts.scored).toBe(15);
    const stored = await repository.getLead('collector');
    expect(stored?.traits.title?.value).toBe('CFO');
    expect(Object.keys(stored?.traits ?? {}).length).toBeLessThanOrEqual(
      MAX_OTHER_TRAITS + 1,
    );
  });

  it('reports a resent batch as duplicates and changes nothing', async () => {
    const { deps, clock, repository } = await realDependencies();
    const request = {
      sourceId: 'default',
      messages: qualifyingBatch('cpo-2'),
      receivedAt: clock.now,
    };
    await ingestMessages(deps, request);
    const before = await repository.getLead('cpo-2');

    const again = await ingestMessages(deps, request);

    expect(again.counts).toEqual({ scored: 0, duplicate: 3, rejected: 0 });
    expect(again.events.published).toBe(0);
    expect(again.transitions).toEqual({ qualified: 0, recycled: 0 });
    expect(await repository.getLead('cpo-2')).toEqual(before);
  });

  describe('duplicate sent for another lead', () => {
    const demo = (messageId: string, ids: Record<string, string>) => ({
      type: 'track',
      messageId,
      event: 'Demo Requested',
      ...ids,
    });

    it('names the lead that stored it first', async () => {
      const { deps, clock, repository } = await realDependencies();
      const ingest = ingestAt(deps, clock);
      await ingest([demo('dup-user', { userId: 'first-user' })]);
      await ingest([demo('dup-anon', { anonymousId: 'first-anon' })]);

      const again = await ingest([
        demo('dup-user', { userId: 'second-user' }),
        demo('dup-anon', { anonymousId: 'second-anon' }),
      ]);

      expect(again.counts).toEqual({ scored: 0, duplicate: 2, rejected: 0 });
      expect(again.results[0]).toMatchObject({
        status: 'duplicate',
        leadId: 'first-user',
      });
      expect(again.results[1]).toMatchObject({
        status: 'duplicate',
        leadId: 'anon:first-anon',
      });
      expect(again.leads).toEqual([]);
      expect(await repository.getLead('second-user')).toBeUndefined();
      expect(await repository.getLead('anon:second-anon')).toBeUndefined();
    });

    it.each([
      {
        kind: 'identify',
        resent: {
          type: 'identify',
          messageId: 'dup-link',
          userId: 'new-user',
          anonymousId: 'other-anon',
        },
        from: 'anon:other-anon',
      },
      {
        kind: 'track',
        resent: demo('dup-link', {
          userId: 'new-user',
          anonymousId: 'other-anon',
        }),
        from: 'anon:other-anon',
      },
      {
        kind: 'alias',
        resent: {
          type: 'alias',
          messageId: 'dup-link',
          userId: 'new-user',
          previousId: 'other-user',
        },
        from: 'other-user',
      },
    ])('links no ids when a resent $kind', async ({ resent, from }) => {
      const { deps, clock, repository } = await realDependencies();
      const ingest = ingestAt(deps, clock);
      await ingest([demo('dup-link', { userId: 'first-user' })]);
      await ingest([
        demo('other-demo', { anonymousId: 'other-anon' }),
        demo('other-user-demo', { userId: 'other-user' }),
      ]);
      const before = await repository.getLead(from);

      const again = await ingest([resent]);

      expect(again.results[0]).toMatchObject({
        status: 'duplicate',
        leadId: 'first-user',
      });
      expect(again.leads).toEqual([]);
      expect(await repository.getLead('new-user')).toBeUndefined();
      const after = await repository.getLead(from);
      expect(after?.mergedInto).toBeUndefined();
      expect(after?.version).toBe(before?.version);
    });

    it('links no ids when a copy adds one', async () => {
      const { deps, clock, repository } = await realDependencies();
      const ingest = ingestAt(deps, clock);
      await ingest([demo('dup-added', { userId: 'first-user' })]);
      await ingest([demo('other-demo', { anonymousId: 'other-anon' })]);
      const before = await repository.getLead('anon:other-anon');

      // The copy states a link to the lead that stored the message, as the
      // retry of a request that stopped before it linked the ids would.
      const again = await ingest([
        demo('dup-added', { userId: 'first-user', anonymousId: 'other-anon' }),
      ]);

      expect(again.results[0]).toMatchObject({
        status: 'duplicate',
        leadId: 'first-user',
      });
      const after = await repository.getLead('anon:other-anon');
      expect(after?.mergedInto).toBeUndefined();
      expect(after?.version).toBe(before?.version);
    });

    it('names the lead the first one was merged into', async () => {
      const { deps, clock } = await realDependencies();
      const ingest = ingestAt(deps, clock);
      await ingest([demo('dup-merged', { anonymousId: 'visitor' })]);
      await ingest([
        {
          type: 'identify',
          messageId: 'dup-identify',
          anonymousId: 'visitor',
          userId: 'known-user',
        },
      ]);

      const again = await ingest([demo('dup-merged', { userId: 'other' })]);

      expect(again.results[0]).toMatchObject({
        status: 'duplicate',
        leadId: 'known-user',
      });
    });

    it('names the lead of a request that stored it meanwhile', async () => {
      const { deps, clock, repository } = await realDependencies();
      const ingest = ingestAt(deps, clock);
      // The second request reads no marker, then the first one stores the
      // message, so the second one's write finds the marker.
      const held = holdNextCall(deps.repository, 'readIngestSnapshot', {
        when: 'after',
      });
      const late = ingest([demo('dup-race', { userId: 'late-user' })]);
      await held.reached;
      await ingest([demo('dup-race', { userId: 'early-user' })]);
      held.release();

      const result = await late;

      expect(result.results[0]).toMatchObject({
        status: 'duplicate',
        leadId: 'early-user',
      });
      expect(await repository.getLead('late-user')).toBeUndefined();
    });

    it('does not name a first lead that is gone', async () => {
      const { deps, clock, table } = await realDependencies();
      const ingest = ingestAt(deps, clock);
      await ingest([demo('dup-gone', { userId: 'gone-user' })]);
      // A marker can outlive its lead while DynamoDB's time to live has
      // removed the event but not yet the marker, which an erasure of
      // the lead then cannot find.
      await table.client.send(
        new DeleteItemCommand({
          TableName: table.tableName,
          Key: marshall({ PK: 'LEAD#gone-user', SK: 'STATE' }),
        }),
      );

      const again = await ingest([demo('dup-gone', { userId: 'next-user' })]);

      expect(again.results[0]).toMatchObject({
        status: 'duplicate',
        leadId: 'next-user',
      });
    });

    it('stores it anew after the first lead was erased', async () => {
      const { deps, clock } = await realDependencies();
      const ingest = ingestAt(deps, clock);
      await ingest([demo('dup-erased', { userId: 'erased-user' })]);
      await eraseLead(deps, 'erased-user');

      const again = await ingest([demo('dup-erased', { userId: 'new-user' })]);

      expect(again.results[0]).toMatchObject({
        status: 'scored',
        leadId: 'new-user',
      });
    });
  });

  it('summarizes a lead after a merged id wrote to it', async () => {
    const { deps, clock, repository } = await realDependencies();
    const ingest = ingestAt(deps, clock);
    const blog = {
      type: 'page',
      messageId: 'sam-blog',
      userId: 'sam',
      properties: { path: '/blog/post' },
    };
    await ingest([
      {
        type: 'identify',
        messageId: 'sam-id',
        anonymousId: 'b1',
        userId: 'sam',
      },
      blog,
    ]);

    // The resent blog read changes nothing, while the demo request of the
    // merged anonymous id lands on the same lead.
    const result = await ingest([
      blog,
      {
        type: 'track',
        messageId: 'sam-demo',
        anonymousId: 'b1',
        event: 'Demo Requested',
      },
    ]);

    const view = await getLead(deps, 'sam');
    expect(result.counts).toEqual({ scored: 1, duplicate: 1, rejected: 0 });
    expect(result.leads).toHaveLength(1);
    expect(result.leads[0]?.leadId).toBe('sam');
    expect(result.leads[0]?.intent).toBe(view.intent);
    expect(result.leads[0]?.score).toBe(view.score);
    expect((await repository.getLead('sam'))?.eventCount).toBe(3);
  });
});
