import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { inject } from 'vitest';
import { leadPartition } from '../../functions/adapters/dynamodb/items.js';
import { TABLE_LAYOUT } from '../../functions/adapters/dynamodb/table-layout.js';
import { resetRuntime } from '../../functions/adapters/runtime.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import {
  type LocalApiOptions,
  startLocalApi,
} from '../../local/http-server.js';
import { LOCAL_AWS } from '../../local/services.js';
import { createTestRouting, createTestTable, type TestTable } from './aws.js';

/** Write key the tracking backend accepts. */
export const WRITE_KEY = 'client-test-write-key';
export const ADMIN_TOKEN = 'client-test-admin-token';

/** One stored event row: the source it came from and the event. */
export interface StoredEvent {
  sourceId: string;
  messageId: string;
  type: string;
  occurredAt: number;
  receivedAt: number;
  event: TrackingEvent;
}

/** A table and event bus the real handlers write to, and readers of it. */
export interface TrackingBackend {
  /** The lead table that the handlers write to, on DynamoDB Local. */
  table: TestTable;
  /** Returns the events stored for a lead, oldest first. */
  storedEvents(leadId: string): Promise<StoredEvent[]>;
  /** Starts a local API server on a free loopback port. */
  startApi(options?: Partial<LocalApiOptions>): Promise<LocalApi>;
  stop(): Promise<void>;
}

export interface LocalApi {
  /** Base URL, such as `http://127.0.0.1:41234`, without a stage. */
  url: string;
  /** The underlying server, for listening to its requests. */
  server: Server;
  stop(): Promise<void>;
}

/**
 * Creates a fresh table and event bus on the shared DynamoDB Local and
 * moto, points the handlers' environment at them, and returns readers.
 * The environment belongs to the test file's worker, so each file calls
 * this once.
 */
export async function startTrackingBackend(): Promise<TrackingBackend> {
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
  const servers: LocalApi[] = [];
  return {
    table,
    storedEvents: async (leadId) => {
      const { Items = [] } = await table.client.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :event)',
          ExpressionAttributeNames: {
            '#pk': TABLE_LAYOUT.partitionKey,
            '#sk': TABLE_LAYOUT.sortKey,
          },
          ExpressionAttributeValues: {
            ':pk': { S: leadPartition(leadId) },
            ':event': { S: 'EVENT#' },
          },
          ConsistentRead: true,
        }),
      );
      return Items.map((item) => toStoredEvent(unmarshall(item)));
    },
    startApi: async (options = {}) => {
      const api = await startApi(options);
      servers.push(api);
      return api;
    },
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop()));
      resetRuntime();
    },
  };
}

function toStoredEvent(item: Record<string, unknown>): StoredEvent {
  return {
    sourceId: item.sourceId as string,
    messageId: item.messageId as string,
    type: item.type as string,
    occurredAt: item.occurredAt as number,
    receivedAt: item.receivedAt as number,
    event: JSON.parse(item.event as string) as TrackingEvent,
  };
}

async function startApi(options: Partial<LocalApiOptions>): Promise<LocalApi> {
  const server = await startLocalApi({
    port: 0,
    host: '127.0.0.1',
    adminToken: ADMIN_TOKEN,
    ...options,
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    stop: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Returns an HTTP Basic Authorization value with `user` and no password. */
export function basicAuth(user: string): string {
  return `Basic ${Buffer.from(`${user}:`).toString('base64')}`;
}
