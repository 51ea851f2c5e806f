import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { DynamoLeadRepository } from '../../../functions/adapters/dynamodb/lead-repository.js';
import { handler } from '../../../functions/handlers/ingest.js';
import { LOCAL_AWS } from '../../../local/services.js';
import {
  basicAuth,
  startTrackingBackend,
  type TrackingBackend,
  WRITE_KEY,
} from '../../support/tracking-api.js';

/** Writes a model document to a file the handlers load (MQL_MODEL_FILE). */
export async function useModelDocument(document: unknown): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'mql-model-'));
  const file = join(directory, 'model.json');
  await writeFile(file, JSON.stringify(document));
  process.env.MQL_MODEL_FILE = file;
}

/** Starts the tracking backend and a repository reading its table. */
export async function startReliabilityBackend(): Promise<{
  backend: TrackingBackend;
  repository: DynamoLeadRepository;
}> {
  const backend = await startTrackingBackend();
  const repository = new DynamoLeadRepository(
    new DynamoDBClient({ ...LOCAL_AWS, endpoint: inject('dynamoDbEndpoint') }),
    { tableName: process.env.TABLE_NAME ?? '', reviewShards: 4 },
  );
  return { backend, repository };
}

/** One message's result in an ingest answer. */
export interface MessageResult {
  messageId?: string;
  status: string;
  leadId?: string;
}

/**
 * Posts a batch to the ingest handler as a tracking client does, resending
 * it after a 503 (a lead that kept changing) until it is answered.
 * Returns the results and how many times it was resent.
 */
export async function postBatch(
  batch: unknown[],
): Promise<{ results: MessageResult[]; resent: number }> {
  let resent = 0;
  for (;;) {
    const response = await handler({
      version: '2.0',
      routeKey: 'POST /v1/batch',
      rawPath: '/v1/batch',
      rawQueryString: '',
      headers: {
        authorization: basicAuth(WRITE_KEY),
        'content-type': 'application/json',
      },
      requestContext: {
        accountId: '000000000000',
        apiId: 'reliability',
        domainName: 'localhost',
        domainPrefix: 'localhost',
        http: {
          method: 'POST',
          path: '/v1/batch',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'reliability',
        },
        requestId: `reliability-${resent}`,
        routeKey: 'POST /v1/batch',
        stage: '$default',
        time: new Date().toUTCString(),
        timeEpoch: Date.now(),
      },
      body: JSON.stringify({ batch }),
      isBase64Encoded: false,
    });
    if (response.statusCode === 503 && resent < 20) {
      resent += 1;
      continue;
    }
    if (response.statusCode !== 200) {
      throw new Error(
        `POST /v1/batch answered ${response.statusCode}: ${response.body}`,
      );
    }
    const body = JSON.parse(response.body ?? '{}') as {
      results: MessageResult[];
    };
    return { results: body.results, resent };
  }
}
