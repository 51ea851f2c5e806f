import {
  EventBridgeClient,
  PutEventsCommand,
} from '@aws-sdk/client-eventbridge';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpResponse } from '../../functions/adapters/http/responses.js';
import { resetRuntime } from '../../functions/adapters/runtime.js';
import {
  deleteLead,
  postDisposition,
  qualifyQuietly,
  requestMetrics,
} from '../support/handler-calls.js';
import {
  startTrackingBackend,
  type TrackingBackend,
} from '../support/tracking-api.js';

/**
 * The handlers run on DynamoDB Local and moto. PutEvents goes to moto
 * unless a test makes the bus reject every entry with a non-retryable
 * error, which keeps each entry as a failed outbox entry.
 */
type Send = (
  this: EventBridgeClient,
  command: PutEventsCommand,
) => Promise<unknown>;
const sendToMoto = EventBridgeClient.prototype.send as unknown as Send;
let eventBridge: AwsClientStub<EventBridgeClient> | undefined;
let rejectEntries = false;
let backend: TrackingBackend;
const savedEnvironment = {
  POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED,
};

interface EmfLine {
  _aws?: unknown;
  PublishFailures?: number;
  OutboxFailed?: number;
}

beforeAll(async () => {
  backend = await startTrackingBackend();
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  resetRuntime();
  // Mocked after the bus is created on moto.
  eventBridge = mockClient(EventBridgeClient);
  eventBridge.on(PutEventsCommand).callsFake((input, getClient) => {
    if (!rejectEntries) {
      return sendToMoto.call(getClient(), new PutEventsCommand(input));
    }
    const entries = input.Entries ?? [];
    return {
      FailedEntryCount: entries.length,
      Entries: entries.map(() => ({
        ErrorCode: 'AccessDeniedException',
        ErrorMessage: 'Not authorized to put events on this bus.',
      })),
    };
  });
});

afterAll(async () => {
  eventBridge?.restore();
  Object.assign(process.env, savedEnvironment);
  resetRuntime();
  await backend?.stop();
});

/**
 * Sends one request while the bus rejects every entry and returns its
 * status and the EMF lines it wrote.
 */
async function metricsWhileRejected(send: () => Promise<HttpResponse>) {
  rejectEntries = true;
  try {
    return await requestMetrics<EmfLine>(send);
  } finally {
    rejectEntries = false;
  }
}

describe('recycle function publish metrics', () => {
  it('count rejected disposition events', async () => {
    await qualifyQuietly('publish-metrics-rejected');

    const { status, metrics } = await metricsWhileRejected(() =>
      postDisposition('publish-metrics-rejected', {
        disposition: 'rejected',
        reason: 'no budget this year',
      }),
    );

    expect(status).toBe(200);
    expect(metrics).toHaveLength(1);
    // "Lead Disposition Changed" and "Lead Recycled".
    expect(metrics[0]?.OutboxFailed).toBe(2);
    expect(metrics[0]?.PublishFailures).toBe(2);
  });

  it('count a rejected Lead Erased', async () => {
    await qualifyQuietly('publish-metrics-erased');

    const { status, metrics } = await metricsWhileRejected(() =>
      deleteLead('publish-metrics-erased'),
    );

    expect(status).toBe(200);
    expect(metrics).toHaveLength(1);
    expect(metrics[0]?.OutboxFailed).toBe(1);
    expect(metrics[0]?.PublishFailures).toBe(1);
  });
});
