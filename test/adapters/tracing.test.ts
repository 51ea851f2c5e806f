import { Tracer } from '@aws-lambda-powertools/tracer';
import AWSXRay from 'aws-xray-sdk-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { problemResponse } from '../../functions/adapters/http/problem.js';
import {
  type HttpResponse,
  jsonResponse,
} from '../../functions/adapters/http/responses.js';
import { redactEmails } from '../../functions/adapters/observability/redaction.js';
import {
  traceHandler,
  traceRequest,
} from '../../functions/adapters/observability/tracing.js';
import {
  AuthenticationError,
  ConcurrencyError,
  NotFoundError,
  ValidationError,
} from '../../functions/domain/errors.js';
import { recordingLog } from '../support/dependencies.js';

const EMAIL = 'jürgen.müller@bücher.example';
const savedEnvironment = { ...process.env };

beforeEach(() => {
  // The Tracer traces only where Lambda's execution environment is set.
  process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
  process.env.POWERTOOLS_TRACE_ENABLED = 'true';
  AWSXRay.setContextMissingStrategy('IGNORE_ERROR');
});

afterEach(() => {
  process.env = { ...savedEnvironment };
});

/** Runs traceHandler under a real X-Ray segment and returns the segment. */
async function traceFailure(error: Error): Promise<AWSXRay.Segment> {
  const tracer = new Tracer({ serviceName: 'mql-engine' });
  const segment = new AWSXRay.Segment('test');
  await AWSXRay.getNamespace().runPromise(async () => {
    AWSXRay.setSegment(segment);
    await expect(
      traceHandler(tracer, 'GET /leads/{leadId}', async () => {
        throw error;
      }),
    ).rejects.toBe(error);
  });
  return segment;
}

describe('traceHandler', () => {
  it('records the error in its subsegment', async () => {
    const segment = await traceFailure(
      new NotFoundError('Lead x1 was not found.'),
    );

    const text = JSON.stringify(segment);

    expect(text).toContain('## GET /leads/{leadId}');
    expect(text).toContain('Lead x1 was not found.');
  });

  it('records no email address of an error', async () => {
    const error = new NotFoundError(`Lead ${EMAIL} was not found.`);

    const text = JSON.stringify(await traceFailure(error));

    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain('müller');
    expect(text).toContain(redactEmails(`Lead ${EMAIL} was not found.`));
  });

  it('records the trace message of an error', async () => {
    const error = new NotFoundError(
      'Account company:ann smith was not found.',
      {
        traceMessage: 'Account company sha256:ab12 was not found.',
      },
    );

    const text = JSON.stringify(await traceFailure(error));

    expect(text).not.toContain('ann smith');
    expect(text).toContain('Account company sha256:ab12 was not found.');
  });
});

/** The fields of a traced request's subsegment that the tests read. */
interface TracedRequest {
  name: string;
  error?: boolean;
  fault?: boolean;
  throttle?: boolean;
  http?: { response?: { status?: number } };
  cause?: { exceptions?: Array<{ message: string }> };
  metadata?: Record<string, Record<string, { message: string }>>;
}

/**
 * Runs traceRequest under a real X-Ray segment, with errors turned into
 * problem responses as the HTTP handlers do, and returns the response and
 * the request's subsegment as X-Ray receives it.
 */
async function traceRoute(
  handle: () => Promise<HttpResponse>,
): Promise<{ response: HttpResponse; traced: TracedRequest }> {
  const tracer = new Tracer({ serviceName: 'mql-engine' });
  const segment = new AWSXRay.Segment('test');
  let response: HttpResponse | undefined;
  await AWSXRay.getNamespace().runPromise(async () => {
    AWSXRay.setSegment(segment);
    response = await traceRequest(tracer, 'POST /v1/batch', handle, (error) =>
      problemResponse(error, recordingLog(), 'request-1'),
    );
  });
  const [traced] = JSON.parse(JSON.stringify(segment)).subsegments;
  if (response === undefined || traced === undefined) {
    throw new Error('traceRequest returned no response or subsegment');
  }
  return { response, traced };
}

const CLIENT_ERRORS = [
  { status: 400, error: new ValidationError('Field batch is missing.') },
  { status: 401, error: new AuthenticationError() },
  { status: 404, error: new NotFoundError('Lead x1 was not found.') },
];

describe('traceRequest', () => {
  it.each(CLIENT_ERRORS)(
    'flags $status as a client error',
    async ({ status, error }) => {
      const { response, traced } = await traceRoute(async () => {
        throw error;
      });

      expect(response.statusCode).toBe(status);
      expect(traced.name).toBe('## POST /v1/batch');
      expect(traced.error).toBe(true);
      expect(traced.fault).toBeUndefined();
      expect(traced.throttle).toBeUndefined();
      expect(traced.cause).toBeUndefined();
      expect(traced.http?.response?.status).toBe(status);
    },
  );

  it('keeps a client error in metadata', async () => {
    const { traced } = await traceRoute(async () => {
      throw new NotFoundError(`Lead ${EMAIL} was not found.`);
    });

    const text = JSON.stringify(traced);

    expect(traced.metadata?.['mql-engine']?.error?.message).toBe(
      redactEmails(`Lead ${EMAIL} was not found.`),
    );
    expect(text).not.toContain(EMAIL);
  });

  it('flags 429 as a throttled client error', async () => {
    const { traced } = await traceRoute(async () =>
      jsonResponse(429, { message: 'Too many requests' }),
    );

    expect(traced.error).toBe(true);
    expect(traced.throttle).toBe(true);
    expect(traced.fault).toBeUndefined();
  });

  it.each([
    { status: 500, error: new Error(`Query failed for ${EMAIL}.`) },
    { status: 503, error: new ConcurrencyError('Lead x1 kept changing.') },
  ])('flags $status as a fault', async ({ status, error }) => {
    const { response, traced } = await traceRoute(async () => {
      throw error;
    });

    expect(response.statusCode).toBe(status);
    expect(traced.fault).toBe(true);
    expect(traced.error).toBeUndefined();
    expect(traced.http?.response?.status).toBe(status);
    expect(traced.cause?.exceptions?.[0]?.message).toBe(
      redactEmails(error.message),
    );
  });

  it('flags a returned 5xx as a fault', async () => {
    const { traced } = await traceRoute(async () =>
      jsonResponse(502, { message: 'Bad gateway' }),
    );

    expect(traced.fault).toBe(true);
    expect(traced.cause).toBeUndefined();
  });

  it('flags nothing on success', async () => {
    const { response, traced } = await traceRoute(async () =>
      jsonResponse(200, { ok: true }),
    );

    expect(response.statusCode).toBe(200);
    expect(traced.error).toBeUndefined();
    expect(traced.fault).toBeUndefined();
    expect(traced.throttle).toBeUndefined();
    expect(traced.http?.response?.status).toBe(200);
  });
});
