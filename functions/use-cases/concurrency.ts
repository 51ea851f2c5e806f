/**
 * Runs `task` over the items with at most `limit` running at once and
 * returns the results in input order.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index] as T, index);
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, worker);
  await Promise.all(workers);
  return results;
}

/** Waits a random time up to `capMs` ("full jitter" backoff). */
export function sleepWithJitter(capMs: number): Promise<void> {
  const delay = Math.random() * capMs;
  return new Promise((resolve) => setTimeout(resolve, delay));
}
