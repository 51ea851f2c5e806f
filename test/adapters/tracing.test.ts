import { Tracer } from '@aws-lambda-powertools/tracer';
import AWSXRay from 'aws-xray-sdk-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { traceHandler } from '../../functions/adapters/observability/tracing.js';
import { NotFoundError } from '../../functions/domain/errors.js';

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
    expect(text).toContain('Lead [email] was not found.');
  });
});
