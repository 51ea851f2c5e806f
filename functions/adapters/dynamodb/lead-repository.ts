import { randomUUID } from 'node:crypto';
import {
  type $Command,
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type CancellationReason,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  type DynamoDBClientResolvedConfig,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { canonicalJson, sha256Hex } from '../../domain/canonical-json.js';
import type { OutcomeRecord } from '../../domain/disposition.js';
import { CapacityExceededError } from '../../domain/errors.js';
import type { LeadState } from '../../domain/lead.js';
import type { OutgoingEvent } from '../../domain/outgoing-events.js';
import { DAY_MS } from '../../domain/time.js';
import {
  type AccountChange,
  type AccountSnapshot,
  type DueItem,
  type DuePage,
  DuplicateMessageError,
  type EventPage,
  type EventRecord,
  type HistoryPage,
  type IngestSnapshot,
  InvalidCursorError,
  type LeadChange,
  type LeadRepository,
  type OutboxEntry,
  type OutboxFailure,
  type OutboxOwner,
  type OutboxPage,
  type SavedLeadChanges,
  VersionConflictError,
} from '../../ports/lead-repository.js';
import {
  accountLinkToItem,
  accountStateKey,
  accountStateToItem,
  memberKey,
  memberToItem,
  readAccountItems,
  unchangedMemberChecks,
} from './account-items.js';
import {
  accountPartition,
  ERASURE_HOLD,
  ERASURE_HOLDER,
  EVENT_SORT_PREFIX,
  eventKey,
  eventToItem,
  HISTORY_SORT_PREFIX,
  historyToItem,
  isHistorySortKey,
  itemToHistory,
  itemToOutboxEntry,
  itemToOutcome,
  itemToOutgoing,
  itemToState,
  itemToStoredEvent,
  LINK_SORT_PREFIX,
  leadPartition,
  linkItem,
  MESSAGE_SORT_KEY,
  messageMarkerItem,
  messagePartition,
  OUTBOX_SORT_PREFIX,
  outboxKey,
  outboxToItem,
  outcomePartition,
  outcomeToItem,
  STATE_SORT_KEY,
  shardOf,
  stateKey,
  stateToItem,
} from './items.js';
import {
  DEFAULT_REVIEW_SHARDS,
  FAILED_OUTBOX_SHARD,
  TABLE_LAYOUT,
} from './table-layout.js';
import { groupTransactions } from './transaction-groups.js';

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
  /** Wall clock of erasure holds, epoch ms. @default Date.now */
  clock?: () => number;
}

type Item = Record<string, AttributeValue>;

/** What each item of a lead change transaction does, in item order. */
type ItemRole =
  | { kind: 'state' }
  | { kind: 'marker'; messageId: string }
  | { kind: 'event' }
  | { kind: 'move'; messageId: string }
  | { kind: 'outbox' }
  | { kind: 'membership' }
  | { kind: 'link' }
  | { kind: 'outcome' }
  | { kind: 'history' }
  | { kind: 'tombstone' }
  | { kind: 'target' };

const BATCH_GET_LIMIT = 100;
/** Items of one TransactWriteItems call at most. */
const MAX_TRANSACTION_ITEMS = 100;
const BATCH_WRITE_LIMIT = 25;
const ACCOUNT_PREFIX = accountPartition('');
const MAX_UNPROCESSED_ROUNDS = 8;
/** Grouped transactions of one saveLeadChanges call sent at once. */
const TRANSACTION_CONCURRENCY = 4;

/** A lead change with its transaction items, which commit together. */
interface ChangeItems {
  change: LeadChange;
  items: TransactWriteItem[];
}

/** Lead repository on one DynamoDB table (see table-layout.ts). */
export class DynamoLeadRepository implements LeadRepository {
  readonly reviewShards: number;
  private readonly tableName: string;
  private readonly retentionMs: number;
  private readonly outboxGraceMs: number;
  /** Wall clock of erasure holds, which writers compare with it. */
  private readonly clock: () => number;

  constructor(
    private readonly client: DynamoDBClient,
    options: DynamoLeadRepositoryOptions,
  ) {
    this.tableName = options.tableName;
    this.reviewShards = options.reviewShards ?? DEFAULT_REVIEW_SHARDS;
    this.retentionMs = (options.eventRetentionDays ?? 400) * DAY_MS;
    this.outboxGraceMs = options.outboxGraceMs ?? 60_000;
    this.clock = options.clock ?? Date.now;
  }

  async getLead(leadId: string): Promise<LeadState | undefined> {
    const { Item } = await this.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: stateKey(leadId),
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : itemToState(Item);
  }

  async getLeads(leadIds: readonly string[]): Promise<Map<string, LeadState>> {
    const { leads } = await this.readIngestSnapshot('', leadIds, []);
    return leads;
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

  async readIngestSnapshot(
    sourceId: string,
    leadIds: readonly string[],
    messageIds: readonly string[],
  ): Promise<IngestSnapshot> {
    const keys = [
      ...[...new Set(leadIds)].map(stateKey),
      ...[...new Set(messageIds)].map((id) =>
        marshall({
          [TABLE_LAYOUT.partitionKey]: messagePartition(sourceId, id),
          [TABLE_LAYOUT.sortKey]: MESSAGE_SORT_KEY,
        }),
      ),
    ];
    const pages: Item[][] = [];
    for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
      pages.push(keys.slice(start, start + BATCH_GET_LIMIT));
    }
    const found = (
      await Promise.all(pages.map((page) => this.batchGet(page)))
    ).flat();
    const snapshot: IngestSnapshot = {
      leads: new Map(),
      storedMessageIds: new Set(),
    };
    const messagePrefix = messagePartition(sourceId, '');
    for (const item of found) {
      const partition = String(unmarshall(item)[TABLE_LAYOUT.partitionKey]);
      if (partition.startsWith(messagePrefix)) {
        snapshot.storedMessageIds.add(partition.slice(messagePrefix.length));
      } else {
        const state = itemToState(item);
        snapshot.leads.set(state.leadId, state);
      }
    }
    return snapshot;
  }

  async saveLeadChange(change: LeadChange): Promise<void> {
    const { items, roles } = this.transactionItems(change);
    try {
      await this.send(new TransactWriteItemsCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        throw cancellationError(change, roles, error);
      }
      throw error;
    }
  }

  async saveLeadChanges(
    changes: readonly LeadChange[],
  ): Promise<SavedLeadChanges> {
    const result: SavedLeadChanges = { saved: [], conflicted: [], failed: [] };
    const units = changes.map((change) => ({
      change,
      items: this.transactionItems(change).items,
    }));
    const groups = groupTransactions(units);
    for (let start = 0; start < groups.length; ) {
      const wave = groups.slice(start, start + TRANSACTION_CONCURRENCY);
      await Promise.all(wave.map((group) => this.commitGroup(group, result)));
      start += wave.length;
    }
    return result;
  }

  async getAccount(accountId: string): Promise<AccountSnapshot> {
    const items: Item[] = [];
    let cursor: Item | undefined;
    do {
      const page = await this.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TABLE_LAYOUT.partitionKey },
          ExpressionAttributeValues: marshall({
            ':pk': accountPartition(accountId),
          }),
          ConsistentRead: true,
          ExclusiveStartKey: cursor,
        }),
      );
      items.push(...(page.Items ?? []));
      cursor = page.LastEvaluatedKey;
    } while (cursor !== undefined);
    return readAccountItems(items);
  }

  async saveAccountChange(change: AccountChange): Promise<void> {
    const isNew = change.expectedVersion === 0;
    const items: TransactWriteItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: accountStateToItem(change.state, this.reviewShards),
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
      },
      ...change.outgoing.map((event) => this.outboxPut(event)),
    ];
    items.push(
      ...unchangedMemberChecks(
        this.tableName,
        change.state.accountId,
        change.unchangedMembers ?? [],
        MAX_TRANSACTION_ITEMS - items.length,
      ),
    );
    try {
      await this.send(new TransactWriteItemsCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const reasons = error.CancellationReasons ?? [];
        if (isThrottled(reasons)) {
          throw new CapacityExceededError({ cause: error });
        }
        if (reasons.every(isConflictReason)) {
          throw new VersionConflictError(change.state.accountId);
        }
      }
      throw error;
    }
  }

  async listHistory(
    leadId: string,
    limit: number,
    cursor?: string,
    cursorKey?: string,
  ): Promise<HistoryPage> {
    const partition = leadPartition(leadId);
    const tag = historyCursorTag(leadId, cursorKey);
    const start =
      cursor === undefined
        ? undefined
        : historyCursorKey(cursor, partition, tag);
    const { Items = [], LastEvaluatedKey } = await this.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: {
          '#pk': TABLE_LAYOUT.partitionKey,
          '#sk': TABLE_LAYOUT.sortKey,
        },
        ExpressionAttributeValues: marshall({
          ':pk': partition,
          ':prefix': HISTORY_SORT_PREFIX,
        }),
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: limit,
        ExclusiveStartKey: start,
      }),
    );
    return {
      entries: Items.map(itemToHistory),
      cursor:
        LastEvaluatedKey === undefined
          ? undefined
          : encodeHistoryCursor(LastEvaluatedKey, tag),
    };
  }

  async listOutbox(leadId: string): Promise<OutgoingEvent[]> {
    const items = await this.queryPartition(
      leadPartition(leadId),
      OUTBOX_SORT_PREFIX,
    );
    return items.map(itemToOutgoing);
  }

  async listOutboxEntries(leadId: string): Promise<OutboxEntry[]> {
    const items = await this.queryPartition(
      leadPartition(leadId),
      OUTBOX_SORT_PREFIX,
    );
    return items.map(itemToOutboxEntry);
  }

  async putOutboxEntry(event: OutgoingEvent): Promise<void> {
    const { Put } = this.outboxPut(event);
    if (Put === undefined) return;
    await this.send(new PutItemCommand(Put));
  }

  async listMergedLeadIds(leadId: string): Promise<string[]> {
    const items = await this.queryPartition(
      leadPartition(leadId),
      LINK_SORT_PREFIX,
    );
    return items.map((item) => String(unmarshall(item).mergedLeadId));
  }

  async deleteLeadData(
    leadId: string,
  ): Promise<{ deleted: number; linkedLeadIds: string[] }> {
    const items = await this.queryPartition(leadPartition(leadId));
    const keys: Item[] = [];
    const linkedLeadIds: string[] = [];
    for (const item of items) {
      const fields = unmarshall(item);
      const sortKey = String(fields[TABLE_LAYOUT.sortKey]);
      if (sortKey === STATE_SORT_KEY) {
        const accountId = fields.membership?.accountId;
        if (typeof accountId === 'string') {
          keys.push(memberKey(accountId, leadId));
        }
        continue;
      }
      keys.push(keyOf(fields));
      if (fields.entity === 'link') {
        linkedLeadIds.push(String(fields.mergedLeadId));
      }
      if (fields.entity === 'event') {
        keys.push(
          marshall({
            [TABLE_LAYOUT.partitionKey]: messagePartition(
              String(fields.sourceId),
              String(fields.messageId),
            ),
            [TABLE_LAYOUT.sortKey]: MESSAGE_SORT_KEY,
          }),
        );
      }
    }
    await this.batchDelete(keys);
    return { deleted: keys.length, linkedLeadIds };
  }

  async holdForErasure(state: LeadState, holdMs: number): Promise<LeadState> {
    const incarnation = incarnationCondition(state);
    const now = this.clock();
    try {
      const { Attributes } = await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: stateKey(state.leadId),
          UpdateExpression:
            'SET #hold = :until, #holder = :holder ADD #version :one',
          ConditionExpression: `attribute_exists(#pk) AND ${incarnation.expression} AND (attribute_not_exists(#hold) OR #hold < :now OR #holder = :holder)`,
          ExpressionAttributeNames: {
            '#pk': TABLE_LAYOUT.partitionKey,
            '#version': 'version',
            '#hold': ERASURE_HOLD,
            '#holder': ERASURE_HOLDER,
            ...incarnation.names,
          },
          ExpressionAttributeValues: marshall({
            ':one': 1,
            ':until': now + holdMs,
            ':holder': randomUUID(),
            ':now': now,
            ...incarnation.values,
          }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (Attributes === undefined) {
        throw new Error(`The hold of lead ${state.leadId} returned no item.`);
      }
      return itemToState(Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new VersionConflictError(state.leadId);
      }
      throw error;
    }
  }

  async markAccountDue(accountId: string, at: number): Promise<void> {
    const index = TABLE_LAYOUT.reviewIndex;
    await this.updateIfPresent({
      TableName: this.tableName,
      Key: accountStateKey(accountId),
      UpdateExpression:
        'SET nextReviewAt = :at, #reviewAt = :at, #shard = :shard ADD #version :one',
      ConditionExpression: '#status = :mqa',
      ExpressionAttributeNames: {
        '#reviewAt': index.sortKey,
        '#shard': index.partitionKey,
        '#version': 'version',
        '#status': 'status',
      },
      ExpressionAttributeValues: marshall({
        ':at': at,
        ':shard': shardOf(accountId, this.reviewShards),
        ':one': 1,
        ':mqa': 'mqa',
      }),
    });
  }

  async releaseErasureHold(heldLead: LeadState): Promise<void> {
    try {
      await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: stateKey(heldLead.leadId),
          UpdateExpression: 'REMOVE #hold, #holder',
          ConditionExpression: '#version = :held',
          ExpressionAttributeNames: {
            '#version': 'version',
            '#hold': ERASURE_HOLD,
            '#holder': ERASURE_HOLDER,
          },
          ExpressionAttributeValues: marshall({ ':held': heldLead.version }),
        }),
      );
    } catch (error) {
      // The hold expired and another writer changed or removed the lead.
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }

  async deleteLeadState(
    leadId: string,
    expectedVersion: number,
  ): Promise<void> {
    try {
      await this.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: stateKey(leadId),
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: marshall({ ':expected': expectedVersion }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new VersionConflictError(leadId);
      }
      throw error;
    }
  }

  async listOutcomes(month: string): Promise<OutcomeRecord[]> {
    const outcomes: OutcomeRecord[] = [];
    let cursor: Item | undefined;
    do {
      const page = await this.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TABLE_LAYOUT.partitionKey },
          ExpressionAttributeValues: marshall({
            ':pk': outcomePartition(month),
          }),
          ExclusiveStartKey: cursor,
        }),
      );
      outcomes.push(...(page.Items ?? []).map(itemToOutcome));
      cursor = page.LastEvaluatedKey;
    } while (cursor !== undefined);
    return outcomes;
  }

  async listEvents(
    leadId: string,
    limit: number,
    cursor?: string,
  ): Promise<EventPage> {
    const { Items = [], LastEvaluatedKey } = await this.send(
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
    owner: OutboxOwner | string,
    eventId: string,
    dueAt: number,
    retryAt: number,
  ): Promise<OutgoingEvent | undefined> {
    try {
      const { Attributes } = await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: outboxKey(ownerOf(owner), eventId),
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

  async deleteOutboxEntry(
    owner: OutboxOwner | string,
    eventId: string,
  ): Promise<void> {
    await this.send(
      new DeleteItemCommand({
        TableName: this.tableName,
        Key: outboxKey(ownerOf(owner), eventId),
      }),
    );
  }

  async deleteOutboxEntries(events: readonly OutgoingEvent[]): Promise<void> {
    const keys = new Map(
      events.map((event) => {
        const key = outboxKey(ownerOf(event), event.eventId);
        return [JSON.stringify(key), key] as const;
      }),
    );
    await this.batchDelete([...keys.values()]);
  }

  async releaseOutboxEntry(
    owner: OutboxOwner | string,
    eventId: string,
    dueAt: number,
  ): Promise<boolean> {
    return this.updateIfPresent({
      TableName: this.tableName,
      Key: outboxKey(ownerOf(owner), eventId),
      UpdateExpression: 'SET #reviewAt = :dueAt',
      ConditionExpression: '#status = :pending AND attempts = :zero',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#reviewAt': TABLE_LAYOUT.reviewIndex.sortKey,
      },
      ExpressionAttributeValues: marshall({
        ':pending': 'pending',
        ':zero': 0,
        ':dueAt': dueAt,
      }),
    });
  }

  async markOutboxFailed(
    owner: OutboxOwner | string,
    eventId: string,
    failure: OutboxFailure,
  ): Promise<boolean> {
    const index = TABLE_LAYOUT.reviewIndex;
    return this.updateIfPresent({
      TableName: this.tableName,
      Key: outboxKey(ownerOf(owner), eventId),
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
    owner: OutboxOwner | string,
    eventId: string,
    dueAt: number,
  ): Promise<boolean> {
    const index = TABLE_LAYOUT.reviewIndex;
    return this.updateIfPresent({
      TableName: this.tableName,
      Key: outboxKey(ownerOf(owner), eventId),
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
    owner: OutboxOwner | string,
    eventId: string,
  ): Promise<OutboxEntry | undefined> {
    const { Item } = await this.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: outboxKey(ownerOf(owner), eventId),
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : itemToOutboxEntry(Item);
  }

  async listFailedOutbox(limit: number, cursor?: string): Promise<OutboxPage> {
    const index = TABLE_LAYOUT.reviewIndex;
    const { Items = [], LastEvaluatedKey } = await this.send(
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
    // Index items always carry the table's key, whichever the owner.
    const { partitionKey, sortKey } = TABLE_LAYOUT;
    const keys = Items.map((item) => ({
      [partitionKey]: item[partitionKey] as AttributeValue,
      [sortKey]: item[sortKey] as AttributeValue,
    }));
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
    const { Items = [], LastEvaluatedKey } = await this.send(
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

  /**
   * Commits a group of changes in one transaction. When a condition or a
   * concurrent transaction cancels it, the changes to blame go to
   * `conflicted` and the rest are sent again, until the rest commit or
   * no change can be blamed.
   */
  private async commitGroup(
    group: readonly ChangeItems[],
    result: SavedLeadChanges,
  ): Promise<void> {
    let pending = group;
    while (pending.length > 0) {
      try {
        await this.send(
          new TransactWriteItemsCommand({
            TransactItems: pending.flatMap((unit) => unit.items),
          }),
        );
        result.saved.push(...pending.map((unit) => unit.change));
        return;
      } catch (error) {
        const blame =
          error instanceof TransactionCanceledException
            ? blameChanges(pending, error.CancellationReasons ?? [])
            : undefined;
        if (blame === undefined) {
          for (const unit of pending) {
            result.failed.push({ change: unit.change, error });
          }
          return;
        }
        result.conflicted.push(...blame.conflicted);
        for (const change of blame.failed) {
          result.failed.push({ change, error });
        }
        pending = blame.clear;
      }
    }
  }

  /**
   * Sends a command to DynamoDB. A request that DynamoDB still throttles
   * after the SDK's retries raises CapacityExceededError.
   */
  private async send<
    Input extends ServiceInputTypes,
    Output extends ServiceOutputTypes,
  >(
    command: $Command<
      Input,
      Output,
      DynamoDBClientResolvedConfig,
      ServiceInputTypes,
      ServiceOutputTypes
    >,
  ): Promise<Output> {
    try {
      return await this.client.send(command);
    } catch (error) {
      if (error instanceof Error && THROTTLING_ERRORS.has(error.name)) {
        throw new CapacityExceededError({ cause: error });
      }
      throw error;
    }
  }

  /** Runs a conditional update; returns false when the condition failed. */
  private async updateIfPresent(
    input: ConstructorParameters<typeof UpdateItemCommand>[0],
  ): Promise<boolean> {
    try {
      await this.send(new UpdateItemCommand(input));
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
      items.push(this.outboxPut(event));
      roles.push({ kind: 'outbox' });
    }
    for (const item of this.membershipItems(change)) {
      items.push(item);
      roles.push({ kind: 'membership' });
    }
    if (change.history !== undefined) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: historyToItem(change.state.leadId, change.history),
        },
      });
      roles.push({ kind: 'history' });
    }
    if (change.outcome !== undefined) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: outcomeToItem(change.outcome),
        },
      });
      roles.push({ kind: 'outcome' });
    }
    const followed = change.followedTombstone;
    if (followed !== undefined) {
      items.push({
        ConditionCheck: {
          TableName: this.tableName,
          Key: stateKey(followed.leadId),
          ConditionExpression: '#mergedInto = :target',
          ExpressionAttributeNames: { '#mergedInto': 'mergedInto' },
          ExpressionAttributeValues: marshall({
            ':target': followed.mergedInto,
          }),
        },
      });
      roles.push({ kind: 'tombstone' });
    }
    if (change.mergeTarget !== undefined) {
      items.push(this.liveTargetCheck(change.mergeTarget));
      roles.push({ kind: 'target' });
    }
    const { mergedInto, leadId } = change.state;
    if (mergedInto !== undefined) {
      items.push({
        Put: { TableName: this.tableName, Item: linkItem(mergedInto, leadId) },
      });
      roles.push({ kind: 'link' });
    }
    return { items, roles };
  }

  /**
   * Checks that a lead is neither merged into another nor held for
   * erasure. A lead not stored yet passes.
   */
  private liveTargetCheck(leadId: string): TransactWriteItem {
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: stateKey(leadId),
        ConditionExpression:
          'attribute_not_exists(#mergedInto) AND (attribute_not_exists(#hold) OR #hold < :now)',
        ExpressionAttributeNames: {
          '#mergedInto': 'mergedInto',
          '#hold': ERASURE_HOLD,
        },
        ExpressionAttributeValues: marshall({ ':now': this.clock() }),
      },
    };
  }

  private outboxPut(event: OutgoingEvent): TransactWriteItem {
    const dueAt = event.createdAt + this.outboxGraceMs;
    return {
      Put: {
        TableName: this.tableName,
        Item: outboxToItem(event, dueAt, this.reviewShards),
      },
    };
  }

  private membershipItems(change: LeadChange): TransactWriteItem[] {
    const items: TransactWriteItem[] = [];
    const { put, remove } = change.membership ?? {};
    if (remove !== undefined && remove.accountId !== put?.accountId) {
      items.push({
        Delete: {
          TableName: this.tableName,
          Key: memberKey(remove.accountId, remove.leadId),
        },
      });
    }
    if (put !== undefined) {
      items.push({
        Put: { TableName: this.tableName, Item: memberToItem(put) },
      });
    }
    if (put?.linkedAccountId !== undefined) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: accountLinkToItem(put.linkedAccountId, put.accountId),
        },
      });
    }
    return items;
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

  /**
   * Puts the lead state under a version check that compares the lead's
   * incarnation too (see incarnationCondition). Versions start again at 1
   * when an erased lead is stored again, so the version alone would let a
   * writer that read the erased lead overwrite the new one. A lead held
   * for its erasure takes no change until the hold ends, so an erasure
   * finishes however often the lead is written.
   */
  private statePut(change: LeadChange): TransactWriteItem {
    const isNew = change.expectedVersion === 0;
    const item = stateToItem(change.state, this.reviewShards);
    if (isNew) {
      return {
        Put: {
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': TABLE_LAYOUT.partitionKey },
        },
      };
    }
    const incarnation = incarnationCondition(change.state);
    return {
      Put: {
        TableName: this.tableName,
        Item: item,
        ConditionExpression: `#version = :expected AND ${incarnation.expression} AND (attribute_not_exists(#hold) OR #hold < :now)`,
        ExpressionAttributeNames: {
          '#version': 'version',
          '#hold': ERASURE_HOLD,
          ...incarnation.names,
        },
        ExpressionAttributeValues: marshall({
          ':expected': change.expectedVersion,
          ':now': this.clock(),
          ...incarnation.values,
        }),
      },
    };
  }

  private async queryPartition(
    partition: string,
    sortPrefix?: string,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let cursor: Item | undefined;
    do {
      const page = await this.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression:
            sortPrefix === undefined
              ? '#pk = :pk'
              : '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames:
            sortPrefix === undefined
              ? { '#pk': TABLE_LAYOUT.partitionKey }
              : {
                  '#pk': TABLE_LAYOUT.partitionKey,
                  '#sk': TABLE_LAYOUT.sortKey,
                },
          ExpressionAttributeValues: marshall(
            sortPrefix === undefined
              ? { ':pk': partition }
              : { ':pk': partition, ':prefix': sortPrefix },
          ),
          ConsistentRead: true,
          ExclusiveStartKey: cursor,
        }),
      );
      items.push(...(page.Items ?? []));
      cursor = page.LastEvaluatedKey;
    } while (cursor !== undefined);
    return items;
  }

  /** Deletes items 25 at a time, retrying unprocessed ones. */
  private async batchDelete(keys: readonly Item[]): Promise<void> {
    for (let start = 0; start < keys.length; start += BATCH_WRITE_LIMIT) {
      let pending = keys
        .slice(start, start + BATCH_WRITE_LIMIT)
        .map((Key) => ({ DeleteRequest: { Key } }));
      for (let round = 0; pending.length > 0; round += 1) {
        if (round >= MAX_UNPROCESSED_ROUNDS) {
          // DynamoDB leaves items unprocessed when it throttles them.
          throw new CapacityExceededError({
            cause: new Error(
              `BatchWriteItem left ${pending.length} deletes unprocessed after ${round} rounds.`,
            ),
          });
        }
        const response = await this.send(
          new BatchWriteItemCommand({
            RequestItems: { [this.tableName]: pending },
          }),
        );
        pending = (response.UnprocessedItems?.[this.tableName] ?? []).flatMap(
          (request) =>
            request.DeleteRequest?.Key === undefined
              ? []
              : [{ DeleteRequest: { Key: request.DeleteRequest.Key } }],
        );
        if (pending.length > 0) {
          await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
        }
      }
    }
  }

  private async batchGet(keys: Item[]): Promise<Item[]> {
    const found: Item[] = [];
    let pending = keys;
    for (let round = 0; pending.length > 0; round += 1) {
      if (round >= MAX_UNPROCESSED_ROUNDS) {
        // A round returns up to 16 MB, so 100 items of at most 400 KB
        // take three rounds. Keys left after all rounds were throttled.
        throw new CapacityExceededError({
          cause: new Error(
            `BatchGetItem left ${pending.length} keys unprocessed after ${round} rounds.`,
          ),
        });
      }
      const response = await this.send(
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
 * marker is a duplicate. An item that DynamoDB throttled makes the
 * transaction a CapacityExceededError, even beside a conflict, because
 * retrying at once would meet the same limit. A failed state condition,
 * a moved event that is gone or a conflict with another transaction is a
 * version conflict.
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
  if (isThrottled(reasons)) {
    return new CapacityExceededError({ cause: error });
  }
  if (reasons.every(isConflictReason)) {
    return new VersionConflictError(change.state.leadId);
  }
  return error;
}

/**
 * Sorts the changes of a cancelled transaction by the reasons DynamoDB
 * returns per item, in item order. A change with a failed condition or a
 * transaction conflict is conflicted. A change with another reason, such
 * as throttling or validation, failed. A change whose items all have the
 * reason None is clear to send again. Returns undefined when the reasons
 * blame no change or do not match the items, so nothing is sent again.
 */
function blameChanges(
  units: readonly ChangeItems[],
  reasons: readonly CancellationReason[],
):
  | { conflicted: LeadChange[]; failed: LeadChange[]; clear: ChangeItems[] }
  | undefined {
  const itemCount = units.reduce((sum, unit) => sum + unit.items.length, 0);
  if (reasons.length !== itemCount) return undefined;
  const blame = {
    conflicted: [] as LeadChange[],
    failed: [] as LeadChange[],
    clear: [] as ChangeItems[],
  };
  let offset = 0;
  for (const unit of units) {
    const codes = reasons
      .slice(offset, offset + unit.items.length)
      .map((reason) => reason.Code ?? 'None');
    offset += unit.items.length;
    if (codes.some((code) => CONFLICT_CODES.has(code))) {
      blame.conflicted.push(unit.change);
    } else if (codes.some((code) => code !== 'None')) {
      blame.failed.push(unit.change);
    } else {
      blame.clear.push(unit);
    }
  }
  return blame.clear.length === units.length ? undefined : blame;
}

/** Cancellation reasons that a fresh read and a retry can resolve. */
const CONFLICT_CODES: ReadonlySet<string> = new Set([
  'ConditionalCheckFailed',
  'TransactionConflict',
]);

/**
 * Names of the errors DynamoDB raises when a request exceeds the table's
 * or the account's throughput.
 */
const THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
]);

/**
 * Cancellation reasons of a transaction item that DynamoDB throttled.
 * The SDK's TransactionCanceledException documentation lists
 * ProvisionedThroughputExceeded and ThrottlingError. RequestLimitExceeded,
 * the account's limit, is listed in case DynamoDB reports it per item.
 */
const THROTTLING_REASONS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
  'ThrottlingError',
]);

/** Tells whether DynamoDB throttled an item of a cancelled transaction. */
/**
 * Tells whether a cancellation reason means only that another writer got
 * there first: a failed condition, a conflict or an item that did not
 * fail.
 */
function isConflictReason(reason: CancellationReason): boolean {
  return (
    reason.Code === undefined ||
    reason.Code === 'None' ||
    reason.Code === 'ConditionalCheckFailed' ||
    reason.Code === 'TransactionConflict'
  );
}

function isThrottled(reasons: readonly CancellationReason[]): boolean {
  return reasons.some((reason) => THROTTLING_REASONS.has(reason.Code ?? ''));
}

function keyOf(fields: Record<string, unknown>): Item {
  return marshall({
    [TABLE_LAYOUT.partitionKey]: fields[TABLE_LAYOUT.partitionKey],
    [TABLE_LAYOUT.sortKey]: fields[TABLE_LAYOUT.sortKey],
  });
}

function ownerOf(owner: OutboxOwner | string): OutboxOwner {
  return typeof owner === 'string' ? { leadId: owner } : owner;
}

/**
 * Converts a review index item. The index projects the table keys, so an
 * account's outbox entry is recognized by its partition key.
 */
function toDueItem(fields: Record<string, unknown>): DueItem {
  const dueAt = Number(fields[TABLE_LAYOUT.reviewIndex.sortKey]);
  const leadId = String(fields.leadId ?? '');
  if (fields.entity === 'account') {
    const partition = String(fields[TABLE_LAYOUT.partitionKey]);
    return {
      kind: 'account',
      accountId: partition.slice(ACCOUNT_PREFIX.length),
      dueAt,
    };
  }
  if (fields.entity === 'outbox') {
    const partition = String(fields[TABLE_LAYOUT.partitionKey]);
    const account = partition.startsWith(ACCOUNT_PREFIX)
      ? { accountId: partition.slice(ACCOUNT_PREFIX.length) }
      : {};
    return {
      kind: 'outbox',
      leadId,
      ...account,
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

/** Name of the field of a history cursor that binds it to its lead. */
const CURSOR_TAG = 'lead';

/**
 * Returns the tag that binds history cursors to one incarnation of a lead:
 * a hash of its id and its random incarnationId, so the tag reveals
 * neither. Undefined for a lead stored before incarnationId existed. Its
 * cursors are then accepted for any lead, but the query still reads only
 * the lead of the request.
 */
function historyCursorTag(
  leadId: string,
  cursorKey: string | undefined,
): string | undefined {
  if (cursorKey === undefined) return undefined;
  return sha256Hex(canonicalJson(['history-cursor', leadId, cursorKey])).slice(
    0,
    16,
  );
}

/**
 * Encodes the position after a page of history as a cursor: the sort key
 * and the lead's tag, without the partition key, which names the lead.
 */
function encodeHistoryCursor(
  key: Record<string, unknown>,
  tag: string | undefined,
): string {
  const fields = unmarshall(key as never);
  const cursor = {
    [TABLE_LAYOUT.sortKey]: fields[TABLE_LAYOUT.sortKey],
    ...(tag === undefined ? {} : { [CURSOR_TAG]: tag }),
  };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/**
 * Decodes a history cursor, accepting only the sort key of a history
 * entry with the listed lead's tag, so a cursor cannot read other items.
 * A cursor from before cursors dropped the partition key is accepted
 * when that key is the listed lead's.
 */
function historyCursorKey(
  cursor: string,
  partition: string,
  tag: string | undefined,
): Item {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (typeof key !== 'object' || key === null) throw new InvalidCursorError();
  const {
    [TABLE_LAYOUT.partitionKey]: legacyPartition,
    [TABLE_LAYOUT.sortKey]: sortKey,
    [CURSOR_TAG]: cursorTag,
    ...rest
  } = key as Record<string, unknown>;
  const bound =
    legacyPartition === undefined
      ? cursorTag === tag
      : legacyPartition === partition && cursorTag === undefined;
  const valid =
    Object.keys(rest).length === 0 && bound && isHistorySortKey(sortKey);
  if (!valid) throw new InvalidCursorError();
  return marshall({
    [TABLE_LAYOUT.partitionKey]: partition,
    [TABLE_LAYOUT.sortKey]: sortKey,
  });
}

function decode(cursor: string) {
  return marshall(JSON.parse(Buffer.from(cursor, 'base64url').toString()));
}

/**
 * Returns the condition that the stored lead is the incarnation `state`
 * was read from. A lead with `incarnationId` is matched by it. An older
 * lead is matched by its createdAt and by having no `incarnationId`, so
 * a writer that read it cannot overwrite a lead stored again after its
 * erasure, even one first written in the same millisecond.
 */
function incarnationCondition(state: LeadState): {
  expression: string;
  names: Record<string, string>;
  values: Record<string, string | number>;
} {
  const { createdAt, incarnationId } = state;
  if (incarnationId !== undefined) {
    return {
      expression: '#incarnationId = :incarnationId',
      names: { '#incarnationId': 'incarnationId' },
      values: { ':incarnationId': incarnationId },
    };
  }
  const names = {
    '#incarnationId': 'incarnationId',
    '#createdAt': 'createdAt',
  };
  if (createdAt === undefined) {
    return {
      expression:
        'attribute_not_exists(#incarnationId) AND attribute_not_exists(#createdAt)',
      names,
      values: {},
    };
  }
  return {
    expression:
      'attribute_not_exists(#incarnationId) AND #createdAt = :createdAt',
    names,
    values: { ':createdAt': createdAt },
  };
}
