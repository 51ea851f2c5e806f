import { randomUUID } from 'node:crypto';
import {
  type $Command,
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
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
import type { OutcomeRecord } from '../../domain/disposition.js';
import { CapacityExceededError } from '../../domain/errors.js';
import type { LeadState } from '../../domain/lead.js';
import type { OutgoingEvent } from '../../domain/outgoing-events.js';
import { DAY_MS } from '../../domain/time.js';
import {
  type AccountChange,
  type AccountLink,
  type AccountSnapshot,
  type DueItem,
  type DuePage,
  type ErasedMergedLeads,
  type EventPage,
  type HistoryPage,
  type IngestSnapshot,
  type LeadChange,
  type LeadDataDeleteOptions,
  type LeadDataDeletion,
  type LeadRepository,
  type OutboxClaim,
  type OutboxEntry,
  type OutboxFailure,
  type OutboxOwner,
  type OutboxPage,
  type SavedLeadChanges,
  type StoredEvent,
  VersionConflictError,
} from '../../ports/lead-repository.js';
import {
  ACCOUNT_LINK_SORT_KEY,
  accountLinkerKey,
  accountLinkToItem,
  accountStateKey,
  accountStateToItem,
  memberKey,
  readAccountItems,
  readAccountLinkItems,
  unchangedMemberChecks,
} from './account-items.js';
import {
  blameChanges,
  cancellationError,
  isConflictReason,
  isThrottled,
  THROTTLING_ERRORS,
} from './cancellations.js';
import {
  type ChangeItemSettings,
  type ChangeItems,
  incarnationCondition,
  outboxPut,
  transactionItems,
} from './change-items.js';
import {
  decode,
  encode,
  encodeHistoryCursor,
  historyCursorKey,
  historyCursorTag,
} from './cursors.js';
import {
  accountPartition,
  ERASED_MERGED_LEADS,
  ERASED_MERGED_LEADS_OMITTED,
  ERASURE_HOLD,
  ERASURE_HOLDER,
  EVENT_SORT_PREFIX,
  HISTORY_SORT_PREFIX,
  itemToHistory,
  itemToOutboxEntry,
  itemToOutcome,
  itemToOutgoing,
  itemToState,
  itemToStoredEvent,
  LINK_SORT_PREFIX,
  leadPartition,
  linkKey,
  MESSAGE_SORT_KEY,
  messagePartition,
  OUTBOX_SORT_PREFIX,
  outboxKey,
  outcomePartition,
  STATE_SORT_KEY,
  shardOf,
  stateKey,
} from './items.js';
import {
  DEFAULT_REVIEW_SHARDS,
  FAILED_OUTBOX_SHARD,
  REQUEUED_OUTBOX_SHARD,
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

const BATCH_GET_LIMIT = 100;
/** Items of one TransactWriteItems call at most. */
const MAX_TRANSACTION_ITEMS = 100;
const BATCH_WRITE_LIMIT = 25;
const ACCOUNT_PREFIX = accountPartition('');
const MAX_UNPROCESSED_ROUNDS = 8;
/** Grouped transactions of one saveLeadChanges call sent at once. */
const TRANSACTION_CONCURRENCY = 4;

/** Lead repository on one DynamoDB table (see table-layout.ts). */
export class DynamoLeadRepository implements LeadRepository {
  readonly reviewShards: number;
  private readonly tableName: string;
  private readonly retentionMs: number;
  readonly outboxGraceMs: number;
  /** Wall clock of erasure holds, which writers compare with it. */
  private readonly clock: () => number;
  private readonly itemSettings: ChangeItemSettings;

  constructor(
    private readonly client: DynamoDBClient,
    options: DynamoLeadRepositoryOptions,
  ) {
    this.tableName = options.tableName;
    this.reviewShards = options.reviewShards ?? DEFAULT_REVIEW_SHARDS;
    this.retentionMs = (options.eventRetentionDays ?? 400) * DAY_MS;
    this.outboxGraceMs = options.outboxGraceMs ?? 60_000;
    this.clock = options.clock ?? Date.now;
    this.itemSettings = {
      tableName: this.tableName,
      retentionMs: this.retentionMs,
      outboxGraceMs: this.outboxGraceMs,
      reviewShards: this.reviewShards,
    };
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
  ): Promise<Map<string, string>> {
    const stored = new Map<string, string>();
    const unique = [...new Set(messageIds)];
    for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
      const keys = unique.slice(start, start + BATCH_GET_LIMIT).map((id) =>
        marshall({
          [TABLE_LAYOUT.partitionKey]: messagePartition(sourceId, id),
          [TABLE_LAYOUT.sortKey]: MESSAGE_SORT_KEY,
        }),
      );
      for (const item of await this.batchGet(keys)) {
        const fields = unmarshall(item);
        const partition = String(fields[TABLE_LAYOUT.partitionKey]);
        stored.set(
          partition.slice(messagePartition(sourceId, '').length),
          String(fields.leadId),
        );
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
      storedMessages: new Map(),
    };
    const messagePrefix = messagePartition(sourceId, '');
    for (const item of found) {
      const fields = unmarshall(item);
      const partition = String(fields[TABLE_LAYOUT.partitionKey]);
      if (partition.startsWith(messagePrefix)) {
        snapshot.storedMessages.set(
          partition.slice(messagePrefix.length),
          String(fields.leadId),
        );
      } else {
        const state = itemToState(item);
        snapshot.leads.set(state.leadId, state);
      }
    }
    return snapshot;
  }

  async saveLeadChange(change: LeadChange): Promise<void> {
    const { items, roles } = transactionItems(this.itemSettings, change);
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
      items: transactionItems(this.itemSettings, change).items,
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
    return readAccountItems(
      await this.queryPartition(accountPartition(accountId)),
    );
  }

  async getAccountLink(accountId: string): Promise<AccountLink | undefined> {
    return readAccountLinkItems(
      await this.queryPartition(
        accountPartition(accountId),
        ACCOUNT_LINK_SORT_KEY,
      ),
    );
  }

  async replaceAccountLink(
    accountId: string,
    link: AccountLink,
    linkedTo: string | undefined,
    staleGroups: readonly string[],
  ): Promise<boolean> {
    const unchanged: {
      ConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Item;
    } =
      link.linkId === undefined
        ? {
            ConditionExpression:
              'attribute_not_exists(#linkId) AND #linkedTo = :linkedTo',
            ExpressionAttributeNames: {
              '#linkId': 'linkId',
              '#linkedTo': 'linkedTo',
            },
            ExpressionAttributeValues: marshall({
              ':linkedTo': link.linkedTo,
            }),
          }
        : {
            ConditionExpression: '#linkId = :linkId',
            ExpressionAttributeNames: { '#linkId': 'linkId' },
            ExpressionAttributeValues: marshall({ ':linkId': link.linkId }),
          };
    const linkWrite: TransactWriteItem =
      linkedTo === undefined
        ? {
            Delete: {
              TableName: this.tableName,
              Key: marshall({
                [TABLE_LAYOUT.partitionKey]: accountPartition(accountId),
                [TABLE_LAYOUT.sortKey]: ACCOUNT_LINK_SORT_KEY,
              }),
              ...unchanged,
            },
          }
        : {
            Put: {
              TableName: this.tableName,
              Item: accountLinkToItem(accountId, linkedTo),
              ...unchanged,
            },
          };
    const groupDeletes: TransactWriteItem[] = [...new Set(staleGroups)]
      .slice(0, MAX_TRANSACTION_ITEMS - 1)
      .map((group) => ({
        Delete: {
          TableName: this.tableName,
          Key: accountLinkerKey(accountId, group),
        },
      }));
    try {
      await this.send(
        new TransactWriteItemsCommand({
          TransactItems: [linkWrite, ...groupDeletes],
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const reasons = error.CancellationReasons ?? [];
        if (isThrottled(reasons)) {
          throw new CapacityExceededError({ cause: error });
        }
        if (reasons.every(isConflictReason)) return false;
      }
      throw error;
    }
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
      ...change.outgoing.map((event) => outboxPut(this.itemSettings, event)),
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
      throw versionedWriteError(error, change.state.accountId);
    }
  }

  async deleteAccountState(
    accountId: string,
    expectedVersion: number,
  ): Promise<void> {
    await this.deleteAtVersion(
      accountStateKey(accountId),
      accountId,
      expectedVersion,
    );
  }

  /**
   * Deletes the item at `key` when its version is `expectedVersion`, and
   * raises VersionConflictError naming `id` when it is not.
   */
  private async deleteAtVersion(
    key: Item,
    id: string,
    expectedVersion: number,
  ): Promise<void> {
    try {
      await this.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: marshall({ ':expected': expectedVersion }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new VersionConflictError(id);
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
        // One entry more than the page, so a cursor is returned only when
        // an entry follows the page.
        Limit: limit + 1,
        ExclusiveStartKey: start,
      }),
    );
    const entries = Items.slice(0, limit);
    const last = entries.at(-1);
    // A query that stopped at DynamoDB's 1 MB response size can return
    // fewer entries than requested with more left to read, and then
    // LastEvaluatedKey is the position after the page.
    const next =
      Items.length > limit && last !== undefined
        ? keyOf(unmarshall(last))
        : LastEvaluatedKey;
    return {
      entries: entries.map(itemToHistory),
      cursor: next === undefined ? undefined : encodeHistoryCursor(next, tag),
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
    const { Put } = outboxPut(this.itemSettings, event);
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
    options: LeadDataDeleteOptions = {},
  ): Promise<LeadDataDeletion> {
    const mayContinue = options.mayContinue ?? (() => true);
    const linkedLeadIds: string[] = [];
    let deleted = 0;
    let cursor: Item | undefined;
    do {
      const page = await this.queryPage(leadPartition(leadId), cursor);
      const batches = leadDataBatches(leadId, page.items, linkedLeadIds);
      for (const batch of batches) {
        if (!mayContinue()) return { deleted, linkedLeadIds, finished: false };
        const left = await this.deleteBatch(batch, mayContinue);
        deleted += batch.length - left;
        if (left > 0) return { deleted, linkedLeadIds, finished: false };
      }
      cursor = page.cursor;
      if (cursor !== undefined && !mayContinue()) {
        return { deleted, linkedLeadIds, finished: false };
      }
    } while (cursor !== undefined);
    return { deleted, linkedLeadIds, finished: true };
  }

  async holdForErasure(state: LeadState, holdMs: number): Promise<LeadState> {
    const incarnation = incarnationCondition(state);
    const now = this.clock();
    const index = TABLE_LAYOUT.reviewIndex;
    try {
      // The held lead is due for review when the hold ends, so the sweep
      // finishes an erasure that stopped and that no request repeats.
      const { Attributes } = await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: stateKey(state.leadId),
          UpdateExpression:
            'SET #hold = :until, #holder = :holder, #reviewAt = :until, #shard = :shard ADD #version :one',
          ConditionExpression: `attribute_exists(#pk) AND ${incarnation.expression} AND (attribute_not_exists(#hold) OR #hold < :now OR #holder = :holder)`,
          ExpressionAttributeNames: {
            '#pk': TABLE_LAYOUT.partitionKey,
            '#version': 'version',
            '#hold': ERASURE_HOLD,
            '#holder': ERASURE_HOLDER,
            '#reviewAt': index.sortKey,
            '#shard': index.partitionKey,
            ...incarnation.names,
          },
          ExpressionAttributeValues: marshall({
            ':one': 1,
            ':until': now + holdMs,
            ':holder': randomUUID(),
            ':now': now,
            ':shard': shardOf(state.leadId, this.reviewShards),
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

  async pauseErasure(heldLead: LeadState): Promise<void> {
    const index = TABLE_LAYOUT.reviewIndex;
    const now = this.clock();
    await this.updateIfPresent({
      TableName: this.tableName,
      Key: stateKey(heldLead.leadId),
      UpdateExpression: 'SET #hold = :ended, #reviewAt = :now',
      ConditionExpression: '#version = :held',
      ExpressionAttributeNames: {
        '#version': 'version',
        '#hold': ERASURE_HOLD,
        '#reviewAt': index.sortKey,
      },
      ExpressionAttributeValues: marshall({
        ':held': heldLead.version,
        ':ended': now - 1,
        ':now': now,
      }),
    });
  }

  async recordErasedMergedLead(
    heldLead: LeadState,
    mergedLeadIdSha256: string,
    maxRecorded: number,
  ): Promise<void> {
    const added = await this.updateIfPresent({
      TableName: this.tableName,
      Key: stateKey(heldLead.leadId),
      UpdateExpression: 'ADD #hashes :hashes',
      ConditionExpression:
        '#version = :held AND (attribute_not_exists(#hashes) OR size(#hashes) < :max OR contains(#hashes, :hash))',
      ExpressionAttributeNames: {
        '#version': 'version',
        '#hashes': ERASED_MERGED_LEADS,
      },
      ExpressionAttributeValues: marshall({
        ':hashes': new Set([mergedLeadIdSha256]),
        ':hash': mergedLeadIdSha256,
        ':held': heldLead.version,
        ':max': maxRecorded,
      }),
    });
    if (added) return;
    // The first write's condition fails when the set is full or the lead
    // changed. This one's condition fails only when the lead changed.
    const marked = await this.updateIfPresent({
      TableName: this.tableName,
      Key: stateKey(heldLead.leadId),
      UpdateExpression: 'SET #omitted = :true',
      ConditionExpression: '#version = :held',
      ExpressionAttributeNames: {
        '#version': 'version',
        '#omitted': ERASED_MERGED_LEADS_OMITTED,
      },
      ExpressionAttributeValues: marshall({
        ':true': true,
        ':held': heldLead.version,
      }),
    });
    if (!marked) throw new VersionConflictError(heldLead.leadId);
  }

  async getErasedMergedLeads(leadId: string): Promise<ErasedMergedLeads> {
    const { Item } = await this.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: stateKey(leadId),
        ConsistentRead: true,
        ProjectionExpression: '#hashes, #omitted',
        ExpressionAttributeNames: {
          '#hashes': ERASED_MERGED_LEADS,
          '#omitted': ERASED_MERGED_LEADS_OMITTED,
        },
      }),
    );
    const fields = Item === undefined ? {} : unmarshall(Item);
    const hashes = fields[ERASED_MERGED_LEADS];
    return {
      leadIdSha256s:
        hashes instanceof Set ? [...hashes].map(String).sort() : [],
      omitted: fields[ERASED_MERGED_LEADS_OMITTED] === true,
    };
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
    const index = TABLE_LAYOUT.reviewIndex;
    // The lead's own review time comes back in place of the hold's end.
    const review =
      heldLead.nextReviewAt === undefined
        ? { expression: 'REMOVE #hold, #holder, #reviewAt, #shard', values: {} }
        : {
            expression: 'REMOVE #hold, #holder SET #reviewAt = :reviewAt',
            values: { ':reviewAt': heldLead.nextReviewAt },
          };
    try {
      await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: stateKey(heldLead.leadId),
          UpdateExpression: review.expression,
          ConditionExpression: '#version = :held',
          ExpressionAttributeNames: {
            '#version': 'version',
            '#hold': ERASURE_HOLD,
            '#holder': ERASURE_HOLDER,
            '#reviewAt': index.sortKey,
            ...(heldLead.nextReviewAt === undefined
              ? { '#shard': index.partitionKey }
              : {}),
          },
          ExpressionAttributeValues: marshall({
            ':held': heldLead.version,
            ...review.values,
          }),
        }),
      );
    } catch (error) {
      // The lead was deleted, or another erasure took it over.
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }

  async deleteLeadState(
    leadId: string,
    expectedVersion: number,
  ): Promise<void> {
    await this.deleteAtVersion(stateKey(leadId), leadId, expectedVersion);
  }

  async deleteErasedLead(
    leadId: string,
    expectedVersion: number,
    erased: OutgoingEvent,
  ): Promise<void> {
    const { Put } = outboxPut(this.itemSettings, erased);
    try {
      await this.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.tableName,
                Key: stateKey(leadId),
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: marshall({
                  ':expected': expectedVersion,
                }),
              },
            },
            { Put },
          ],
        }),
      );
    } catch (error) {
      throw versionedWriteError(error, leadId);
    }
  }

  async deleteTombstone(
    targetId: string,
    mergedLeadId: string,
    expectedVersion: number,
  ): Promise<void> {
    try {
      await this.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.tableName,
                Key: stateKey(mergedLeadId),
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: marshall({
                  ':expected': expectedVersion,
                }),
              },
            },
            {
              Delete: {
                TableName: this.tableName,
                Key: linkKey(targetId, mergedLeadId),
              },
            },
          ],
        }),
      );
    } catch (error) {
      throw versionedWriteError(error, mergedLeadId);
    }
  }

  async deleteLink(targetId: string, mergedLeadId: string): Promise<void> {
    await this.send(
      new DeleteItemCommand({
        TableName: this.tableName,
        Key: linkKey(targetId, mergedLeadId),
      }),
    );
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

  async findStoredEvent(
    leadId: string,
    sourceId: string,
    messageId: string,
  ): Promise<StoredEvent | undefined> {
    let start: Item | undefined;
    do {
      const { Items = [], LastEvaluatedKey } = await this.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          FilterExpression: '#sourceId = :sourceId AND #messageId = :messageId',
          ExpressionAttributeNames: {
            '#pk': TABLE_LAYOUT.partitionKey,
            '#sk': TABLE_LAYOUT.sortKey,
            '#sourceId': 'sourceId',
            '#messageId': 'messageId',
          },
          ExpressionAttributeValues: marshall({
            ':pk': leadPartition(leadId),
            ':prefix': EVENT_SORT_PREFIX,
            ':sourceId': sourceId,
            ':messageId': messageId,
          }),
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      const [found] = Items;
      if (found !== undefined) return itemToStoredEvent(found);
      start = LastEvaluatedKey;
    } while (start !== undefined);
    return undefined;
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
    claim: OutboxClaim,
  ): Promise<OutgoingEvent | undefined> {
    try {
      const { Attributes } = await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: outboxKey(ownerOf(owner), eventId),
          // The token makes the call safe to send again, so the SDK's retry
          // of a claim that committed but lost its response succeeds too.
          UpdateExpression:
            'SET #reviewAt = :retryAt, claimedAt = :claimedAt, claimToken = :token, attempts = :attempts',
          ConditionExpression:
            '(#reviewAt = :dueAt OR claimToken = :token) AND (attribute_not_exists(#status) OR #status <> :failed)',
          ExpressionAttributeNames: {
            '#reviewAt': TABLE_LAYOUT.reviewIndex.sortKey,
            '#status': 'status',
          },
          ExpressionAttributeValues: marshall({
            ':retryAt': claim.retryAt,
            ':dueAt': claim.dueAt,
            ':claimedAt': claim.claimedAt,
            ':token': randomUUID(),
            ':attempts': claim.attempts,
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
    claimedAt?: number,
  ): Promise<boolean> {
    const key = outboxKey(ownerOf(owner), eventId);
    const released = await this.updateIfPresent({
      TableName: this.tableName,
      Key: key,
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
    if (!released && claimedAt !== undefined) {
      // A claimed entry keeps the due time of its claim's backoff. Matching
      // the claim time leaves a later claim of another publisher in place.
      // The sweep and an erasure claim an entry only after the previous
      // claim's backoff or grace period ended, so its time differs.
      await this.updateIfPresent({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'REMOVE claimedAt',
        ConditionExpression: '#status = :pending AND claimedAt = :claimedAt',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: marshall({
          ':pending': 'pending',
          ':claimedAt': claimedAt,
        }),
      });
    }
    return released;
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
        'SET #status = :pending, attempts = :zero, #shard = :shard, #reviewAt = :dueAt REMOVE errorCode, errorMessage, failedAt, claimedAt',
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
        ':shard': REQUEUED_OUTBOX_SHARD,
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

  private async queryPartition(
    partition: string,
    sortPrefix?: string,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let cursor: Item | undefined;
    do {
      const page = await this.queryPage(partition, cursor, sortPrefix);
      items.push(...page.items);
      cursor = page.cursor;
    } while (cursor !== undefined);
    return items;
  }

  /** Reads one page (up to 1 MB) of a partition, strongly consistent. */
  private async queryPage(
    partition: string,
    cursor: Item | undefined,
    sortPrefix?: string,
  ): Promise<{ items: Item[]; cursor: Item | undefined }> {
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
    return { items: page.Items ?? [], cursor: page.LastEvaluatedKey };
  }

  /** Deletes items 25 at a time. */
  private async batchDelete(keys: readonly Item[]): Promise<void> {
    for (const batch of chunk(keys, BATCH_WRITE_LIMIT)) {
      await this.deleteBatch(batch);
    }
  }

  /**
   * Deletes up to 25 items in one BatchWriteItem request, sending its
   * unprocessed items again until none is left. Deletes are idempotent,
   * so an item sent twice does no harm.
   */
  /**
   * Deletes `keys` with BatchWriteItem, sending the unprocessed ones
   * again after a backoff while `mayContinue` allows. Returns how many
   * keys are left when it stops the retries.
   */
  private async deleteBatch(
    keys: readonly Item[],
    mayContinue: () => boolean = () => true,
  ): Promise<number> {
    let pending = keys.map((Key) => ({ DeleteRequest: { Key } }));
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
        if (!mayContinue()) return pending.length;
        await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
      }
    }
    return 0;
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

/**
 * Returns the keys to delete from one page of a lead's partition before
 * its state, in batches of up to 25. They are every item but the state
 * and the link items, each event's message marker, and the membership
 * item that the state names. Each batch of markers comes right before the
 * batch of their events. So a call that stops or fails part-way never leaves a
 * marker whose event is gone, and the next call repeats at most one
 * batch. Adds the ids that the link items name to `linkedLeadIds`.
 */
function leadDataBatches(
  leadId: string,
  items: readonly Item[],
  linkedLeadIds: string[],
): Item[][] {
  const events: Item[] = [];
  const markers: Item[] = [];
  const others: Item[] = [];
  for (const item of items) {
    const fields = unmarshall(item);
    const sortKey = String(fields[TABLE_LAYOUT.sortKey]);
    if (sortKey === STATE_SORT_KEY) {
      const accountId = fields.membership?.accountId;
      if (typeof accountId === 'string') {
        others.push(memberKey(accountId, leadId));
      }
    } else if (fields.entity === 'link') {
      linkedLeadIds.push(String(fields.mergedLeadId));
    } else if (fields.entity === 'event') {
      events.push(keyOf(fields));
      markers.push(
        marshall({
          [TABLE_LAYOUT.partitionKey]: messagePartition(
            String(fields.sourceId),
            String(fields.messageId),
          ),
          [TABLE_LAYOUT.sortKey]: MESSAGE_SORT_KEY,
        }),
      );
    } else {
      others.push(keyOf(fields));
    }
  }
  const batches: Item[][] = [];
  for (let start = 0; start < events.length; start += BATCH_WRITE_LIMIT) {
    const end = start + BATCH_WRITE_LIMIT;
    batches.push(markers.slice(start, end), events.slice(start, end));
  }
  return [...batches, ...chunk(others, BATCH_WRITE_LIMIT)];
}

function chunk<T>(values: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < values.length; start += size) {
    chunks.push(values.slice(start, start + size));
  }
  return chunks;
}

/**
 * Maps the error of a transaction conditioned on one item's version: a
 * throttled cancellation to CapacityExceededError, a cancellation by
 * conditions only to VersionConflictError naming `id`, and any other
 * error to itself.
 */
function versionedWriteError(error: unknown, id: string): unknown {
  if (!(error instanceof TransactionCanceledException)) return error;
  const reasons = error.CancellationReasons ?? [];
  if (isThrottled(reasons)) return new CapacityExceededError({ cause: error });
  if (reasons.every(isConflictReason)) return new VersionConflictError(id);
  return error;
}
