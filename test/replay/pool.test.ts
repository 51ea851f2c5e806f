import { describe, expect, it } from 'vitest';
import { forEachConcurrently } from '../../scripts/replay/pool.js';

async function* numbers(count: number, read: number[]): AsyncGenerator<number> {
  for (let n = 0; n < count; n += 1) {
    read.push(n);
    yield n;
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('forEachConcurrently', () => {
  it('runs at most limit tasks at once', async () => {
    let running = 0;
    let maxRunning = 0;
    const done: number[] = [];

    await forEachConcurrently(numbers(20, []), 3, async (n) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await tick();
      running -= 1;
      done.push(n);
    });

    expect(maxRunning).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  it('stops reading after a task fails', async () => {
    const read: number[] = [];
    const run = forEachConcurrently(numbers(100, read), 2, async (n) => {
      await tick();
      if (n === 3) throw new Error('task 3 failed');
    });

    await expect(run).rejects.toThrow('task 3 failed');
    expect(read.length).toBeLessThan(10);
  });
});
