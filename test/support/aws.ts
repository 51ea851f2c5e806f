import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { createEventRouting, createLeadTable } from '../../local/provision.js';
import { LOCAL_AWS } from '../../local/services.js';

/** Returns a unique, valid resource name for one test. */
export function uniqueName(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A lead table on the shared DynamoDB Local, with a client for it. */
export interface TestTable {
  client: DynamoDBClient;
  tableName: string;
}

/** Creates a fresh lead table on the shared DynamoDB Local. */
export async function createTestTable(): Promise<TestTable> {
  const endpoint = inject('dynamoDbEndpoint');
  const tableName = uniqueName('leads');
  await createLeadTable(endpoint, tableName);
  return {
    client: new DynamoDBClient({ ...LOCAL_AWS, endpoint }),
    tableName,
  };
}

/**
 * Creates a fresh stage's event bus, rule and queues on the shared moto
 * server, from the same definitions the CDK stack uses.
 */
export async function createTestRouting() {
  const endpoint = inject('motoEndpoint');
  const stage = uniqueName('stage');
  const routing = await createEventRouting(endpoint, stage);
  return {
    ...routing,
    stage,
    events: new EventBridgeClient({ ...LOCAL_AWS, endpoint }),
    sqs: new SQSClient({ ...LOCAL_AWS, endpoint }),
  };
}
