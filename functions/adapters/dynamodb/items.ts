import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { OutcomeRecord } from '../../domain/disposition.js';
import type { HistoryEntry } from '../../domain/history.js';
import type { LeadState } from '../../domain/lead.js';
import { type TrackingEvent, withEventShape } from '../../domain/messages.js';
import type { OutgoingEvent } from '../../domain/outgoing-events.js';
import {
  fromStoredLead,
  type StoredLeadState,
  toStoredLead,
} from '../../domain/stored-lead.js';
import type {
  EventRecord,
  OutboxEntry,
  OutboxOwner,
  StoredEvent,
} from '../../ports/lead-repository.js';
import { TABLE_LAYOUT } from './table-layout.js';

/** Conversions between domain values and table items. */

type Item = Record<string, AttributeValue>;

const { partitionKey: PK, sortKey: SK } = TABLE_LAYOUT;
const { partitionKey: SHARD, sortKey: REVIEW_AT } = TABLE_LAYOUT.reviewIndex;

export const STATE_SORT_KEY = 'STATE';
export const MESSAGE_SORT_KEY = 'MESSAGE';
export const EVENT_SORT_PREFIX = 'EVENT#';

export function leadPartition(leadId: string): string {
  return `LEAD#${leadId}`;
}

export function messagePartition(sourceId: string, messageId: string): string {
  return `MESSAGE#${sourceId}#${messageId}`;
}

export function accountPartition(accountId: string): string {
  return `ACCOUNT#${accountId}`;
}

/** Partition that contains the outbox entries of an owner's events. */
export function ownerPartition(owner: OutboxOwner): string {
  if (owner.accountId !== undefined) return accountPartition(owner.accountId);
  if (owner.leadId !== undefined) return leadPartition(owner.leadId);
  throw new Error('An outbox entry needs a lead id or an account id.');
}

export const LINK_SORT_PREFIX = 'LINK#';

/**
 * Returns the identity link item that a merge leaves under the lead it
 * merged into, so erasing that lead finds the merged lead too.
 */
export function linkItem(targetId: string, mergedLeadId: string): Item {
  return marshall({
    [PK]: leadPartition(targetId),
    [SK]: `${LINK_SORT_PREFIX}${mergedLeadId}`,
    entity: 'link',
    leadId: targetId,
    mergedLeadId,
  });
}

/** Returns the key of the link item that linkItem builds. */
export function linkKey(targetId: string, mergedLeadId: string): Item {
  return marshall({
    [PK]: leadPartition(targetId),
    [SK]: `${LINK_SORT_PREFIX}${mergedLeadId}`,
  });
}

export const OUTBOX_SORT_PREFIX = 'OUTBOX#';

export function outboxSortKey(eventId: string): string {
  return `${OUTBOX_SORT_PREFIX}${eventId}`;
}

export function eventSortKey(occurredAt: number, messageId: string): string {
  return `${EVENT_SORT_PREFIX}${new Date(occurredAt).toISOString()}#${messageId}`;
}

/** Returns the key of a stored event of a lead. */
export function eventKey(
  leadId: string,
  event: Pick<TrackingEvent, 'occurredAt' | 'messageId'>,
): Item {
  return marshall({
    [PK]: leadPartition(leadId),
    [SK]: eventSortKey(event.occurredAt, event.messageId),
  });
}

/** Returns the key of a lead's state item. */
export function stateKey(leadId: string): Item {
  return marshall({ [PK]: leadPartition(leadId), [SK]: STATE_SORT_KEY });
}

/** Returns the key of an outbox entry. */
export function outboxKey(owner: OutboxOwner, eventId: string): Item {
  return marshall({
    [PK]: ownerPartition(owner),
    [SK]: outboxSortKey(eventId),
  });
}

/** Returns the review shard of an id: FNV-1a hash modulo the shard count. */
export function shardOf(id: string, shards: number): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return String((hash >>> 0) % shards);
}

/**
 * Returns the review index attributes of an item due for review at
 * `reviewAt`, or none, which keeps the item out of the sparse index.
 */
export function reviewAttributes(
  id: string,
  reviewAt: number | undefined,
  shards: number,
): Record<string, string | number> {
  return reviewAt === undefined
    ? {}
    : { [SHARD]: shardOf(id, shards), [REVIEW_AT]: reviewAt };
}

/**
 * Attribute of a state item held for its erasure: the time, epoch ms,
 * until which no other erasure may take the lead over. No other change of
 * the lead is written while the attribute is there, whatever its time,
 * so an erasure that stopped part-way leaves no lead that writers change.
 * It is no part of the stored lead state.
 */
export const ERASURE_HOLD = 'erasureHeldUntil';

/**
 * Attribute of a held state item: a random id of the hold request, so
 * that the SDK's retry of a request whose response was lost finds the
 * hold its first attempt placed and takes it again.
 */
export const ERASURE_HOLDER = 'erasureHeldBy';

/**
 * Attribute of a held state item: the string set of the SHA-256 hashes
 * of the merged leads that its erasure deleted, for its "Lead Erased"
 * event. A repeated erasure reads the hashes of the merged leads that a
 * stopped one deleted here. It is no part of the stored lead state.
 */
export const ERASED_MERGED_LEADS = 'erasedMergedLeadIdSha256s';

/**
 * Attribute of a held state item, true once its erasure deleted a merged
 * lead whose hash ERASED_MERGED_LEADS had no room for.
 */
export const ERASED_MERGED_LEADS_OMITTED = 'erasedMergedLeadIdsOmitted';

export function stateToItem(state: LeadState, shards: number): Item {
  const review = reviewAttributes(state.leadId, state.nextReviewAt, shards);
  const { erasureHeldUntil: _hold, ...stored } = toStoredLead(state);
  return marshall(
    {
      [PK]: leadPartition(state.leadId),
      [SK]: STATE_SORT_KEY,
      entity: 'lead',
      ...stored,
      ...review,
    },
    // A trait named `constructor` makes marshall take the traits map for
    // a class instance, which it converts only with this option.
    { removeUndefinedValues: true, convertClassInstanceToMap: true },
  );
}

/**
 * Converts a state item to a lead state. Collections that states written
 * before they existed lack are filled in empty.
 */
export function itemToState(item: Item): LeadState {
  const {
    [PK]: _pk,
    [SK]: _sk,
    entity: _entity,
    [SHARD]: _shard,
    [REVIEW_AT]: _reviewAt,
    [ERASURE_HOLD]: erasureHeldUntil,
    [ERASURE_HOLDER]: _holder,
    [ERASED_MERGED_LEADS]: _erasedMerged,
    [ERASED_MERGED_LEADS_OMITTED]: _erasedOmitted,
    ...fields
  } = unmarshall(item);
  return fromStoredLead({
    traits: {},
    intent: {},
    quarantined: {},
    clickSeconds: {},
    episodes: [],
    ...fields,
    ...(typeof erasureHeldUntil === 'number' ? { erasureHeldUntil } : {}),
  } as unknown as StoredLeadState);
}

/**
 * Converts an event to its item, with the outcome it had under the model
 * `modelVersion` when it was applied.
 */
export function eventToItem(
  leadId: string,
  sourceId: string,
  record: EventRecord,
  expiresAt: number,
  modelVersion: string,
): Item {
  const { event, outcome } = record;
  return marshall(
    {
      [PK]: leadPartition(leadId),
      [SK]: eventSortKey(event.occurredAt, event.messageId),
      entity: 'event',
      leadId,
      sourceId,
      messageId: event.messageId,
      type: event.type,
      occurredAt: event.occurredAt,
      receivedAt: event.receivedAt,
      ruleId: outcome.ruleId,
      points: outcome.points,
      capped: outcome.capped,
      modelVersion,
      quarantine: outcome.quarantine,
      mergedFrom: record.movedFrom,
      event: JSON.stringify(event),
      [TABLE_LAYOUT.timeToLiveAttribute]: expiresAt,
    },
    { removeUndefinedValues: true },
  );
}

export function itemToStoredEvent(item: Item): StoredEvent {
  const fields = unmarshall(item);
  return {
    event: withEventShape(JSON.parse(String(fields.event)) as TrackingEvent),
    sourceId: String(fields.sourceId),
  };
}

export function messageMarkerItem(
  leadId: string,
  sourceId: string,
  messageId: string,
  expiresAt: number,
): Item {
  return marshall({
    [PK]: messagePartition(sourceId, messageId),
    [SK]: MESSAGE_SORT_KEY,
    entity: 'message',
    leadId,
    [TABLE_LAYOUT.timeToLiveAttribute]: expiresAt,
  });
}

export function outboxToItem(
  event: OutgoingEvent,
  dueAt: number,
  shards: number,
): Item {
  return marshall(
    {
      [PK]: ownerPartition(event),
      [SK]: outboxSortKey(event.eventId),
      entity: 'outbox',
      status: 'pending',
      leadId: event.leadId,
      accountId: event.accountId,
      eventId: event.eventId,
      detailType: event.detailType,
      detail: JSON.stringify(event.detail),
      createdAt: event.createdAt,
      attempts: 0,
      [SHARD]: shardOf(event.eventId, shards),
      [REVIEW_AT]: dueAt,
    },
    { removeUndefinedValues: true },
  );
}

export function itemToOutgoing(item: Item): OutgoingEvent {
  const fields = unmarshall(item);
  return {
    eventId: fields.eventId,
    ...(fields.leadId === undefined ? {} : { leadId: fields.leadId }),
    ...(fields.accountId === undefined ? {} : { accountId: fields.accountId }),
    detailType: fields.detailType,
    detail: JSON.parse(fields.detail),
    createdAt: fields.createdAt,
  };
}

/** Returns a stored outbox entry with its status and failure. */
export function itemToOutboxEntry(item: Item): OutboxEntry {
  const fields = unmarshall(item);
  const failed = fields.status === 'failed';
  return {
    event: itemToOutgoing(item),
    status: failed ? 'failed' : 'pending',
    attempts: Number(fields.attempts ?? 0),
    dueAt: failed ? undefined : Number(fields[REVIEW_AT]),
    claimedAt:
      failed || fields.claimedAt === undefined
        ? undefined
        : Number(fields.claimedAt),
    failure: failed
      ? {
          errorCode: String(fields.errorCode),
          errorMessage: String(fields.errorMessage),
          failedAt: Number(fields.failedAt),
        }
      : undefined,
  };
}

/** Returns the partition of the dispositions of one month (`YYYY-MM`). */
export function outcomePartition(month: string): string {
  return `OUTCOMES#${month}`;
}

export function outcomeToItem(outcome: OutcomeRecord): Item {
  const iso = new Date(outcome.at).toISOString();
  return marshall(
    {
      [PK]: outcomePartition(iso.slice(0, 7)),
      [SK]: `${iso}#${outcome.eventId}`,
      entity: 'outcome',
      ...outcome,
    },
    { removeUndefinedValues: true },
  );
}

export function itemToOutcome(item: Item): OutcomeRecord {
  const { [PK]: _pk, [SK]: _sk, entity: _entity, ...fields } = unmarshall(item);
  return fields as OutcomeRecord;
}

export const HISTORY_SORT_PREFIX = 'HISTORY#';

/** Sort key of a history entry: the state version, zero-padded. */
export function historySortKey(version: number): string {
  return `${HISTORY_SORT_PREFIX}${String(version).padStart(12, '0')}`;
}

/**
 * Tells whether a value is a sort key that historySortKey can return: a
 * version of 12 to 16 digits, since versions are safe integers.
 */
export function isHistorySortKey(value: unknown): value is string {
  return typeof value === 'string' && /^HISTORY#\d{12,16}$/.test(value);
}

export function historyToItem(leadId: string, entry: HistoryEntry): Item {
  return marshall(
    {
      [PK]: leadPartition(leadId),
      [SK]: historySortKey(entry.version),
      entity: 'history',
      leadId,
      entry: JSON.stringify(entry),
    },
    { removeUndefinedValues: true },
  );
}

export function itemToHistory(item: Item): HistoryEntry {
  return JSON.parse(String(unmarshall(item).entry)) as HistoryEntry;
}
