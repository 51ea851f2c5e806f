import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemDetails } from '../../functions/adapters/http/problem.js';
import type { HttpResponse } from '../../functions/adapters/http/responses.js';
import { runtime } from '../../functions/adapters/runtime.js';
import { handler as ingest } from '../../functions/handlers/ingest.js';
import { handler as recycle } from '../../functions/handlers/recycle.js';
import type { ErasureResult } from '../../functions/use-cases/erase-lead.js';
import { routeEvent } from '../fixtures/api-gateway-events.js';
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

/** Returns a Lambda context with `remainingMs` left before the timeout. */
function contextWithRemaining(remainingMs: number): Context {
  return { getRemainingTimeInMillis: () => remainingMs } as Context;
}

async function erase(leadId: string, context?: Context) {
  return (await recycle(
    routeEvent('DELETE /leads/{leadId}', { pathParameters: { leadId } }),
    context,
  )) as HttpResponse;
}

describe('DELETE /leads/{leadId} near the Lambda timeout', () => {
  it('answers 503 and continues on repeat', async () => {
    const userId = 'deadline@acme.example';
    const batch = ['browser-a', 'browser-b'].flatMap((anonymousId) => [
      {
        type: 'page',
        messageId: `${anonymousId}-page`,
        anonymousId,
        properties: { path: '/blog/post' },
      },
      {
        type: 'identify',
        messageId: `${anonymousId}-identify`,
        userId,
        anonymousId,
        traits: { title: 'CPO' },
      },
    ]);
    const stored = (await ingest(
      routeEvent('POST /v1/batch', {
        body: { batch },
        authorization: basicAuth(WRITE_KEY),
      }),
    )) as HttpResponse;
    expect(stored.statusCode).toBe(200);
    const { repository } = (await runtime()).deps;
    expect(await repository.listMergedLeadIds(userId)).toHaveLength(2);

    // 3 seconds left is the time the erasure keeps for its end, so the
    // request deletes no merged lead.
    const stopped = await erase(userId, contextWithRemaining(3000));

    expect(stopped.statusCode).toBe(503);
    expect(stopped.headers?.['retry-after']).toBe('1');
    const problem = JSON.parse(String(stopped.body)) as ProblemDetails;
    expect(problem.type).toBe('urn:mql-engine:problem:concurrent-update');
    expect(problem.detail).toContain('is not finished');
    expect(problem.detail).toContain('Repeat the request');
    expect(await repository.listMergedLeadIds(userId)).toHaveLength(2);

    const repeated = await erase(userId, contextWithRemaining(10_000));

    expect(repeated.statusCode).toBe(200);
    const result = JSON.parse(String(repeated.body)) as ErasureResult;
    expect(result.itemsDeleted).toBeGreaterThan(0);
    expect(await repository.getLead(userId)).toBeUndefined();
    expect(await repository.getLead('anon:browser-a')).toBeUndefined();
    expect(await repository.getLead('anon:browser-b')).toBeUndefined();
  });
});
