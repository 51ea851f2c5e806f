import type {
  AttributeValue,
  TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { TABLE_LAYOUT } from './table-layout.js';

/** Actions per TransactWriteItems request that DynamoDB accepts. */
export const MAX_TRANSACTION_ITEMS = 100;
/**
 * Bytes of estimated item data per transaction. DynamoDB caps the items
 * of one transaction at 4 MB in aggregate, and this value stays below
 * that whether a megabyte is 10^6 or 2^20 bytes.
 */
export const MAX_TRANSACTION_BYTES = 4_000_000;

/** Limits of one transaction, in actions and estimated bytes. */
export interface TransactionLimits {
  maxItems: number;
  maxBytes: number;
}

const DEFAULT_LIMITS: TransactionLimits = {
  maxItems: MAX_TRANSACTION_ITEMS,
  maxBytes: MAX_TRANSACTION_BYTES,
};

/**
 * Splits units of transaction items, each of which must commit as a
 * whole, into groups that one TransactWriteItems request can hold. A
 * group has at most `maxItems` actions and `maxBytes` of estimated size,
 * and no two actions on the same item, because DynamoDB rejects that.
 * Units keep their order and are never split. A unit that alone exceeds
 * a limit gets a group of its own, which DynamoDB rejects as it would
 * reject that unit sent alone.
 */
export function groupTransactions<Unit extends { items: TransactWriteItem[] }>(
  units: readonly Unit[],
  limits: TransactionLimits = DEFAULT_LIMITS,
): Unit[][] {
  const groups: Unit[][] = [];
  let group: Unit[] = [];
  let items = 0;
  let bytes = 0;
  let keys = new Set<string>();
  for (const unit of units) {
    const unitBytes = unit.items.reduce(
      (sum, item) => sum + estimatedSize(item),
      0,
    );
    const unitKeys = unit.items.map(itemKey);
    const fits =
      items + unit.items.length <= limits.maxItems &&
      bytes + unitBytes <= limits.maxBytes &&
      !unitKeys.some((key) => keys.has(key));
    if (!fits && group.length > 0) {
      groups.push(group);
      group = [];
      items = 0;
      bytes = 0;
      keys = new Set();
    }
    group.push(unit);
    items += unit.items.length;
    bytes += unitBytes;
    for (const key of unitKeys) keys.add(key);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * Estimates an action's size as the UTF-8 length of its JSON, which
 * counts the item's attribute names and values as DynamoDB does, plus
 * type tags, quotes, key and condition, so it never undercounts.
 */
export function estimatedSize(item: TransactWriteItem): number {
  return Buffer.byteLength(JSON.stringify(item), 'utf8');
}

/** Returns the table and primary key of the item an action writes. */
function itemKey(item: TransactWriteItem): string {
  const action = item.Put ?? item.Delete ?? item.Update ?? item.ConditionCheck;
  const key: Record<string, AttributeValue> | undefined =
    item.Put?.Item ??
    item.Delete?.Key ??
    item.Update?.Key ??
    item.ConditionCheck?.Key;
  const { partitionKey, sortKey } = TABLE_LAYOUT;
  return JSON.stringify([
    action?.TableName,
    key?.[partitionKey],
    key?.[sortKey],
  ]);
}
