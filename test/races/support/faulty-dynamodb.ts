import { randomUUID } from 'node:crypto';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  type BatchWriteItemCommandOutput,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { inject } from 'vitest';
import { DynamoLeadRepository } from '../../../functions/adapters/dynamodb/lead-repository.js';
import { LOCAL_AWS } from '../../../local/services.js';
import { realDependencies } from '../../support/dependencies.js';

/** What a fault does to one DynamoDB call. */
export type DynamoFault =
  /** The call reaches DynamoDB Local unchanged. */
  | 'pass'
  /**
   * The call commits, but its response is lost and the SDK sends it
   * again, as it does after a timeout: the caller gets the second
   * response, such as a failed condition of a write already applied. A
   * transaction is sent again with the same idempotency token.
   */
  | 'lost-response'
  /** The call commits, then the caller gets this error instead. */
  | { failAfterCommit: Error }
  /** The call does not reach DynamoDB; the caller gets this error. */
  | { failBefore: Error }
  /**
   * A BatchWriteItem call writes only its first request and returns the
   * others as UnprocessedItems, as DynamoDB does with requests that it
   * throttled.
   */
  | 'unprocessed';

/** Decides the fault of a call by its command name and input. */
export type FaultPlan = (command: string, input: unknown) => DynamoFault;

const COMMANDS = {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
};

/**
 * Builds the use cases' dependencies on DynamoDB Local and moto, with a
 * DynamoDB client whose calls go through `plan.current` first. Every
 * call that the plan passes reaches DynamoDB Local as it is, so only the
 * faults are simulated.
 */
export async function faultyDynamoDependencies(
  plan: { current: FaultPlan },
  options: Parameters<typeof realDependencies>[0] = {},
) {
  const setup = await realDependencies(options);
  const { repository, mock } = faultyRepository(
    plan,
    setup.table.tableName,
    4,
    () => setup.clock.now,
  );
  setup.deps.repository = repository;
  return { ...setup, repository, mock };
}

/**
 * Builds a lead repository on `tableName` of DynamoDB Local whose calls
 * go through `plan.current` first, as faultyDynamoDependencies does.
 * `clock` sets the times of its erasure holds (Date.now unless given).
 */
export function faultyRepository(
  plan: { current: FaultPlan },
  tableName: string,
  reviewShards: number,
  clock?: () => number,
) {
  const real = new DynamoDBClient({
    ...LOCAL_AWS,
    endpoint: inject('dynamoDbEndpoint'),
  });
  const faulty = new DynamoDBClient(LOCAL_AWS);
  const mock = mockClient(faulty);
  for (const [name, Command] of Object.entries(COMMANDS)) {
    const send = (input: unknown) =>
      real.send(
        new (Command as unknown as new (input: unknown) => never)(input),
      );
    mock.on(Command as never).callsFake(async (input: unknown) => {
      const fault = plan.current(name, input);
      if (fault === 'pass') return send(input);
      if (fault === 'unprocessed') return writeFirstRequest(name, input, send);
      if (fault === 'lost-response') {
        // The SDK sends a transaction again with the idempotency token of
        // its first attempt, so DynamoDB returns the first attempt's result.
        const resent =
          name === 'TransactWriteItemsCommand'
            ? { ClientRequestToken: randomUUID(), ...(input as object) }
            : input;
        await send(resent);
        return send(resent);
      }
      if ('failBefore' in fault) throw fault.failBefore;
      await send(input);
      throw fault.failAfterCommit;
    });
  }
  const repository = new DynamoLeadRepository(faulty, {
    tableName,
    reviewShards,
    clock,
  });
  return { repository, mock };
}

/**
 * Sends only the first request of a BatchWriteItem input and returns the
 * others as its UnprocessedItems.
 */
async function writeFirstRequest(
  command: string,
  input: unknown,
  send: (input: unknown) => Promise<unknown>,
): Promise<BatchWriteItemCommandOutput> {
  if (command !== 'BatchWriteItemCommand') {
    throw new Error(
      `The fault 'unprocessed' applies to BatchWriteItemCommand, not ${command}.`,
    );
  }
  const { RequestItems = {} } = input as BatchWriteItemCommandInput;
  const [tableName, requests = []] = Object.entries(RequestItems)[0] ?? [];
  if (tableName === undefined || requests.length === 0) {
    return (await send(input)) as BatchWriteItemCommandOutput;
  }
  await send({ RequestItems: { [tableName]: requests.slice(0, 1) } });
  const rest = requests.slice(1);
  return {
    UnprocessedItems: rest.length === 0 ? {} : { [tableName]: rest },
    $metadata: {},
  };
}

/**
 * Makes the first TransactWriteItems call whose input contains `text`
 * commit and then fail with a timeout, as when a Lambda loses the
 * response of a write that DynamoDB applied. Returns a check of whether
 * that call has failed yet.
 */
export function failFirstCommitMentioning(
  plan: { current: FaultPlan },
  text: string,
) {
  let failed = false;
  plan.current = (command, input) => {
    const matches =
      command === 'TransactWriteItemsCommand' &&
      JSON.stringify(input).includes(text);
    if (!matches || failed) return 'pass';
    failed = true;
    return { failAfterCommit: timeoutError() };
  };
  return () => failed;
}

/** An error as the SDK raises it when a request times out. */
export function timeoutError(): Error {
  const error = new Error('Connection timed out after 3000 ms');
  error.name = 'TimeoutError';
  return error;
}
