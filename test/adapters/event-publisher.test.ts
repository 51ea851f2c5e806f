import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../functions/adapters/eventbridge/event-publisher.js';
import type { OutgoingEvent } from '../../functions/domain/outgoing-events.js';
import { SALES_QUEUE } from '../../lib/definitions/event-routing.js';
import { createTestRouting } from '../support/aws.js';

function outgoing(index: number, detailType = 'Lead Qualified'): OutgoingEvent {
  return {
    eventId: `event-${index}`,
    leadId: `lead-${index}`,
    detailType: detailType as OutgoingEvent['detailType'],
    createdAt: 0,
    detail: {
      schemaVersion: '1',
      eventId: `event-${index}`,
      leadId: `lead-${index}`,
      episode: 1,
      status: 'mql',
      previousStatus: 'engaged',
      occurredAt: '2026-06-01T00:00:00.000Z',
      score: 120,
      fit: 50,
      intent: 70,
      threshold: 100,
      recycleBelow: 60,
      modelVersion: 'abc',
      reason: 'score reached the threshold 100',
      topContributions: [],
      contributions: [],
      quarantined: [],
    },
  };
}

describe('EventBridgePublisher on moto', () => {
  it('routes Lead Qualified to the sales queue and nothing else', async () => {
    const routing = await createTestRouting();
    const publisher = new EventBridgePublisher(routing.events, {
      eventBusName: routing.eventBusName,
    });

    const result = await publisher.publish([
      outgoing(1),
      outgoing(2, 'Lead Recycled'),
    ]);

    expect(result.published.sort()).toEqual(['event-1', 'event-2']);
    expect(result.failed).toEqual([]);
    const { Messages = [] } = await routing.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: routing.queueUrls[SALES_QUEUE.id],
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
      }),
    );
    const routed = Messages.map((m) => JSON.parse(m.Body ?? '{}'));
    expect(routed.map((event) => event.detail.eventId)).toEqual(['event-1']);
    expect(routed[0].source).toBe('mql-engine');
  });
});

describe('EventBridgePublisher with injected faults', () => {
  const client = new EventBridgeClient({ region: 'us-east-1' });
  const mock = mockClient(client);
  afterEach(() => mock.reset());

  function publisher() {
    return new EventBridgePublisher(client, {
      eventBusName: 'bus',
      maxAttempts: 3,
      maxBackoffMs: 1,
    });
  }

  function accept(count: number): PutEventsResultEntry[] {
    return Array.from({ length: count }, (_, i) => ({ EventId: `id-${i}` }));
  }

  it('sends at most 10 entries per request', async () => {
    mock.on(PutEventsCommand).callsFake((input) => ({
      FailedEntryCount: 0,
      Entries: accept(input.Entries.length),
    }));
    const events = Array.from({ length: 23 }, (_, i) => outgoing(i));

    const result = await publisher().publish(events);

    const sizes = mock
      .commandCalls(PutEventsCommand)
      .map((call) => call.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 10, 3]);
    expect(result.published).toHaveLength(23);
  });

  it('retries only the throttled entries of a partial failure', async () => {
    mock
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [
          { EventId: 'a' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
        ],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });

    const result = await publisher().publish([outgoing(1), outgoing(2)]);

    expect(result.published).toEqual(['event-1', 'event-2']);
    const retried = mock.commandCalls(PutEventsCommand)[1]?.args[0].input;
    expect(
      retried?.Entries?.map((e) => JSON.parse(e.Detail ?? '').eventId),
    ).toEqual(['event-2']);
  });

  it('returns a non-retryable failure after one attempt', async () => {
    mock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'denied' }],
    });

    const result = await publisher().publish([outgoing(1)]);

    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(result.published).toEqual([]);
    expect(result.failed).toEqual([
      {
        eventId: 'event-1',
        errorCode: 'AccessDeniedException',
        errorMessage: 'denied',
        retryable: false,
      },
    ]);
  });

  it('gives up on a retryable failure after the last attempt', async () => {
    mock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'oops' }],
    });

    const result = await publisher().publish([outgoing(1)]);

    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(3);
    expect(result.failed[0]?.retryable).toBe(true);
  });

  it('rejects an oversized entry without sending it', async () => {
    mock.on(PutEventsCommand).resolves({ Entries: [] });
    const huge = outgoing(1);
    (huge.detail as { reason: string }).reason = 'x'.repeat(300 * 1024);

    const result = await publisher().publish([huge]);

    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(result.failed[0]?.errorCode).toBe('InvalidEntry');
  });

  it('raises when the bus cannot be called at all', async () => {
    mock.on(PutEventsCommand).rejects(new Error('connect ECONNREFUSED'));

    await expect(publisher().publish([outgoing(1)])).rejects.toThrow(
      'ECONNREFUSED',
    );
  });
});
