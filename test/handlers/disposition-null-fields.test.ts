import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemDetails } from '../../functions/adapters/http/problem.js';
import type { HttpResponse } from '../../functions/adapters/http/responses.js';
import { handler as ingest } from '../../functions/handlers/ingest.js';
import { handler as recycle } from '../../functions/handlers/recycle.js';
import { routeEvent } from '../fixtures/api-gateway-events.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import {
  basicAuth,
  startTrackingBackend,
  type TrackingBackend,
  WRITE_KEY,
} from '../support/tracking-api.js';

let backend: TrackingBackend;

beforeAll(async () => {
  backend = await startTrackingBackend();
});

afterAll(async () => {
  await backend?.stop();
});

async function qualify(leadId: string): Promise<void> {
  const response = (await ingest(
    routeEvent('POST /v1/batch', {
      body: { batch: qualifyingBatch(leadId) },
      authorization: basicAuth(WRITE_KEY),
    }),
  )) as HttpResponse;
  expect(response.statusCode).toBe(200);
}

async function dispose(leadId: string, body: unknown): Promise<HttpResponse> {
  return (await recycle(
    routeEvent('POST /leads/{leadId}/disposition', {
      body,
      pathParameters: { leadId },
    }),
  )) as HttpResponse;
}

function bodyOf(response: HttpResponse): Record<string, unknown> {
  return JSON.parse(String(response.body)) as Record<string, unknown>;
}

describe('disposition body with null fields', () => {
  it('reads a null reason of accepted as absent', async () => {
    await qualify('null-reason-accepted');

    const response = await dispose('null-reason-accepted', {
      disposition: 'accepted',
      reason: null,
    });

    expect(response.statusCode).toBe(200);
    const disposition = bodyOf(response).disposition as Record<string, unknown>;
    expect(disposition.disposition).toBe('accepted');
    expect(disposition.reason).toBeNull();
  });

  it('reads a null reason of converted as absent', async () => {
    await qualify('null-reason-converted');

    const response = await dispose('null-reason-converted', {
      disposition: 'converted',
      convertedTo: 'sql',
      reason: null,
    });

    expect(response.statusCode).toBe(200);
  });

  it('rejects a null reason of rejected as missing', async () => {
    await qualify('null-reason-rejected');

    const response = await dispose('null-reason-rejected', {
      disposition: 'rejected',
      reason: null,
    });

    expect(response.statusCode).toBe(400);
    const problem = bodyOf(response) as unknown as ProblemDetails;
    expect(problem.errors).toEqual([
      {
        field: 'reason',
        message: 'is required: give the reason in 1 to 200 characters',
      },
    ]);
  });

  it('rejects a null convertedTo', async () => {
    await qualify('null-converted-to');

    const response = await dispose('null-converted-to', {
      disposition: 'converted',
      convertedTo: null,
    });

    expect(response.statusCode).toBe(400);
    const problem = bodyOf(response) as unknown as ProblemDetails;
    expect(problem.errors?.map((issue) => issue.field)).toEqual([
      'convertedTo',
    ]);
  });
});
