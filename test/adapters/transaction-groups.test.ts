import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  estimatedSize,
  groupTransactions,
  MAX_TRANSACTION_BYTES,
} from '../../functions/adapters/dynamodb/transaction-groups.js';

/** Returns a put of item `sk` in lead `leadId`'s partition, padded. */
function put(leadId: string, sk: string, padding = 0): TransactWriteItem {
  return {
    Put: {
      TableName: 'leads',
      Item: {
        PK: { S: `LEAD#${leadId}` },
        SK: { S: sk },
        ...(padding > 0 ? { payload: { S: 'x'.repeat(padding) } } : {}),
      },
    },
  };
}

/** Returns a unit of `count` items of one lead, each padded. */
function unit(leadId: string, count: number, padding = 0) {
  return {
    leadId,
    items: Array.from({ length: count }, (_, i) =>
      put(leadId, `ITEM#${i}`, padding),
    ),
  };
}

const ids = (groups: { leadId: string }[][]) =>
  groups.map((group) => group.map((u) => u.leadId));

describe('groupTransactions', () => {
  it('fills groups up to 100 items without splitting a unit', () => {
    const units = Array.from({ length: 40 }, (_, i) => unit(`l${i}`, 3));

    const groups = groupTransactions(units);

    const sizes = groups.map((g) => g.reduce((n, u) => n + u.items.length, 0));
    expect(sizes).toEqual([99, 21]);
    expect(groups.flat()).toEqual(units);
  });

  it('starts a new group before the byte limit', () => {
    // Each unit is just over a quarter of the limit, so three fit.
    const padding = Math.ceil(MAX_TRANSACTION_BYTES / 4);
    const units = ['a', 'b', 'c', 'd', 'e'].map((id) => unit(id, 1, padding));

    const groups = groupTransactions(units);

    expect(ids(groups)).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    for (const group of groups) {
      const bytes = group.reduce(
        (sum, u) => sum + estimatedSize(u.items[0] as TransactWriteItem),
        0,
      );
      expect(bytes).toBeLessThanOrEqual(MAX_TRANSACTION_BYTES);
    }
  });

  it('keeps two writes of one item apart', () => {
    const shared = put('account', 'LINK');
    const units = [
      { leadId: 'a', items: [put('a', 'STATE'), shared] },
      { leadId: 'b', items: [put('b', 'STATE')] },
      { leadId: 'c', items: [put('c', 'STATE'), shared] },
    ];

    expect(ids(groupTransactions(units))).toEqual([['a', 'b'], ['c']]);
  });

  it('gives a unit over the limits a group of its own', () => {
    const units = [unit('small', 2), unit('large', 120), unit('next', 2)];

    expect(ids(groupTransactions(units))).toEqual([
      ['small'],
      ['large'],
      ['next'],
    ]);
  });

  it('counts an item larger in UTF-8 than in characters', () => {
    const ascii = put('a', 'STATE');
    const accented = put('a', 'STATÉ');

    expect(estimatedSize(accented)).toBe(estimatedSize(ascii) + 1);
  });
});
