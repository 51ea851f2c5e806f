import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { LeadState } from '../../domain/lead.js';
import type { OutgoingEvent } from '../../domain/outgoing-events.js';
import { DAY_MS } from '../../domain/time.js';
import {
  type DueItem,
  type DuePage,
  DuplicateMessageError,
  type EventPage,
  type EventRecord,
  type LeadChange,
  type LeadRepository,
  type OutboxEntry,
  type OutboxFailure,
  type OutboxPage,
  VersionConflictError,
} from '../../ports/lead-repository.js';
import {
  EVENT_SORT_PREFIX,
  eventKey,
  eventToItem,
  itemToOutboxEntry,
  itemToOutgoing,
  itemToState,
  itemToStoredEvent,
  leadPartition,
  MESSAGE_SORT_KEY,
  messageMarkerItem,
  messagePartition,
  outboxKey,
  outboxToItem,
  shardOf,
  stateKey,
  stateToItem,
} from './items.js';
import {
  DEFAULT_REVIEW_SHARDS,
  FAILED_OUTBOX_SHARD,
  TABLE_LAYOUT,
} from './table-layout.js';

/** Settings of the DynamoDB lead repository. */
export interface DynamoLeadRepositoryOptions {
  tableName: string;
  /** @default 16 */
  reviewShards?: number;
  /** Days raw events and message ids are kept. @default 400 */
  eventRetentionDays?: number;
  /**
   * Delay before the sweep republishes an outbox entry that the writer
   * has not removed, so it does not race the writer's own publish.
   * @default 60000
   */
  outboxGraceMs?: number;
}

type Item = Record<string, AttributeValue>;

/** What each item of a lead change transaction does, in item order. */
type ItemRole =
  | { kind: 'state' }
  | { kind: 'marker'; messageId: string }
  | { kind: 'event' }
  | { kind: 'move'; messageId: string }
  | { kind: 'outbox' };

const BATCH_GET_LIMIT = 100;
const MAX_UNPROCESSED_ROUNDS = 8;

/** Lead repository on one DynamoDB table (see table-layout.ts). */
export class DynamoLeadRepository implements LeadRepository {
  readonly reviewShards: number;
  private readonly tableName: string;
  private readonly retentionMs: number;
  private readonly outboxGraceMs: number;

  constructor(
    private readonly client: DynamoDBClient,
    options: DynamoLeadRepositoryOptions,
  ) {
    this.tableName = options.tableName;
    this.reviewShards = options.reviewShards ?? DEFAULT_REVIEW_SHARDS;
    this.retentionMs = (options.eventRetentionDays ?? 400) * DAY_MS;
    this.outboxGraceMs = options.outboxGraceMs ?? 60_000;
  }

  async getLead(leadId: string): Promise<LeadState | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: stateKey(leadId),
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : itemToState(Item);
  }

  async findStoredMessages(
    sourceId: string,
    messageIds: readonly string[],
  ): Promise<Set<string>> {
    const stored = new Set<string>();
    const unique = [...new Set(messageIds)];
    for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
      const keys = unique.slice(start, start + BATCH_GET_LIMIT).map((id) =>
        marshall({
          [TABLE_LAYOUT.partitionKey]: messagePartition(sourceId, id),
          [TABLE_LAYOUT.sortKey]: MESSAGE_SORT_KEY,
        }),
      );
      for (const item of await this.batchGet(keys)) {
        const partition = String(unmarshall(item)[TABLE_LAYOUT.partitionKey]);
        stored.add(partition.slice(`MESSAGE#${sourceId}#`.length));
      }
    }
    return stored;
  }

  async saveLeadChange(change: LeadChange): Promise<void> {
    const { items, roles } = this.transactionItems(change);
    try {
      await this.client.send(
        new TransactWriteItemsCommand({ TransactItems: items }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        throw cancellationError(change, roles, error);
      }
      throw error;
    }
  }

  async listEvents(
    leadId: string,
    limit: number,
    cursor?: string,
  ): Promise<EventPage> {
    const { Items = [], LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: {
          '#pk': TABLE_LAYOUT.partitionKey,
          '#sk': TABLE_LAYOUT.sortKey,
        },
        ExpressionAttributeValues: marshall({
          ':pk': leadPartition(leadId),
          ':prefix': EVENT_SORT_PREFIX,
        }),
        ConsistentRead: true,
        Limit: limit,
        ExclusiveStartKey: cursor === undefined ? undefined : decode(cursor),
      }),
    );
    return {
      events: Items.map(itemToStoredEvent),
      cursor:
        LastEvaluatedKey === undefined ? undefined : encode(LastEvaluatedKey),
    };
  }

  async claimOutboxEntry(
    leadId: string,
    eventId: string,
    dueAt: number,
    retryAt: number,
  ): Promise<OutgoingEvent | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: outboxKey(leadId, eventId),
          UpdateExpression: 'SET #reviewAt = :retryAt ADD attempts :one',
          ConditionExpression:
            '#reviewAt = :dueAt AND (attribute_not_exists(#status) OR #status <> :failed)',
          ExpressionAttributeNames: {
            '#reviewAt': TABLE_LAYOUT.reviewIndex.sortKey,
            '#status': 'status',
          },
          ExpressionAttributeValues: marshall({
            ':retryAt': retryAt,
            ':dueAt': dueAt,
            ':one': 1,
            ':failed': 'failed',
          }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes === undefined ? undefined : itemToOutgoing(Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return undefined;
      }
      throw error;
    }
  }

  async deleteOutboxEntry(leadId: string, eventId: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({
        TableName: this.tableName,
        Key: outboxKey(leadId, eventId),
      }),
    );
  }

  async markOutboxFailed(
    leadId: string,
    eventId: string,
    failure: OutboxFailure,
  ): Promise<boolean> {
    const index = TABLE_LAYOUT.reviewIndex;
    return this.updateIfPresent({
      TableName: this.tableName,
      Key: outboxKey(leadId, eventId),
      UpdateExpression:
        'SET #status = :failed, errorCode = :code, errorMessage = :message, failedAt = :at, #shard = :shard, #reviewAt = :at',
      ConditionExpression: 'attribute_exists(#pk)',
      ExpressionAttributeNames: {
        '#pk': TABLE_LAYOUT.partitionKey,
        '#status': 'status',
        '#shard': index.partitionKey,
        '#reviewAt': index.sortKey,
      },
      ExpressionAttributeValues: marshall({
        ':failed': 'failed',
        ':code': failure.errorCode,
        ':message': failure.errorMessage,
        ':at': failure.failedAt,
        ':shard': FAILED_OUTBOX_SHARD,
      }),
    });
  }

  async requeueOutboxEntry(
    leadId: string,
    eventId: string,
    dueAt: number,
  ): Promise<boolean> {
    const index = TABLE_LAYOUT.reviewIndex;
    return this.updateIfPresent({
      TableName: this.tableName,
      Key: outboxKey(leadId, eventId),
      UpdateExpression:
        'SET #status = :pending, attempts = :zero, #shard = :shard, #reviewAt = :dueAt REMOVE errorCode, errorMessage, failedAt',
      ConditionExpression: '#status = :failed',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#shard': index.partitionKey,
        '#reviewAt': index.sortKey,
      },
      ExpressionAttributeValues: marshall({
        ':pending': 'pending',
        ':failed': 'failed',
        ':zero': 0,
        ':shard': shardOf(eventId, this.reviewShards),
        ':dueAt': dueAt,
      }),
    });
  }

  async getOutboxEntry(
    leadId: string,
    eventId: string,
  ): Promise<OutboxEntry | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: outboxKey(leadId, eventId),
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : itemToOutboxEntry(Item);
  }

  async listFailedOutbox(limit: number, cursor?: string): Promise<OutboxPage> {
    const index = TABLE_LAYOUT.reviewIndex;
    const { Items = [], LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#shard = :shard',
        ExpressionAttributeNames: { '#shard': index.partitionKey },
        ExpressionAttributeValues: marshall({ ':shard': FAILED_OUTBOX_SHARD }),
        Limit: limit,
        ExclusiveStartKey: cursor === undefined ? undefined : decode(cursor),
      }),
    );
    const keys = Items.map((item) => {
      const fields = unmarshall(item);
      return outboxKey(String(fields.leadId), String(fields.eventId));
    });
    const found = keys.length === 0 ? [] : await this.batchGet(keys);
    const entries = found
      .map(itemToOutboxEntry)
      .filter((entry) => entry.status === 'failed')
      .sort((a, b) => (a.failure?.failedAt ?? 0) - (b.failure?.failedAt ?? 0));
    return {
      entries,
      cursor:
        LastEvaluatedKey === undefined ? undefined : encode(LastEvaluatedKey),
    };
  }

  async listDue(
    shard: number,
    until: number,
    limit: number,
    cursor?: string,
  ): Promise<DuePage> {
    const index = TABLE_LAYOUT.reviewIndex;
    const { Items = [], LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#shard = :shard AND #at <= :until',
        ExpressionAttributeNames: {
          '#shard': index.partitionKey,
          '#at': index.sortKey,
        },
        ExpressionAttributeValues: marshall({
          ':shard': String(shard),
          ':until': until,
        }),
        Limit: limit,
        ExclusiveStartKey: cursor === undefined ? undefined : decode(cursor),
      }),
    );
    return {
      items: Items.map((item) => toDueItem(unmarshall(item))),
      cursor:
        LastEvaluatedKey === undefined ? undefined : encode(LastEvaluatedKey),
    };
  }

  /** Runs a conditional update; returns false when the condition failed. */
  private async updateIfPresent(
    input: ConstructorParameters<typeof UpdateItemCommand>[0],
  ): Promise<boolean> {
    try {
      await this.client.send(new UpdateItemCommand(input));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private transactionItems(change: LeadChange): {
    items: TransactWriteItem[];
    roles: ItemRole[];
  } {
    const items: TransactWriteItem[] = [this.statePut(change)];
    const roles: ItemRole[] = [{ kind: 'state' }];
    for (const record of change.events) {
      const expiresAt = Math.floor(
        (record.event.receivedAt + this.retentionMs) / 1000,
      );
      for (const [item, role] of this.recordItems(change, record, expiresAt)) {
        items.push(item);
        roles.push(role);
      }
    }
    for (const event of change.outgoing) {
      const dueAt = event.createdAt + this.outboxGraceMs;
      items.push({
        Put: {
          TableName: this.tableName,
          Item: outboxToItem(event, dueAt, this.reviewShards),
        },
      });
      roles.push({ kind: 'outbox' });
    }
    return { items, roles };
  }

  /**
   * Returns the items that store one event: a message marker that fails
   * on a duplicate and the event, or for a moved event, the event and the
   * deletion of its old copy, which fails when another writer moved it.
   */
  private recordItems(
    change: LeadChange,
    record: EventRecord,
    expiresAt: number,
  ): Array<[TransactWriteItem, ItemRole]> {
    const { leadId } = change.state;
    const { messageId } = record.event;
    const sourceId = record.sourceId ?? change.sourceId;
    const eventPut: TransactWriteItem = {
      Put: {
        TableName: this.tableName,
        Item: eventToItem(
          leadId,
          sourceId,
          record,
          expiresAt,
          change.state.modelVersion,
        ),
      },
    };
    if (record.movedFrom !== undefined) {
      const removal: TransactWriteItem = {
        Delete: {
          TableName: this.tableName,
          Key: eventKey(record.movedFrom, record.event),
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': TABLE_LAYOUT.partitionKey },
        },
      };
      return [
        [eventPut, { kind: 'event' }],
        [removal, { kind: 'move', messageId }],
      ];
    }
    const marker: TransactWriteItem = {
      Put: {
        TableName: this.tableName,
        Item: messageMarkerItem(leadId, sourceId, messageId, expiresAt),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': TABLE_LAYOUT.partitionKey },
      },
    };
    return [
      [marker, { kind: 'marker', messageId }],
      [eventPut, { kind: 'event' }],
    ];
  }

  private statePut(change: LeadChange): TransactWriteItem {
    const isNew = change.expectedVersion === 0;
    return {
      Put: {
        TableName: this.tableName,
        Item: stateToItem(change.state, this.reviewShards),
        ConditionExpression: isNew
          ? 'attribute_not_exists(#pk)'
          : '#version = :expected',
        ExpressionAttributeNames: isNew
          ? { '#pk': TABLE_LAYOUT.partitionKey }
          : { '#version': 'version' },
        ExpressionAttributeValues: isNew
          ? undefined
          : marshall({ ':expected': change.expectedVersion }),
      },
    };
  }

  private async batchGet(keys: Item[]): Promise<Item[]> {
    const found: Item[] = [];
    let pending = keys;
    for (let round = 0; pending.length > 0; round += 1) {
      if (round >= MAX_UNPROCESSED_ROUNDS) {
        throw new Error(
          `BatchGetItem left ${pending.length} keys unprocessed after ${round} rounds.`,
        );
      }
      const response = await this.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [this.tableName]: { Keys: pending, ConsistentRead: true },
          },
        }),
      );
      found.push(...(response.Responses?.[this.tableName] ?? []));
      pending = response.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      if (pending.length > 0) {
        await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
      }
    }
    return found;
  }
}

/**
 * Maps a cancelled transaction to the port's errors: a failed message
 * marker is a duplicate; a failed state condition, a moved event that is
 * gone or a conflict with another transaction is a version conflict.
 */
function cancellationError(
  change: LeadChange,
  roles: readonly ItemRole[],
  error: TransactionCanceledException,
): Error {
  const reasons = error.CancellationReasons ?? [];
  const failed = (index: number) =>
    reasons[index]?.Code === 'ConditionalCheckFailed';
  const duplicates = roles.flatMap((role, index) =>
    role.kind === 'marker' && failed(index) ? [role.messageId] : [],
  );
  if (duplicates.length > 0 && !failed(0)) {
    return new DuplicateMessageError(duplicates);
  }
  const retryable = reasons.every(
    (reason) =>
      reason.Code === undefined ||
      reason.Code === 'None' ||
      reason.Code === 'ConditionalCheckFailed' ||
      reason.Code === 'TransactionConflict',
  );
  if (retryable) {
    return new VersionConflictError(change.state.leadId);
  }
  return error;
}

function toDueItem(fields: Record<string, unknown>): DueItem {
  const dueAt = Number(fields[TABLE_LAYOUT.reviewIndex.sortKey]);
  const leadId = String(fields.leadId);
  if (fields.entity === 'outbox') {
    return {
      kind: 'outbox',
      leadId,
      eventId: String(fields.eventId),
      dueAt,
      attempts: Number(fields.attempts ?? 0),
    };
  }
  return { kind: 'lead', leadId, dueAt };
}

function encode(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(unmarshall(key as never))).toString(
    'base64url',
  );
}

function decode(cursor: string) {
  return marshall(JSON.parse(Buffer.from(cursor, 'base64url').toString()));
}
