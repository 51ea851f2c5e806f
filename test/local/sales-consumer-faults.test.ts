import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consumeQueue } from '../../local/sales-consumer.js';

const QUEUE_URL = 'http://127.0.0.1:1/000000000000/sales';

let sqs: AwsClientStub<SQSClient>;

beforeEach(() => {
  sqs = mockClient(SQSClient);
});

afterEach(() => {
  sqs.restore();
});

/** Resolves once `count` calls have been recorded. */
function untilCount(calls: unknown[], count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (calls.length >= count) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}

/**
 * Starts a consumer of QUEUE_URL that records each poll failure and, with
 * `recoveries`, each recovery in `events`, in order.
 */
function recordingConsumer(firstRetryMs: number, recoveries = false) {
  const events: string[] = [];
  const record = (message: string) => {
    events.push(message);
  };
  const consumer = consumeQueue({
    endpoint: 'http://127.0.0.1:1',
    queueUrl: QUEUE_URL,
    onEvent: () => undefined,
    onError: record,
    ...(recoveries ? { onRecovered: record } : {}),
    firstRetryMs,
  });
  return { consumer, events };
}

describe('consumeQueue when polls fail', () => {
  it('doubles the wait per failed poll', async () => {
    sqs.on(ReceiveMessageCommand).rejects(new Error('connection refused'));
    const { consumer, events: failures } = recordingConsumer(10);
    await untilCount(failures, 4);
    await consumer.stop();

    expect(failures.slice(0, 4)).toEqual([
      'sales queue poll failed, next poll in 0.01 s',
      'sales queue poll failed, next poll in 0.02 s',
      'sales queue poll failed, next poll in 0.04 s',
      'sales queue poll failed, next poll in 0.08 s',
    ]);
  });

  it('ends a wait when stopped', async () => {
    sqs.on(ReceiveMessageCommand).rejects(new Error('connection refused'));
    const { consumer, events: failures } = recordingConsumer(20_000);
    await untilCount(failures, 1);
    const stopped = Date.now();
    await consumer.stop();

    expect(failures).toEqual(['sales queue poll failed, next poll in 20 s']);
    expect(Date.now() - stopped).toBeLessThan(5_000);
  });

  it('reports recovery and resets the wait', async () => {
    // Each poll returns after a short wait, as a long poll does.
    const outcomes = ['fail', 'fail', 'ok', 'ok', 'fail'];
    sqs.on(ReceiveMessageCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (outcomes.shift() === 'fail') throw new Error('connection refused');
      return { Messages: [] };
    });
    const { consumer, events } = recordingConsumer(10, true);
    await untilCount(events, 5);
    await consumer.stop();

    expect(events).toEqual([
      'sales queue poll failed, next poll in 0.01 s',
      'sales queue poll failed, next poll in 0.02 s',
      'sales queue poll succeeded again',
      'sales queue poll failed, next poll in 0.01 s',
      'sales queue poll succeeded again',
    ]);
  });
});
