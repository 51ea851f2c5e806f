import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { leadPartition } from '../../functions/adapters/dynamodb/items.js';
import { TABLE_LAYOUT } from '../../functions/adapters/dynamodb/table-layout.js';
import { LOCAL_AWS } from '../../local/services.js';

const clients = new Map<string, DynamoDBClient>();

/** Returns the message ids of every event stored for a lead. */
export async function storedMessageIds(
  endpoint: string,
  tableName: string,
  leadId: string,
): Promise<string[]> {
  let client = clients.get(endpoint);
  if (client === undefined) {
    client = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
    clients.set(endpoint, client);
  }
  const ids: string[] = [];
  let startKey: Record<string, never> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :event)',
        ExpressionAttributeNames: {
          '#pk': TABLE_LAYOUT.partitionKey,
          '#sk': TABLE_LAYOUT.sortKey,
        },
        ExpressionAttributeValues: {
          ':pk': { S: leadPartition(leadId) },
          ':event': { S: 'EVENT#' },
        },
        ProjectionExpression: 'messageId',
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      if (item.messageId?.S !== undefined) ids.push(item.messageId.S);
    }
    startKey = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (startKey !== undefined);
  return ids;
}
