import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  accountStateKey,
  accountStateToItem,
} from '../../functions/adapters/dynamodb/account-items.js';
import { DynamoLeadRepository } from '../../functions/adapters/dynamodb/lead-repository.js';
import { TABLE_LAYOUT } from '../../functions/adapters/dynamodb/table-layout.js';
import {
  type AccountState,
  scoreAccount,
} from '../../functions/domain/account.js';
import { newIncarnationId } from '../../functions/domain/lead.js';
import { readAccount } from '../../functions/use-cases/account-reads.js';
import { mapWithConcurrency } from '../../functions/use-cases/concurrency.js';
import type { RescoreOptions } from './rescore.js';

/**
 * Review index shard of marked items. Every sweep reads shard 0, whatever
 * the stage's shard count, which this command does not know.
 */
export const MARKED_SHARD = '0';

/** Accounts without a state read at once after the scan. */
const READ_CONCURRENCY = 4;

/** The fields of an account state that the rescore scan reads. */
export interface AccountStateSummary {
  accountId: string;
  version: number;
  modelVersion?: string;
  nextReviewAt?: number;
}

/**
 * Sets the account state's review time to `now` under the version the
 * scan read, raising the version so that an account check that read the
 * state before retries on the marked state. Returns false when the
 * state changed or is due already. The check that clears the mark
 * stores the account in its own shard.
 */
export async function markAccountState(
  client: DynamoDBClient,
  options: RescoreOptions,
  state: AccountStateSummary,
): Promise<boolean> {
  return markItemDue(
    client,
    options,
    accountStateKey(state.accountId),
    state,
    '#version = :version',
  );
}

/**
 * Sets an item's review time to `now` in the marked shard under the
 * version the scan read, and raises that version. Returns false when the
 * item is due already or the condition fails because a writer changed it.
 */
export async function markItemDue(
  client: DynamoDBClient,
  options: RescoreOptions,
  key: Record<string, AttributeValue>,
  item: { version: number; nextReviewAt?: number },
  condition: string,
): Promise<boolean> {
  if (item.nextReviewAt !== undefined && item.nextReviewAt <= options.now) {
    return false;
  }
  const index = TABLE_LAYOUT.reviewIndex;
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: options.tableName,
        Key: key,
        UpdateExpression:
          'SET nextReviewAt = :now, #reviewAt = :now, #shard = :shard ' +
          'ADD #version :one',
        ConditionExpression: condition,
        ExpressionAttributeNames: {
          '#reviewAt': index.sortKey,
          '#shard': index.partitionKey,
          '#version': 'version',
        },
        ExpressionAttributeValues: marshall({
          ':now': options.now,
          ':shard': MARKED_SHARD,
          ':one': 1,
          ':version': item.version,
        }),
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Stores a state due at `now` for each account of `accountIds` that has
 * no state and meets the new model's rule, and returns how many it
 * stored. An account check first stores a state when the account
 * qualifies, so an account without one was last found below the rule,
 * by whatever model ran then. Under an unchanged model such an account
 * stays below it until its members change, because intent only decays. The account is read
 * as the sweep reads it: an email-domain account linked to a group's is
 * read as the group's. A state that a writer stores meanwhile is left
 * alone, because that writer checked the account under the model it
 * runs.
 */
export async function markAccountsWithoutState(
  client: DynamoDBClient,
  options: RescoreOptions,
  accountIds: readonly string[],
): Promise<number> {
  const repository = new DynamoLeadRepository(client, {
    tableName: options.tableName,
  });
  const seen = new Set<string>();
  const stored = await mapWithConcurrency(
    accountIds,
    READ_CONCURRENCY,
    async (accountId) => {
      const read = await readAccount({ repository }, accountId);
      if (read.state !== undefined || seen.has(read.accountId)) return false;
      seen.add(read.accountId);
      const score = scoreAccount(read.members, options.model, options.now);
      if (!score.meetsRule) return false;
      return await storeDueState(client, options, read.accountId);
    },
  );
  return stored.filter(Boolean).length;
}

/**
 * Stores the state of an account never stored before, due at `now` and
 * without a model version, on condition that no state exists. Returns
 * false when one does.
 */
async function storeDueState(
  client: DynamoDBClient,
  options: RescoreOptions,
  accountId: string,
): Promise<boolean> {
  const state: AccountState = {
    accountId,
    version: 1,
    incarnationId: newIncarnationId(),
    status: 'engaged',
    episode: 0,
    statusChangedAt: options.now,
    qualifiedAt: undefined,
    nextReviewAt: options.now,
  };
  // With one shard, every account falls in shard 0, MARKED_SHARD.
  const item = accountStateToItem(state, 1);
  try {
    await client.send(
      new PutItemCommand({
        TableName: options.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': TABLE_LAYOUT.partitionKey },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
