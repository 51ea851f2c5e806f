import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ProblemDetails } from '../../functions/adapters/http/problem.js';
import type { HttpResponse } from '../../functions/adapters/http/responses.js';
import { resetRuntime } from '../../functions/adapters/runtime.js';
import { handler as ingest } from '../../functions/handlers/ingest.js';
import { handler as leads } from '../../functions/handlers/leads.js';
import { LOCAL_AWS } from '../../local/services.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { createTestRouting, createTestTable } from '../support/aws.js';
import {
  createWriteKeySecret,
  secretsClient,
  type TestWriteKey,
  writeKeySecretValue,
} from '../support/secrets.js';

/** The current key of the web source; its previous key was rotated out. */
const WEB: TestWriteKey = { sourceId: 'web', key: 'web-key-2026-09' };
const ROTATED_OUT = 'web-key-2026-06';
/** A server source whose key has characters beyond ASCII. */
const SERVER: TestWriteKey = { sourceId: 'server', key: 'schlüssel-ключ-7' };

const savedEnvironment = { ...process.env };

beforeAll(async () => {
  const [table, routing] = await Promise.all([
    createTestTable(),
    createTestRouting(),
  ]);
  const secretName = await createWriteKeySecret(
    secretsClient(),
    writeKeySecretValue([WEB, SERVER]),
  );
  useEnvironment({
    TABLE_NAME: table.tableName,
    EVENT_BUS_NAME: routing.eventBusName,
    WRITE_KEY_SECRET_NAME: secretName,
  });
});

afterAll(() => {
  process.env = savedEnvironment;
  resetRuntime();
});

/** Points the handlers' runtime at the shared DynamoDB Local and moto. */
function useEnvironment(values: Record<string, string>): void {
  const moto = inject('motoEndpoint');
  process.env = {
    ...savedEnvironment,
    ...values,
    STAGE_NAME: 'test',
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
    AWS_ENDPOINT_URL_EVENTBRIDGE: moto,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto,
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  delete process.env.MQL_WRITE_KEY;
  resetRuntime();
}

function basic(user: string): string {
  return rawBasic(`${user}:`);
}

/** Returns an HTTP Basic header of `credentials` in `encoding` (UTF-8). */
function rawBasic(credentials: string, encoding: BufferEncoding = 'utf8') {
  return `Basic ${Buffer.from(credentials, encoding).toString('base64')}`;
}

function request(
  routeKey: string,
  options: {
    authorization?: string;
    body?: unknown;
    pathParameters?: Record<string, string>;
    origin?: string;
  },
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
  };
  if (options.authorization !== undefined) {
    headers.authorization = options.authorization;
  }
  if (options.origin !== undefined) headers.origin = options.origin;
  return {
    version: '2.0',
    routeKey,
    rawPath: routeKey.split(' ')[1] ?? '/',
    rawQueryString: '',
    headers,
    pathParameters: options.pathParameters,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    isBase64Encoded: false,
    requestContext: { requestId: randomUUID() },
  } as unknown as APIGatewayProxyEventV2;
}

function postBatch(leadId: string, authorization?: string, writeKey?: string) {
  const body = {
    batch: qualifyingBatch(leadId),
    ...(writeKey === undefined ? {} : { writeKey }),
  };
  return ingest(
    request('POST /v1/batch', { authorization, body }),
  ) as Promise<HttpResponse>;
}

/** Returns what a client can tell apart: status, headers, body fields. */
function observable(response: HttpResponse) {
  const { requestId, ...body } = JSON.parse(
    String(response.body),
  ) as ProblemDetails;
  return {
    status: response.statusCode,
    headers: response.headers,
    body,
    hasRequestId: typeof requestId === 'string',
  };
}

async function leadStatus(leadId: string): Promise<number | undefined> {
  const response = (await leads(
    request('GET /leads/{leadId}', { pathParameters: { leadId } }),
  )) as HttpResponse;
  return response.statusCode;
}

describe('ingest handler with the write key secret', () => {
  it('scores a batch sent with a current key', async () => {
    const response = await postBatch('secret-ok', basic(WEB.key));

    expect(response.statusCode).toBe(200);
    expect(await leadStatus('secret-ok')).toBe(200);
  });

  it('accepts the key in the body', async () => {
    const response = await postBatch('secret-body', undefined, WEB.key);

    expect(response.statusCode).toBe(200);
  });

  it('answers every bad credential with the same 401', async () => {
    const attempts = {
      missing: await postBatch('bad-missing'),
      unknown: await postBatch('bad-unknown', basic('guessed-key')),
      rotatedOut: await postBatch('bad-rotated', basic(ROTATED_OUT)),
      nearMiss: await postBatch('bad-near', basic(`${WEB.key.slice(0, -1)}8`)),
      unknownInBody: await postBatch('bad-body', undefined, 'guessed-key'),
      bearer: await postBatch('bad-bearer', `Bearer ${WEB.key}`),
      keyAsPassword: await postBatch('bad-password', rawBasic(`:${WEB.key}`)),
      emptyUser: await postBatch('bad-empty', rawBasic(':')),
      trailingSpace: await postBatch('bad-space', basic(`${WEB.key} `)),
      longKey: await postBatch('bad-long', basic('k'.repeat(8000))),
      notBase64: await postBatch('bad-base64', 'Basic %%%'),
      latin1Key: await postBatch(
        'bad-latin1',
        rawBasic(`${SERVER.key}:`, 'latin1'),
      ),
      wrongHeaderRightBody: await postBatch(
        'bad-header',
        basic('guessed-key'),
        WEB.key,
      ),
    };
    const seen = Object.values(attempts).map(observable);

    expect(seen[0]?.status).toBe(401);
    expect(seen[0]?.hasRequestId).toBe(true);
    for (const other of seen.slice(1)) {
      expect(other).toEqual(seen[0]);
    }
  });

  it.each([
    ['without the colon', rawBasic(WEB.key)],
    ['with a lower-case scheme', basic(WEB.key).replace('Basic', 'basic')],
    ['beyond ASCII in UTF-8', basic(SERVER.key)],
  ])('accepts a key %s', async (_case, authorization) => {
    const response = await postBatch(`ok-${randomUUID()}`, authorization);

    expect(response.statusCode).toBe(200);
  });

  it('scopes messages to the header key over the body key', async () => {
    const leadId = `scoped-${randomUUID()}`;
    const first = await postBatch(leadId, basic(SERVER.key), WEB.key);

    const again = await postBatch(leadId, basic(WEB.key));

    const counts = (response: HttpResponse) =>
      (JSON.parse(String(response.body)) as { counts: unknown }).counts;
    expect(counts(first)).toEqual({ scored: 3, duplicate: 0, rejected: 0 });
    expect(counts(again)).toEqual({ scored: 3, duplicate: 0, rejected: 0 });
  });

  it('answers counts without lead ids or scores', async () => {
    process.env.TRACKING_RESPONSE = 'counts';
    resetRuntime();
    try {
      const response = await postBatch('counts-only', basic(WEB.key));
      const body = JSON.parse(String(response.body)) as Record<string, unknown>;

      expect(response.statusCode).toBe(200);
      expect(body.counts).toEqual({ scored: 3, duplicate: 0, rejected: 0 });
      expect(body.leads).toBeUndefined();
      for (const result of body.results as Record<string, unknown>[]) {
        expect(result.status).toBe('scored');
        expect(result.leadId).toBeUndefined();
      }
      expect(await leadStatus('counts-only')).toBe(200);
    } finally {
      delete process.env.TRACKING_RESPONSE;
      resetRuntime();
    }
  });

  it('hides qualification from counts', async () => {
    process.env.TRACKING_RESPONSE = 'counts';
    resetRuntime();
    try {
      // The batch qualifies the lead, so its Lead Qualified event would
      // show in an events count that the response carried.
      const response = await postBatch('counts-qualified', basic(WEB.key));
      const body = JSON.parse(String(response.body)) as Record<string, unknown>;

      expect(response.statusCode).toBe(200);
      expect(Object.keys(body).sort()).toEqual(['counts', 'results']);
      expect(body.events).toBeUndefined();
    } finally {
      delete process.env.TRACKING_RESPONSE;
      resetRuntime();
    }
  });

  it('answers scores by default', async () => {
    const response = await postBatch('scores-shown', basic(WEB.key));
    const body = JSON.parse(String(response.body)) as {
      leads: Array<{ leadId: string; status: string }>;
    };

    expect(body.leads).toEqual([
      expect.objectContaining({ leadId: 'scores-shown', status: 'mql' }),
    ]);
  });

  it('answers browsers with counts', async () => {
    const body = { batch: qualifyingBatch('browser-counts') };
    const response = (await ingest(
      request('POST /v1/batch', {
        authorization: basic(WEB.key),
        body,
        origin: 'https://attacker.example',
      }),
    )) as HttpResponse;
    const answer = JSON.parse(String(response.body)) as {
      results: Array<Record<string, unknown>>;
    };

    expect(response.statusCode).toBe(200);
    expect(Object.keys(answer).sort()).toEqual(['counts', 'results']);
    expect(answer.results.map((entry) => entry.leadId)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(await leadStatus('browser-counts')).toBe(200);
  });

  it('stores nothing of a rejected batch', async () => {
    await postBatch('bad-stored', basic(ROTATED_OUT));

    expect(await leadStatus('bad-stored')).toBe(404);
  });

  it('answers 500 without details when the secret is missing', async () => {
    const current = { ...process.env };
    useEnvironment({
      TABLE_NAME: String(current.TABLE_NAME),
      EVENT_BUS_NAME: String(current.EVENT_BUS_NAME),
      WRITE_KEY_SECRET_NAME: 'mql-engine/test/no-such-secret',
      // The expected error log would only clutter the test output.
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    });

    try {
      const response = await postBatch('no-secret', basic(WEB.key));
      const body = JSON.parse(String(response.body)) as ProblemDetails;

      expect(response.statusCode).toBe(500);
      expect(body.detail).toBe(
        'The request failed on the server. Retry it later.',
      );
      expect(response.body).not.toContain('no-such-secret');
    } finally {
      process.env = current;
      resetRuntime();
    }
  });
});
