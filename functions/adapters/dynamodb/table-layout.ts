import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * Layout of the single table, shared by the adapter, the CDK construct and
 * the local runtime so that all three create and read the same keys.
 *
 * | item            | PK                       | SK                        |
 * | --------------- | ------------------------ | ------------------------- |
 * | lead state      | LEAD#<leadId>            | STATE                     |
 * | event           | LEAD#<leadId>            | EVENT#<iso time>#<msgId>  |
 * | outbox entry    | LEAD#<leadId>            | OUTBOX#<eventId>          |
 * | message marker  | MESSAGE#<source>#<msgId> | MESSAGE                   |
 *
 * Lead states and outbox entries that need the sweep carry `reviewShard`
 * and `reviewAt`, which put them in the sparse review index. Failed
 * outbox entries sit in its `failed` partition instead.
 *
 * Identity links live in the lead state item of the merged lead: a
 * tombstone whose `mergedInto` names the lead it now belongs to. Writes to
 * a lead check its state's version, so a tombstone stops every later
 * write to the old lead, and its events move to the new lead's partition
 * (each move deletes the old copy on condition that it still exists).
 */
export const TABLE_LAYOUT = {
  partitionKey: 'PK',
  sortKey: 'SK',
  timeToLiveAttribute: 'expiresAt',
  reviewIndex: {
    name: 'review',
    partitionKey: 'reviewShard',
    sortKey: 'reviewAt',
    projectedAttributes: ['entity', 'leadId', 'eventId', 'attempts'],
  },
} as const;

/** Default number of review index shards; each shard is one partition. */
export const DEFAULT_REVIEW_SHARDS = 16;

/** Maximum review index shards that a stage's configuration allows. */
export const MAX_REVIEW_SHARDS = 1000;

/**
 * Review index shard of requeued outbox entries. Every sweep reads shard
 * 0 whatever its shard count, so a requeued entry is never left in a
 * shard that the stage's sweep does not read.
 */
export const REQUEUED_OUTBOX_SHARD = '0';

/**
 * Review index partition of failed outbox entries, keyed by the time they
 * failed. The sweep reads only the numbered shards, so it never takes
 * them up, and operators list them without a scan.
 */
export const FAILED_OUTBOX_SHARD = 'failed';

/** Returns the CreateTable request for the local runtime and tests. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey, reviewIndex } = TABLE_LAYOUT;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: partitionKey, AttributeType: 'S' },
      { AttributeName: sortKey, AttributeType: 'S' },
      { AttributeName: reviewIndex.partitionKey, AttributeType: 'S' },
      { AttributeName: reviewIndex.sortKey, AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: reviewIndex.name,
        KeySchema: [
          { AttributeName: reviewIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: reviewIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: {
          ProjectionType: 'INCLUDE',
          NonKeyAttributes: [...reviewIndex.projectedAttributes],
        },
      },
    ],
  };
}
