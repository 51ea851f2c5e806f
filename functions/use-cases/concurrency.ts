/**
 * Runs `task` over the items with at most `limit` running at once and
 * returns the results in input order. When a task fails, no further task
 * starts, and the first error is raised once the running tasks have
 * settled. So no task writes after the call returned, which in Lambda
 * would happen during a later invocation.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const index = next;
      next += 1;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, worker);
  await Promise.all(workers);
  if (failure !== undefined) throw failure.error;
  return results;
}

/** Waits a random time up to `capMs` ("full jitter" backoff). */
export function sleepWithJitter(capMs: number): Promise<void> {
  const delay = Math.random() * capMs;
  return new Promise((resolve) => setTimeout(resolve, delay));
}
