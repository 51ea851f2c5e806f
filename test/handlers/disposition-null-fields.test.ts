import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemDetails } from '../../functions/adapters/http/problem.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import {
  bodyOf,
  postBatch,
  postDisposition,
} from '../support/handler-calls.js';
import {
  startTrackingBackend,
  type TrackingBackend,
} from '../support/tracking-api.js';

let backend: TrackingBackend;

beforeAll(async () => {
  backend = await startTrackingBackend();
});

afterAll(async () => {
  await backend?.stop();
});

async function qualify(leadId: string): Promise<void> {
  const response = await postBatch(qualifyingBatch(leadId));
  expect(response.statusCode).toBe(200);
}

describe('disposition body with null fields', () => {
  it('reads a null reason of accepted as absent', async () => {
    await qualify('null-reason-accepted');

    const response = await postDisposition('null-reason-accepted', {
      disposition: 'accepted',
      reason: null,
    });

    expect(response.statusCode).toBe(200);
    const { disposition } = bodyOf<{
      disposition: Record<string, unknown>;
    }>(response);
    expect(disposition.disposition).toBe('accepted');
    expect(disposition.reason).toBeNull();
  });

  it('reads a null reason of converted as absent', async () => {
    await qualify('null-reason-converted');

    const response = await postDisposition('null-reason-converted', {
      disposition: 'converted',
      convertedTo: 'sql',
      reason: null,
    });

    expect(response.statusCode).toBe(200);
  });

  it('rejects a null reason of rejected as missing', async () => {
    await qualify('null-reason-rejected');

    const response = await postDisposition('null-reason-rejected', {
      disposition: 'rejected',
      reason: null,
    });

    expect(response.statusCode).toBe(400);
    const problem = bodyOf<ProblemDetails>(response);
    expect(problem.errors).toEqual([
      {
        field: 'reason',
        message: 'is required: give the reason in 1 to 200 characters',
      },
    ]);
  });

  it('rejects a null convertedTo', async () => {
    await qualify('null-converted-to');

    const response = await postDisposition('null-converted-to', {
      disposition: 'converted',
      convertedTo: null,
    });

    expect(response.statusCode).toBe(400);
    const problem = bodyOf<ProblemDetails>(response);
    expect(problem.errors?.map((issue) => issue.field)).toEqual([
      'convertedTo',
    ]);
  });
});
