import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { MAX_OTHER_TRAITS } from '../../functions/domain/lead.js';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { SALES_TARGET } from '../../lib/definitions/event-routing.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';

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

  it('summarizes a lead after a merged id wrote to it', async () => {
    const { deps, clock, repository } = await realDependencies();
    const ingest = (messages: unknown[]) =>
      ingestMessages(deps, {
        sourceId: 'default',
        messages,
        receivedAt: clock.now,
      });
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
