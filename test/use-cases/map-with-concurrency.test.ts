import { describe, expect, it } from 'vitest';
import { mapWithConcurrency } from '../../functions/use-cases/concurrency.js';

/** Resolves after `ms` milliseconds. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('mapWithConcurrency', () => {
  it('returns results in input order', async () => {
    const results = await mapWithConcurrency([30, 10, 20], 2, async (ms) => {
      await pause(ms);
      return ms * 2;
    });

    expect(results).toEqual([60, 20, 40]);
  });

  it('waits for running tasks after a failure', async () => {
    const finished: number[] = [];
    const started: number[] = [];
    const failure = new Error('Task 0 failed.');

    const run = mapWithConcurrency([0, 1, 2, 3], 2, async (item) => {
      started.push(item);
      if (item === 0) throw failure;
      await pause(50);
      finished.push(item);
      return item;
    });

    await expect(run).rejects.toBe(failure);
    expect(finished).toEqual([1]);
    expect(started).toEqual([0, 1]);
    await pause(100);
    expect(started).toEqual([0, 1]);
  });

  it('raises the first of several failures', async () => {
    const first = new Error('Task 0 failed.');

    const run = mapWithConcurrency([0, 1], 2, async (item) => {
      await pause(item * 20);
      throw item === 0 ? first : new Error('Task 1 failed.');
    });

    await expect(run).rejects.toBe(first);
  });
});
