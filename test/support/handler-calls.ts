import type { Context } from 'aws-lambda';
import { expect } from 'vitest';
import type { ProblemDetails } from '../../functions/adapters/http/problem.js';
import type { HttpResponse } from '../../functions/adapters/http/responses.js';
import { handler as ingest } from '../../functions/handlers/ingest.js';
import { handler as leads } from '../../functions/handlers/leads.js';
import { handler as recycle } from '../../functions/handlers/recycle.js';
import { routeEvent } from '../fixtures/api-gateway-events.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { captureOutput } from './output.js';
import { basicAuth, WRITE_KEY } from './tracking-api.js';

/**
 * Calls of the real HTTP handlers with the API Gateway events of their
 * routes. The handlers use the table and event bus that
 * startTrackingBackend points the environment at.
 */

/** Calls `POST /v1/batch` with `batch`, authorized by WRITE_KEY. */
export async function postBatch(batch: readonly unknown[]) {
  return (await ingest(
    routeEvent('POST /v1/batch', {
      body: { batch },
      authorization: basicAuth(WRITE_KEY),
    }),
  )) as HttpResponse;
}

/** Calls `POST /leads/{leadId}/disposition` with `body`. */
export async function postDisposition(leadId: string, body: unknown) {
  return (await recycle(
    routeEvent('POST /leads/{leadId}/disposition', {
      body,
      pathParameters: { leadId },
    }),
  )) as HttpResponse;
}

/** Calls `DELETE /leads/{leadId}`, with a Lambda context when given. */
export async function deleteLead(leadId: string, context?: Context) {
  return (await recycle(
    routeEvent('DELETE /leads/{leadId}', { pathParameters: { leadId } }),
    context,
  )) as HttpResponse;
}

/** Calls `GET /leads/{leadId}`. */
export async function getLead(leadId: string) {
  return (await leads(
    routeEvent('GET /leads/{leadId}', { pathParameters: { leadId } }),
  )) as HttpResponse;
}

/** Parses the JSON body of a handler response. */
export function bodyOf<T>(response: HttpResponse): T {
  return JSON.parse(String(response.body)) as T;
}

/** Checks that a response is the 503 that requests an unchanged retry. */
export function expectCapacityExceeded(response: HttpResponse): void {
  const problem = bodyOf<ProblemDetails>(response);
  expect(response.statusCode).toBe(503);
  expect(response.headers?.['retry-after']).toBe('1');
  expect(response.headers?.['content-type']).toBe('application/problem+json');
  expect(problem.type).toBe('urn:mql-engine:problem:capacity-exceeded');
  expect(problem.title).toBe('Capacity exceeded');
  expect(problem.detail).toContain('Retry it unchanged');
  expect(typeof problem.requestId).toBe('string');
}

/**
 * Posts a qualifying batch for `leadId` with its log and metric lines
 * captured, and checks that the handler accepted it.
 */
export async function qualifyQuietly(leadId: string): Promise<void> {
  const output = captureOutput();
  try {
    expect((await postBatch(qualifyingBatch(leadId))).statusCode).toBe(200);
  } finally {
    output.restore();
  }
}

/**
 * Sends one handler request with its output captured, and returns its
 * status and the EMF lines (JSON lines with an `_aws` key) it wrote.
 */
export async function requestMetrics<Line>(
  send: () => Promise<HttpResponse>,
): Promise<{ status: number | undefined; metrics: Line[] }> {
  const output = captureOutput();
  let status: number | undefined;
  try {
    status = (await send()).statusCode;
  } finally {
    output.restore();
  }
  const metrics = output
    .all()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line & { _aws?: unknown })
    .filter((line) => '_aws' in line);
  return { status, metrics };
}
