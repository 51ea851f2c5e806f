import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { accountPartition } from '../../functions/adapters/dynamodb/items.js';
import { TABLE_LAYOUT } from '../../functions/adapters/dynamodb/table-layout.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { accountModel } from '../fixtures/models.js';
import type { TestTable } from './aws.js';
import { realDependencies } from './dependencies.js';

/**
 * Builds the use cases' dependencies on the account model, with an
 * ingest of messages from the `default` source at the test's clock.
 */
export async function accountSetup() {
  const context = await realDependencies({ model: accountModel() });
  const ingest = (messages: unknown[]) =>
    ingestMessages(context.deps, {
      sourceId: 'default',
      messages,
      receivedAt: context.clock.now,
    });
  return { ...context, ingest };
}

/** Returns every item stored under an account's partition. */
export async function accountItems(
  table: TestTable,
  accountId: string,
): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await table.client.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE_LAYOUT.partitionKey },
      ExpressionAttributeValues: marshall({
        ':pk': accountPartition(accountId),
      }),
      ConsistentRead: true,
    }),
  );
  return Items.map((item) => unmarshall(item));
}
