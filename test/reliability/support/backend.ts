import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { DynamoLeadRepository } from '../../../functions/adapters/dynamodb/lead-repository.js';
import { resetRuntime } from '../../../functions/adapters/runtime.js';
import { handler } from '../../../functions/handlers/ingest.js';
import { SALES_TARGET } from '../../../lib/definitions/event-routing.js';
import { LOCAL_AWS } from '../../../local/services.js';
import { createTestRouting, createTestTable } from '../../support/aws.js';
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

/** One message's result in an ingest response. */
export interface MessageResult {
  messageId?: string;
  status: string;
  leadId?: string;
}

/**
 * Posts a batch to the ingest handler as a tracking client does, resending
 * it after a 503 (a lead that kept changing) until another status comes
 * back.
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
        `POST /v1/batch returned ${response.statusCode}: ${response.body}`,
      );
    }
    const body = JSON.parse(response.body ?? '{}') as {
      results: MessageResult[];
    };
    return { results: body.results, resent };
  }
}

/** A fresh table and event bus with its sales queue, as the stack routes. */
export interface RoutedBackend {
  repository: DynamoLeadRepository;
  /** Receives and deletes every event waiting on the sales queue. */
  drainSalesQueue(): Promise<unknown[]>;
  stop(): void;
}

/**
 * Creates a table and an event bus routed to a sales queue, and points
 * the handlers at them. Each test file calls this once, because the
 * environment belongs to the file's worker.
 */
export async function startRoutedBackend(): Promise<RoutedBackend> {
  const table = await createTestTable();
  const routing = await createTestRouting();
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    EVENT_BUS_NAME: routing.eventBusName,
    MQL_WRITE_KEY: WRITE_KEY,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
    AWS_ENDPOINT_URL_EVENTBRIDGE: inject('motoEndpoint'),
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
  });
  resetRuntime();
  const queueUrl = routing.queueUrls[SALES_TARGET.id] ?? '';
  return {
    repository: new DynamoLeadRepository(table.client, {
      tableName: table.tableName,
      reviewShards: 4,
    }),
    drainSalesQueue: () => drainQueue(routing.sqs, queueUrl),
    stop: resetRuntime,
  };
}

async function drainQueue(sqs: SQSClient, queueUrl: string) {
  const events: unknown[] = [];
  let emptyPolls = 0;
  while (emptyPolls < 2) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    emptyPolls = Messages.length === 0 ? emptyPolls + 1 : 0;
    for (const message of Messages) {
      events.push(JSON.parse(message.Body ?? 'null'));
      await sqs.send(
        new DeleteMessageCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: message.ReceiptHandle,
        }),
      );
    }
  }
  return events;
}
