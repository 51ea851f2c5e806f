import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  shardOf,
  stateToItem,
} from '../../functions/adapters/dynamodb/items.js';
import { newLead } from '../../functions/domain/lead.js';
import { T0 } from '../fixtures/events.js';
import { testModel } from '../fixtures/models.js';

describe('review index items', () => {
  it('spreads 10,000 lead ids evenly over 16 shards', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 10_000; i += 1) {
      const shard = Number(shardOf(`lead-${i}`, 16));
      counts[shard] = (counts[shard] ?? 0) + 1;
    }

    expect(Math.min(...counts)).toBeGreaterThan(625 * 0.85);
    expect(Math.max(...counts)).toBeLessThan(625 * 1.15);
  });

  it('gives each lead the same shard every time', () => {
    expect(shardOf('lead-42', 16)).toBe(shardOf('lead-42', 16));
  });

  it('leaves a lead with no review out of the index', () => {
    const lead = newLead('quiet', testModel(), T0);
    const item = unmarshall(stateToItem(lead, 16));

    expect(item.reviewShard).toBeUndefined();
    expect(item.reviewAt).toBeUndefined();
  });

  it('puts a lead with a review in its shard', () => {
    const lead = { ...newLead('due', testModel(), T0), nextReviewAt: T0 + 1 };
    const item = unmarshall(stateToItem(lead, 16));

    expect(item.reviewShard).toBe(shardOf('due', 16));
    expect(item.reviewAt).toBe(T0 + 1);
  });
});
