import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { HttpResponse } from '../../functions/adapters/http/responses.js';
import { resetRuntime } from '../../functions/adapters/runtime.js';
import { handler as ingest } from '../../functions/handlers/ingest.js';
import type { IngestResult } from '../../functions/use-cases/ingest-messages.js';
import { LOCAL_AWS } from '../../local/services.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { createTestRouting, createTestTable } from '../support/aws.js';

const WRITE_KEY = 'bus-check-key';
const savedEnvironment = { ...process.env };
let tableName = '';
let eventBusName = '';

beforeAll(async () => {
  const [table, routing] = await Promise.all([
    createTestTable(),
    createTestRouting(),
  ]);
  tableName = table.tableName;
  eventBusName = routing.eventBusName;
});

afterAll(() => {
  process.env = savedEnvironment;
  resetRuntime();
});

/** Starts a cold runtime on DynamoDB Local with the given EventBridge. */
function coldStart(values: {
  eventBusName: string;
  eventBridgeEndpoint: string;
}): void {
  process.env = {
    ...savedEnvironment,
    TABLE_NAME: tableName,
    EVENT_BUS_NAME: values.eventBusName,
    MQL_WRITE_KEY: WRITE_KEY,
    STAGE_NAME: 'test',
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
    AWS_ENDPOINT_URL_EVENTBRIDGE: values.eventBridgeEndpoint,
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  resetRuntime();
}

async function postBatch(userId: string): Promise<HttpResponse> {
  const body = JSON.stringify({ batch: qualifyingBatch(userId) });
  const event = {
    version: '2.0',
    routeKey: 'POST /v1/batch',
    rawPath: '/v1/batch',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
    },
    body,
    isBase64Encoded: false,
    requestContext: {
      http: { method: 'POST', path: '/v1/batch' },
      requestId: `bus-check-${userId}`,
    },
  } as unknown as APIGatewayProxyEventV2;
  return (await ingest(event)) as HttpResponse;
}

describe('event bus check at cold start', () => {
  it('keeps events pending during an EventBridge outage', async () => {
    coldStart({ eventBusName, eventBridgeEndpoint: 'http://127.0.0.1:1' });

    const response = await postBatch('bus-outage-lead');

    expect(response.statusCode).toBe(200);
    const result = JSON.parse(response.body ?? '{}') as IngestResult;
    expect(result.counts.scored).toBeGreaterThan(0);
    expect(result.leads[0]?.status).toBe('mql');
    expect(result.events.pending).toBeGreaterThan(0);
    expect(result.events.published).toBe(0);
  });

  it('fails requests while the bus is missing', async () => {
    coldStart({
      eventBusName: 'mql-engine-typo',
      eventBridgeEndpoint: inject('motoEndpoint'),
    });

    const response = await postBatch('bus-typo-lead');

    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body ?? '{}')).toMatchObject({
      type: 'urn:mql-engine:problem:internal-error',
    });
  });
});
