import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { InitializeMiddleware, MiddlewareStack } from '@smithy/types';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { resetRuntime, runtime } from '../functions/adapters/runtime.js';
import { createEventRouting } from '../local/provision.js';
import { LOCAL_AWS } from '../local/services.js';
import type { BenchContext } from './context.js';

/** Write key the benchmark's handlers accept. */
export const BENCH_WRITE_KEY = 'bench-write-key';

/** AWS calls counted by command name, such as `TransactWriteItemsCommand`. */
export type CallCounts = Record<string, number>;

/** Receives the name and input of each command a counted client sends. */
export type CommandObserver = (name: string, input: unknown) => void;

/** The real ingest handler, wired to a fresh table and event bus. */
export interface IngestBackend {
  tableName: string;
  /** Calls the handler with one POST /v1/batch request; returns status and body. */
  postBatch(batch: unknown[]): Promise<{ status: number; body: string }>;
  /** DynamoDB and EventBridge calls the handler made since the last reset. */
  calls: { dynamoDb: CallCounts; eventBridge: CallCounts };
  resetCalls(): void;
  /** Adds an observer of every DynamoDB and EventBridge command. */
  observe(observer: CommandObserver): void;
}

/**
 * Points the handlers' environment at a fresh table on DynamoDB Local and
 * a fresh event bus on moto, as the local stack does, and counts every
 * DynamoDB and EventBridge call the runtime's clients send.
 */
export async function startIngestBackend(
  context: BenchContext,
  prefix: string,
): Promise<IngestBackend> {
  const dynamo = await context.dynamoDb();
  const moto = await context.moto();
  const tableName = await context.createTable(prefix);
  const stage = `${prefix}-${randomUUID().slice(0, 8)}`;
  const routing = await createEventRouting(moto.endpoint, stage);
  Object.assign(process.env, {
    TABLE_NAME: tableName,
    EVENT_BUS_NAME: routing.eventBusName,
    MQL_WRITE_KEY: BENCH_WRITE_KEY,
    STAGE_NAME: stage,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: moto.endpoint,
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
  });
  resetRuntime();
  const { handler } = await import('../functions/handlers/ingest.js');
  const calls = { dynamoDb: {} as CallCounts, eventBridge: {} as CallCounts };
  const observers: CommandObserver[] = [];
  const notify: CommandObserver = (name, input) => {
    for (const observer of observers) observer(name, input);
  };
  const clients = await runtimeClients();
  countCommands(clients.dynamoDb, calls.dynamoDb, notify);
  countCommands(clients.eventBridge, calls.eventBridge, notify);
  const authorization = `Basic ${Buffer.from(`${BENCH_WRITE_KEY}:`).toString('base64')}`;

  return {
    tableName,
    calls,
    observe(observer) {
      observers.push(observer);
    },
    resetCalls() {
      for (const counts of Object.values(calls)) {
        for (const key of Object.keys(counts)) delete counts[key];
      }
    },
    async postBatch(batch) {
      const response = await handler(
        batchEvent(JSON.stringify({ batch }), authorization),
      );
      return { status: response.statusCode ?? 0, body: response.body ?? '' };
    },
  };
}

/**
 * Returns the SDK clients inside the handlers' runtime.
 * NOTE: the runtime keeps them in private fields of its adapters. The
 * benchmark reads those fields, so it counts the calls the real adapters
 * make without a counting hook in the product code.
 */
async function runtimeClients(): Promise<{
  dynamoDb: DynamoDBClient;
  eventBridge: EventBridgeClient;
}> {
  const { deps } = await runtime();
  const dynamoDb = (deps.repository as unknown as { client: DynamoDBClient })
    .client;
  const eventBridge = (
    deps.publisher as unknown as { client: EventBridgeClient }
  ).client;
  if (dynamoDb === undefined || eventBridge === undefined) {
    throw new Error(
      'The runtime no longer keeps its SDK clients in a `client` field; update bench/handler-backend.ts.',
    );
  }
  return { dynamoDb, eventBridge };
}

/** Adds SDK middleware that counts each command the client sends. */
export function countCommands<Input extends object, Output extends object>(
  client: { middlewareStack: MiddlewareStack<Input, Output> },
  counts: CallCounts,
  observer?: CommandObserver,
): void {
  const counter: InitializeMiddleware<Input, Output> =
    (next, handlerContext) => async (args) => {
      const name = handlerContext.commandName ?? 'unknown';
      counts[name] = (counts[name] ?? 0) + 1;
      observer?.(name, args.input);
      return next(args);
    };
  client.middlewareStack.add(counter, {
    step: 'initialize',
    name: 'benchCallCounter',
  });
}

function batchEvent(
  body: string,
  authorization: string,
): APIGatewayProxyEventV2 {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: 'POST /v1/batch',
    rawPath: '/v1/batch',
    rawQueryString: '',
    headers: {
      authorization,
      'content-type': 'application/json',
    },
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: 'POST',
        path: '/v1/batch',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'bench',
      },
      requestId: randomUUID(),
      routeKey: 'POST /v1/batch',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body,
    isBase64Encoded: false,
  };
}
