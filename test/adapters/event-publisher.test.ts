import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsResultEntry,
  ThrottlingException,
} from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EventBridgePublisher,
  entrySize,
  MAX_REQUEST_BYTES,
} from '../../functions/adapters/eventbridge/event-publisher.js';
import type { OutgoingEvent } from '../../functions/domain/outgoing-events.js';
import { SALES_TARGET } from '../../lib/definitions/event-routing.js';
import { createTestRouting } from '../support/aws.js';

type QualifiedEvent = Extract<OutgoingEvent, { detailType: 'Lead Qualified' }>;

function outgoing(
  index: number,
  detailType = 'Lead Qualified',
): QualifiedEvent {
  return {
    eventId: `event-${index}`,
    leadId: `lead-${index}`,
    detailType: detailType as QualifiedEvent['detailType'],
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
        QueueUrl: routing.queueUrls[SALES_TARGET.id],
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
        throttled: false,
      },
    ]);
  });

  it('gives up on a retryable failure after the last attempt', async () => {
    mock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [
        { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure' },
      ],
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

  it('reports a failed request as retryable failures', async () => {
    mock.on(PutEventsCommand).rejects(new Error('connect ECONNREFUSED'));

    const result = await publisher().publish([outgoing(1)]);

    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(3);
    expect(result.published).toEqual([]);
    expect(result.failed).toEqual([
      {
        eventId: 'event-1',
        errorCode: 'Error',
        errorMessage: 'connect ECONNREFUSED',
        retryable: true,
        throttled: false,
      },
    ]);
  });

  it('marks a throttled request as throttled', async () => {
    mock.on(PutEventsCommand).rejects(
      new ThrottlingException({
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    const result = await publisher().publish([outgoing(1)]);

    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(3);
    expect(result.failed).toEqual([
      {
        eventId: 'event-1',
        errorCode: 'ThrottlingException',
        errorMessage: 'Rate exceeded',
        retryable: true,
        throttled: true,
      },
    ]);
  });

  it('marks a request answered with 429 as throttled', async () => {
    const tooMany = Object.assign(new Error('Too many requests'), {
      $metadata: { httpStatusCode: 429 },
    });
    mock.on(PutEventsCommand).rejects(tooMany);

    const result = await publisher().publish([outgoing(1)]);

    expect(result.failed[0]?.retryable).toBe(true);
    expect(result.failed[0]?.throttled).toBe(true);
  });

  it('marks a throttled entry as throttled', async () => {
    mock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [
        { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
      ],
    });

    const result = await publisher().publish([outgoing(1)]);

    expect(result.failed[0]?.retryable).toBe(true);
    expect(result.failed[0]?.throttled).toBe(true);
  });

  it('marks an internal failure as not throttled', async () => {
    mock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [
        { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure' },
      ],
    });

    const result = await publisher().publish([outgoing(1)]);

    expect(result.failed[0]?.retryable).toBe(true);
    expect(result.failed[0]?.throttled).toBe(false);
  });

  it('keeps published ids when a later request fails', async () => {
    mock
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 0, Entries: accept(10) })
      .rejects(new Error('socket hang up'));
    const events = Array.from({ length: 12 }, (_, i) => outgoing(i));

    const result = await publisher().publish(events);

    expect(result.published).toHaveLength(10);
    expect(result.failed.map((failure) => failure.eventId)).toEqual([
      'event-10',
      'event-11',
    ]);
  });

  it('treats documented non-retryable codes as final', async () => {
    const codes = [
      'InvalidArgument',
      'MalformedDetail',
      'AccessDeniedException',
      'NotAuthorizedForSourceException',
    ];
    mock.on(PutEventsCommand).resolves({
      FailedEntryCount: codes.length,
      Entries: codes.map((code) => ({ ErrorCode: code, ErrorMessage: code })),
    });
    const events = codes.map((_, i) => outgoing(i));

    const result = await publisher().publish(events);

    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(result.failed.map((failure) => failure.retryable)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('waits a full-jitter backoff between attempts', async () => {
    mock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow' }],
    });
    const waits: number[] = [];
    const jittered = new EventBridgePublisher(client, {
      eventBusName: 'bus',
      maxAttempts: 4,
      baseBackoffMs: 100,
      maxBackoffMs: 300,
      random: () => 0.5,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    await jittered.publish([outgoing(1)]);

    expect(waits).toEqual([50, 100, 150]);
  });

  it('rejects a detail type longer than 128 characters', async () => {
    mock.on(PutEventsCommand).resolves({ Entries: [] });

    const result = await publisher().publish([outgoing(1, 'x'.repeat(129))]);

    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(result.failed[0]?.errorCode).toBe('InvalidEntry');
    expect(result.failed[0]?.errorMessage).toContain('128');
  });

  it('rejects a detail that is not serializable', async () => {
    mock.on(PutEventsCommand).resolves({ Entries: [] });
    const broken = outgoing(1);
    (broken.detail as unknown as Record<string, unknown>).score = BigInt(1);

    const result = await publisher().publish([broken]);

    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(result.failed[0]).toMatchObject({
      errorCode: 'InvalidEntry',
      retryable: false,
    });
  });

  it('keeps each request under 256 KB', async () => {
    mock.on(PutEventsCommand).callsFake((input) => ({
      FailedEntryCount: 0,
      Entries: accept(input.Entries.length),
    }));
    const events = Array.from({ length: 4 }, (_, i) => {
      const event = outgoing(i);
      event.detail.reason = 'x'.repeat(100 * 1024);
      return event;
    });

    const result = await publisher().publish(events);

    const requests = mock.commandCalls(PutEventsCommand);
    for (const call of requests) {
      const bytes = (call.args[0].input.Entries ?? [])
        .map(entrySize)
        .reduce((a, b) => a + b, 0);
      expect(bytes).toBeLessThan(MAX_REQUEST_BYTES);
    }
    expect(requests.map((c) => c.args[0].input.Entries?.length)).toEqual([
      2, 2,
    ]);
    expect(result.published).toHaveLength(4);
  });
});
