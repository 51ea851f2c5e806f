import AWSXRay from 'aws-xray-sdk-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpResponse } from '../../functions/adapters/http/responses.js';
import { httpHandler } from '../../functions/handlers/http-handler.js';
import { handler as ingest } from '../../functions/handlers/ingest.js';
import { handler as leads } from '../../functions/handlers/leads.js';
import { eventV2 } from '../fixtures/api-gateway-events.js';
import {
  basicAuth,
  startTrackingBackend,
  type TrackingBackend,
} from '../support/tracking-api.js';

const savedEnvironment = { ...process.env };
let backend: TrackingBackend;

beforeAll(async () => {
  // The Tracer traces only where Lambda's execution environment is set,
  // and it reads the environment when the runtime creates it.
  process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
  process.env.POWERTOOLS_TRACE_ENABLED = 'true';
  AWSXRay.setContextMissingStrategy('IGNORE_ERROR');
  backend = await startTrackingBackend();
});

afterAll(async () => {
  await backend?.stop();
  process.env = { ...savedEnvironment };
});

/** The flags of a route's subsegment as X-Ray receives them. */
interface TracedRoute {
  error?: boolean;
  fault?: boolean;
  metadata?: { 'mql-engine'?: { error?: { name: string; message: string } } };
}

/**
 * Calls a Lambda handler under a real X-Ray segment and returns its
 * response and the `## <route>` subsegment it traced.
 */
async function traced(
  handle: (event: ReturnType<typeof eventV2>) => Promise<HttpResponse>,
  event: ReturnType<typeof eventV2>,
): Promise<{ response: HttpResponse; route: TracedRoute }> {
  const segment = new AWSXRay.Segment('test');
  let response: HttpResponse | undefined;
  await AWSXRay.getNamespace().runPromise(async () => {
    AWSXRay.setSegment(segment);
    response = await handle(event);
  });
  const name = `## ${event.routeKey}`;
  const subsegments: Array<TracedRoute & { name: string }> = JSON.parse(
    JSON.stringify(segment),
  ).subsegments;
  const route = subsegments.find((subsegment) => subsegment.name === name);
  if (response === undefined || route === undefined) {
    throw new Error(`The handler traced no ${name} subsegment.`);
  }
  return { response, route };
}

describe('HTTP handler tracing', () => {
  it('flags a wrong write key as client error', async () => {
    const { response, route } = await traced(
      ingest,
      eventV2({
        path: '/v1/batch',
        headers: { authorization: basicAuth('wrong-key') },
        body: JSON.stringify({ batch: [] }),
      }),
    );

    expect(response.statusCode).toBe(401);
    expect(route.error).toBe(true);
    expect(route.fault).toBeUndefined();
  });

  it('flags an unknown lead as client error', async () => {
    const { response, route } = await traced(leads, {
      ...eventV2({ method: 'GET', path: '/leads/unknown-lead' }),
      routeKey: 'GET /leads/{leadId}',
      pathParameters: { leadId: 'unknown-lead' },
    });

    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body ?? '{}').detail).toBe(
      'Lead unknown-lead was not found.',
    );
    expect(route.error).toBe(true);
    expect(route.fault).toBeUndefined();
  });

  it('hashes account names in error metadata', async () => {
    const accountId = 'company:Ann Smith Bakery';
    const { response, route } = await traced(leads, {
      ...eventV2({
        method: 'GET',
        path: `/accounts/${encodeURIComponent(accountId)}`,
      }),
      routeKey: 'GET /accounts/{accountId}',
      pathParameters: { accountId },
    });

    expect(response.statusCode).toBe(404);
    const error = route.metadata?.['mql-engine']?.error;
    expect(error?.name).toBe('NotFoundError');
    expect(error?.message.toLowerCase()).not.toContain('smith');
    expect(error?.message).toMatch(
      /^Account company sha256:[0-9a-f]{64} was not found\.$/,
    );
  });

  it('flags a failed route as fault', async () => {
    const failing = httpHandler(async () => {
      throw new Error('The table is unreachable.');
    });

    const { response, route } = await traced(
      failing,
      eventV2({ method: 'GET', path: '/leads/any-lead' }),
    );

    expect(response.statusCode).toBe(500);
    expect(route.fault).toBe(true);
    expect(route.error).toBeUndefined();
  });
});
