import {
  DescribeEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  ThrottlingException,
} from '@aws-sdk/client-eventbridge';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProblemDetails } from '../../functions/adapters/http/problem.js';
import type { HttpResponse } from '../../functions/adapters/http/responses.js';
import { resetRuntime, runtime } from '../../functions/adapters/runtime.js';
import { sha256Hex } from '../../functions/domain/canonical-json.js';
import { handler as sweep } from '../../functions/handlers/sweep.js';
import type { OutboxEntry } from '../../functions/ports/lead-repository.js';
import type { LeadView } from '../../functions/use-cases/get-lead.js';
import type { IngestResult } from '../../functions/use-cases/ingest-messages.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import {
  bodyOf,
  deleteLead,
  expectCapacityExceeded,
  getLead,
  postBatch,
  postDisposition,
} from '../support/handler-calls.js';
import {
  startTrackingBackend,
  type TrackingBackend,
} from '../support/tracking-api.js';

/**
 * The handlers run on DynamoDB Local and moto. Every EventBridge client
 * of this worker goes through the mock below, which sends each call on
 * to moto unless the test throttles that command.
 */
type Send = (
  this: EventBridgeClient,
  command: PutEventsCommand | DescribeEventBusCommand,
) => Promise<unknown>;
const sendToMoto = EventBridgeClient.prototype.send as unknown as Send;
let eventBridge: AwsClientStub<EventBridgeClient> | undefined;
const throttled = new Set<'PutEvents' | 'DescribeEventBus'>();
const calls = { PutEvents: 0, DescribeEventBus: 0 };
let backend: TrackingBackend;

function throttling(): ThrottlingException {
  return new ThrottlingException({
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400 },
  });
}

beforeAll(async () => {
  backend = await startTrackingBackend();
  // Mocked after the bus is created on moto.
  eventBridge = mockClient(EventBridgeClient);
  eventBridge.on(PutEventsCommand).callsFake((input, getClient) => {
    calls.PutEvents += 1;
    if (throttled.has('PutEvents')) throw throttling();
    return sendToMoto.call(getClient(), new PutEventsCommand(input));
  });
  eventBridge.on(DescribeEventBusCommand).callsFake((input, getClient) => {
    calls.DescribeEventBus += 1;
    if (throttled.has('DescribeEventBus')) throw throttling();
    return sendToMoto.call(getClient(), new DescribeEventBusCommand(input));
  });
});

afterAll(async () => {
  eventBridge?.restore();
  await backend?.stop();
});

beforeEach(() => {
  throttled.clear();
  calls.PutEvents = 0;
  calls.DescribeEventBus = 0;
});

/** The rejection that these tests record. */
const REJECTION = { disposition: 'rejected', reason: 'no budget this year' };

async function outboxOf(leadId: string): Promise<OutboxEntry[]> {
  return (await runtime()).deps.repository.listOutboxEntries(leadId);
}

/** Checks that a response is the 503 of a throttled EventBridge call. */
function expectEventBridgeThrottled(response: HttpResponse): void {
  expectCapacityExceeded(response);
  expect(bodyOf<ProblemDetails>(response).detail).toContain('EventBridge');
}

describe('throttled PutEvents after a committed change', () => {
  it('keeps ingest events in the outbox', async () => {
    const leadId = 'put-throttled-ingest';
    throttled.add('PutEvents');

    const response = await postBatch(qualifyingBatch(leadId));

    expect(response.statusCode).toBe(200);
    const result = bodyOf<IngestResult>(response);
    expect(result.counts.scored).toBe(3);
    expect(result.leads[0]?.status).toBe('mql');
    expect(result.events.published).toBe(0);
    expect(result.events.pending).toBeGreaterThan(0);
    expect(calls.PutEvents).toBeGreaterThan(0);
    const outbox = await outboxOf(leadId);
    expect(outbox.map((entry) => entry.event.detailType)).toContain(
      'Lead Qualified',
    );
    expect(outbox.every((entry) => entry.status === 'pending')).toBe(true);
  });

  it('keeps disposition events in the outbox', async () => {
    const leadId = 'put-throttled-disposition';
    expect((await postBatch(qualifyingBatch(leadId))).statusCode).toBe(200);
    throttled.add('PutEvents');

    const response = await postDisposition(leadId, REJECTION);

    expect(response.statusCode).toBe(200);
    const lead = bodyOf<LeadView>(response);
    expect(lead.disposition?.disposition).toBe('rejected');
    const outbox = await outboxOf(leadId);
    expect(outbox.map((entry) => entry.event.detailType)).toContain(
      'Lead Disposition Changed',
    );
  });

  it('keeps Lead Erased in the outbox', async () => {
    const leadId = 'put-throttled-erased';
    expect((await postBatch(qualifyingBatch(leadId))).statusCode).toBe(200);
    expect(await outboxOf(leadId)).toEqual([]);
    throttled.add('PutEvents');

    const response = await deleteLead(leadId);

    expect(response.statusCode).toBe(200);
    expect((await getLead(leadId)).statusCode).toBe(404);
    const outbox = await outboxOf(`erased:${sha256Hex(leadId)}`);
    expect(outbox.map((entry) => entry.event.detailType)).toEqual([
      'Lead Erased',
    ]);
  });

  it('leaves the sweep result pending', async () => {
    const leadId = 'put-throttled-sweep';
    throttled.add('PutEvents');
    expect((await postBatch(qualifyingBatch(leadId))).statusCode).toBe(200);
    const stored = await outboxOf(leadId);

    const result = await sweep({});

    expect(result.pending).toBeGreaterThanOrEqual(stored.length);
    expect(result.published).toBe(0);
    const remaining = await outboxOf(leadId);
    expect(remaining.map((entry) => entry.event.eventId).sort()).toEqual(
      stored.map((entry) => entry.event.eventId).sort(),
    );
    for (const entry of remaining) {
      expect(entry.status).toBe('pending');
      expect(entry.attempts).toBe(1);
    }
  });
});

describe('throttled PutEvents before an erasure', () => {
  it('answers 503 and keeps the lead', async () => {
    const leadId = 'put-throttled-before-erasure';
    throttled.add('PutEvents');
    expect((await postBatch(qualifyingBatch(leadId))).statusCode).toBe(200);
    const pending = await outboxOf(leadId);
    expect(pending.length).toBeGreaterThan(0);

    const response = await deleteLead(leadId);

    expectEventBridgeThrottled(response);
    expect((await getLead(leadId)).statusCode).toBe(200);
    expect(await outboxOf(leadId)).toHaveLength(pending.length);

    throttled.clear();
    const retry = await deleteLead(leadId);

    expect(retry.statusCode).toBe(200);
    expect((await getLead(leadId)).statusCode).toBe(404);
  });
});

describe('throttled event bus check at cold start', () => {
  it('answers 503 and stores nothing', async () => {
    const leadId = 'bus-check-throttled';
    resetRuntime();
    throttled.add('DescribeEventBus');

    const response = await postBatch(qualifyingBatch(leadId));

    expectEventBridgeThrottled(response);
    expect(calls.DescribeEventBus).toBeGreaterThan(0);
    expect(calls.PutEvents).toBe(0);
    expect(await backend.storedEvents(leadId)).toEqual([]);
  });

  it('checks the bus again after Retry-After', async () => {
    const leadId = 'bus-check-recovered';
    resetRuntime();
    throttled.add('DescribeEventBus');
    expectEventBridgeThrottled(await postBatch(qualifyingBatch(leadId)));
    const checks = calls.DescribeEventBus;

    throttled.clear();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const retry = await postBatch(qualifyingBatch(leadId));

    expect(retry.statusCode).toBe(200);
    expect(calls.DescribeEventBus).toBe(checks + 1);
    const result = bodyOf<IngestResult>(retry);
    expect(result.counts.scored).toBe(3);
    expect(result.events.published).toBeGreaterThan(0);
    expect(result.events.pending).toBe(0);
  });

  it('answers 503 on the admin routes', async () => {
    const leadId = 'bus-check-admin';
    expect((await postBatch(qualifyingBatch(leadId))).statusCode).toBe(200);
    resetRuntime();
    throttled.add('DescribeEventBus');

    const rejected = await postDisposition(leadId, REJECTION);
    const erased = await deleteLead(leadId);

    expectEventBridgeThrottled(rejected);
    expectEventBridgeThrottled(erased);
    throttled.clear();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const lead = bodyOf<LeadView>(await getLead(leadId));
    expect(lead.status).toBe('mql');
    expect(lead.disposition).toBeNull();
  });

  it('fails the sweep without publishing', async () => {
    resetRuntime();
    throttled.add('DescribeEventBus');

    await expect(sweep({})).rejects.toThrow('EventBridge');
    expect(calls.PutEvents).toBe(0);
  });
});
