import {
  type DynamoDBClient,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mapWithConcurrency } from '../functions/use-cases/concurrency.js';

/**
 * Returns a transaction item without its condition, so that replaying it
 * overwrites the same item with the same content.
 */
function unconditional(item: TransactWriteItem): TransactWriteItem {
  if (item.Put !== undefined) {
    const { Item, TableName } = item.Put;
    return { Put: { Item, TableName } };
  }
  if (item.Delete !== undefined) {
    const { Key, TableName } = item.Delete;
    return { Delete: { Key, TableName } };
  }
  return item;
}

/**
 * Runs `send` and returns the TransactWriteItems inputs that an observer
 * appended to `transactions` meanwhile, stripped of their conditions.
 */
export async function capturedTransactions(
  transactions: TransactWriteItemsCommandInput[],
  send: () => Promise<unknown>,
): Promise<TransactWriteItemsCommandInput[]> {
  transactions.length = 0;
  await send();
  return transactions.map((input) => ({
    TransactItems: (input.TransactItems ?? []).map(unconditional),
  }));
}

/** Sends the transactions again, at most `concurrency` at once. */
export async function replayTransactions(
  client: DynamoDBClient,
  inputs: readonly TransactWriteItemsCommandInput[],
  concurrency: number,
): Promise<void> {
  await mapWithConcurrency(inputs, concurrency, (input) =>
    client.send(new TransactWriteItemsCommand(input)),
  );
}

export function itemCount(
  inputs: readonly TransactWriteItemsCommandInput[],
): number {
  return inputs.reduce(
    (sum, input) => sum + (input.TransactItems?.length ?? 0),
    0,
  );
}
