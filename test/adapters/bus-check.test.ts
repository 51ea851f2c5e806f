import {
  DescribeEventBusCommand,
  ThrottlingException,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import {
  confirmEventBus,
  EventBusNotFoundError,
  failOnMissingBus,
  onceUntilSuccess,
} from '../../functions/adapters/eventbridge/bus-check.js';
import { CapacityExceededError } from '../../functions/domain/errors.js';
import { createTestRouting } from '../support/aws.js';

describe('confirmEventBus on moto', () => {
  it('accepts a bus that exists', async () => {
    const routing = await createTestRouting();

    await expect(
      confirmEventBus(routing.events, routing.eventBusName),
    ).resolves.toBeUndefined();
  });

  it('raises CapacityExceededError when throttled', async () => {
    const routing = await createTestRouting();
    const throttled = mockClient(routing.events);
    throttled.on(DescribeEventBusCommand).rejects(
      new ThrottlingException({
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    const check = confirmEventBus(routing.events, routing.eventBusName);

    await expect(check).rejects.toBeInstanceOf(CapacityExceededError);
    await expect(check).rejects.toThrow('EventBridge reached its throughput');
    throttled.restore();
  });

  it('raises EventBusNotFoundError for a missing bus', async () => {
    const routing = await createTestRouting();

    const check = confirmEventBus(routing.events, 'mql-engine-typo');

    await expect(check).rejects.toBeInstanceOf(EventBusNotFoundError);
    await expect(check).rejects.toThrow('"mql-engine-typo" does not exist');
  });
});

describe('onceUntilSuccess', () => {
  it('runs a successful check once', async () => {
    let calls = 0;
    const ready = onceUntilSuccess(
      async () => {
        calls += 1;
      },
      { retryAfterMs: () => 1_000, clock: () => 0 },
    );

    await ready();
    await ready();

    expect(calls).toBe(1);
  });

  it('raises a failed check until the retry time', async () => {
    let calls = 0;
    let now = 5_000;
    const ready = onceUntilSuccess(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('timed out');
      },
      { retryAfterMs: () => 1_000, clock: () => now },
    );

    await expect(ready()).rejects.toThrow('timed out');
    now += 999;
    await expect(ready()).rejects.toThrow('timed out');
    expect(calls).toBe(1);

    now += 1;
    await ready();
    expect(calls).toBe(2);
  });

  it('waits the retry time of each error', async () => {
    let calls = 0;
    let now = 5_000;
    const ready = onceUntilSuccess(
      async () => {
        calls += 1;
        throw calls === 1 ? new Error('timed out') : new Error('throttled');
      },
      {
        retryAfterMs: (error) =>
          (error as Error).message === 'throttled' ? 100 : 1_000,
        clock: () => now,
      },
    );

    await expect(ready()).rejects.toThrow('timed out');
    now += 1_000;
    await expect(ready()).rejects.toThrow('throttled');
    now += 99;
    await expect(ready()).rejects.toThrow('throttled');
    expect(calls).toBe(2);

    now += 1;
    await expect(ready()).rejects.toThrow('throttled');
    expect(calls).toBe(3);
  });

  it('shares one check among concurrent calls', async () => {
    let calls = 0;
    const ready = onceUntilSuccess(
      async () => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
      { retryAfterMs: () => 1_000, clock: () => 0 },
    );

    await Promise.all([ready(), ready(), ready()]);

    expect(calls).toBe(1);
  });
});

describe('failOnMissingBus', () => {
  it('reports a failed check and goes on', async () => {
    const reported: unknown[] = [];
    const outage = new Error('connect ECONNREFUSED');
    const ready = failOnMissingBus(
      async () => {
        throw outage;
      },
      (error) => reported.push(error),
    );

    await expect(ready()).resolves.toBeUndefined();

    expect(reported).toEqual([outage]);
  });

  it('raises a throttled check', async () => {
    const reported: unknown[] = [];
    const ready = failOnMissingBus(
      async () => {
        throw new CapacityExceededError({ service: 'EventBridge' });
      },
      (error) => reported.push(error),
    );

    await expect(ready()).rejects.toBeInstanceOf(CapacityExceededError);
    expect(reported).toEqual([]);
  });

  it('raises a missing bus', async () => {
    const reported: unknown[] = [];
    const ready = failOnMissingBus(
      async () => {
        throw new EventBusNotFoundError('mql-engine-typo');
      },
      (error) => reported.push(error),
    );

    await expect(ready()).rejects.toBeInstanceOf(EventBusNotFoundError);
    expect(reported).toEqual([]);
  });
});
