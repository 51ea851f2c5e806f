import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { LeadState } from '../../domain/lead.js';
import type { OutgoingEvent } from '../../domain/outgoing-events.js';
import type { EventRecord, LeadChange } from '../../ports/lead-repository.js';
import {
  accountLinkerToItem,
  accountLinkToItem,
  memberKey,
  memberToItem,
} from './account-items.js';
import {
  ERASURE_HOLD,
  eventKey,
  eventToItem,
  historyToItem,
  linkItem,
  messageMarkerItem,
  outboxToItem,
  outcomeToItem,
  stateKey,
  stateToItem,
} from './items.js';
import { TABLE_LAYOUT } from './table-layout.js';

/**
 * Items of the transactions that store lead changes, with the condition
 * each write carries.
 */

/** Table settings that the items of a lead change depend on. */
export interface ChangeItemSettings {
  tableName: string;
  /** Time raw events and message ids are kept, in ms. */
  retentionMs: number;
  /** Delay before the sweep republishes an outbox entry, in ms. */
  outboxGraceMs: number;
  reviewShards: number;
}

/** Purpose of each item of a lead change transaction, in item order. */
export type ItemRole =
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

/** A lead change with its transaction items, which commit together. */
export interface ChangeItems {
  change: LeadChange;
  items: TransactWriteItem[];
}

/**
 * Returns the items of one lead change's transaction with the role of
 * each, in the same order, so a cancellation can be traced to its item.
 */
export function transactionItems(
  settings: ChangeItemSettings,
  change: LeadChange,
): {
  items: TransactWriteItem[];
  roles: ItemRole[];
} {
  const items: TransactWriteItem[] = [
    statePut(settings, change.expectedVersion, change.state),
  ];
  const roles: ItemRole[] = [{ kind: 'state' }];
  for (const record of change.events) {
    const expiresAt = Math.floor(
      (record.event.receivedAt + settings.retentionMs) / 1000,
    );
    for (const [item, role] of recordItems(
      settings,
      change,
      record,
      expiresAt,
    )) {
      items.push(item);
      roles.push(role);
    }
  }
  for (const event of change.outgoing) {
    items.push(outboxPut(settings, event));
    roles.push({ kind: 'outbox' });
  }
  for (const item of membershipItems(settings, change)) {
    items.push(item);
    roles.push({ kind: 'membership' });
  }
  for (const entry of [change.reviewHistory, change.history]) {
    if (entry === undefined) continue;
    items.push({
      Put: {
        TableName: settings.tableName,
        Item: historyToItem(change.state.leadId, entry),
      },
    });
    roles.push({ kind: 'history' });
  }
  if (change.outcome !== undefined) {
    items.push({
      Put: {
        TableName: settings.tableName,
        Item: outcomeToItem(change.outcome),
      },
    });
    roles.push({ kind: 'outcome' });
  }
  const followed = change.followedTombstone;
  if (followed !== undefined) {
    items.push({
      ConditionCheck: {
        TableName: settings.tableName,
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
    const targetChange = change.mergeTargetChange;
    if (targetChange === undefined) {
      items.push(liveTargetCheck(settings, change.mergeTarget));
      roles.push({ kind: 'target' });
    } else {
      // DynamoDB takes one action per item in a transaction, so the put
      // of the target carries the conditions of liveTargetCheck.
      items.push(
        statePut(
          settings,
          targetChange.expectedVersion,
          targetChange.state,
          true,
        ),
      );
      roles.push({ kind: 'target' });
      for (const entry of [targetChange.reviewHistory, targetChange.history]) {
        if (entry === undefined) continue;
        items.push({
          Put: {
            TableName: settings.tableName,
            Item: historyToItem(targetChange.state.leadId, entry),
          },
        });
        roles.push({ kind: 'history' });
      }
    }
    // Only a write that points the tombstone at its target puts the link,
    // which the check above keeps out of a lead held for erasure. Another
    // write of the tombstone, such as the one that completes its merge,
    // could put it back after an erasure listed the target's items. A
    // later erasure of the target would then erase the lead stored again
    // under the tombstone's id.
    items.push({
      Put: {
        TableName: settings.tableName,
        Item: linkItem(change.mergeTarget, change.state.leadId),
      },
    });
    roles.push({ kind: 'link' });
  }
  return { items, roles };
}

/**
 * Checks that a lead is neither merged into another nor held for
 * erasure. A lead not stored yet passes.
 */
export function liveTargetCheck(
  settings: ChangeItemSettings,
  leadId: string,
): TransactWriteItem {
  return {
    ConditionCheck: {
      TableName: settings.tableName,
      Key: stateKey(leadId),
      ConditionExpression:
        'attribute_not_exists(#mergedInto) AND attribute_not_exists(#hold)',
      ExpressionAttributeNames: {
        '#mergedInto': 'mergedInto',
        '#hold': ERASURE_HOLD,
      },
    },
  };
}

export function outboxPut(
  settings: ChangeItemSettings,
  event: OutgoingEvent,
): TransactWriteItem {
  const dueAt = event.createdAt + settings.outboxGraceMs;
  return {
    Put: {
      TableName: settings.tableName,
      Item: outboxToItem(event, dueAt, settings.reviewShards),
    },
  };
}

function membershipItems(
  settings: ChangeItemSettings,
  change: LeadChange,
): TransactWriteItem[] {
  const items: TransactWriteItem[] = [];
  const { put, remove } = change.membership ?? {};
  if (remove !== undefined && remove.accountId !== put?.accountId) {
    items.push({
      Delete: {
        TableName: settings.tableName,
        Key: memberKey(remove.accountId, remove.leadId),
      },
    });
  }
  if (put !== undefined) {
    items.push({
      Put: { TableName: settings.tableName, Item: memberToItem(put) },
    });
  }
  if (put?.linkedAccountId !== undefined) {
    items.push(
      {
        Put: {
          TableName: settings.tableName,
          Item: accountLinkToItem(put.linkedAccountId, put.accountId),
        },
      },
      {
        Put: {
          TableName: settings.tableName,
          Item: accountLinkerToItem(
            put.linkedAccountId,
            put.accountId,
            put.intentAt,
          ),
        },
      },
    );
  }
  return items;
}

/**
 * Returns the items that store one event: a message marker that fails
 * on a duplicate and the event, or for a moved event, the event and the
 * deletion of its old copy, which fails when another writer moved it.
 */
function recordItems(
  settings: ChangeItemSettings,
  change: LeadChange,
  record: EventRecord,
  expiresAt: number,
): Array<[TransactWriteItem, ItemRole]> {
  const { leadId } = change.state;
  const { messageId } = record.event;
  const sourceId = record.sourceId ?? change.sourceId;
  const eventPut: TransactWriteItem = {
    Put: {
      TableName: settings.tableName,
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
        TableName: settings.tableName,
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
      TableName: settings.tableName,
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
 * for its erasure takes no change until the erasure ends, even after the
 * hold's time has passed, so no writer changes a lead that an erasure
 * has partly deleted. With `requireUnmerged` the put also fails on a
 * tombstone. A lead not stored yet has neither.
 */
function statePut(
  settings: ChangeItemSettings,
  expectedVersion: number,
  state: LeadState,
  requireUnmerged = false,
): TransactWriteItem {
  const isNew = expectedVersion === 0;
  const item = stateToItem(state, settings.reviewShards);
  if (isNew) {
    return {
      Put: {
        TableName: settings.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': TABLE_LAYOUT.partitionKey },
      },
    };
  }
  const incarnation = incarnationCondition(state);
  const unmerged = requireUnmerged
    ? ' AND attribute_not_exists(#mergedInto)'
    : '';
  return {
    Put: {
      TableName: settings.tableName,
      Item: item,
      ConditionExpression: `#version = :expected AND ${incarnation.expression} AND attribute_not_exists(#hold)${unmerged}`,
      ExpressionAttributeNames: {
        '#version': 'version',
        '#hold': ERASURE_HOLD,
        ...(requireUnmerged ? { '#mergedInto': 'mergedInto' } : {}),
        ...incarnation.names,
      },
      ExpressionAttributeValues: marshall({
        ':expected': expectedVersion,
        ...incarnation.values,
      }),
    },
  };
}

/**
 * Returns the condition that the stored lead is the incarnation `state`
 * was read from. A lead with `incarnationId` is matched by it. An older
 * lead is matched by its createdAt and by having no `incarnationId`, so
 * a writer that read it cannot overwrite a lead stored again after its
 * erasure, even one first written in the same millisecond.
 */
export function incarnationCondition(state: LeadState): {
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
