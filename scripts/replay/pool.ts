/**
 * Runs `task` for each item of an async iterable with at most `limit`
 * tasks running at once. The next item is read only when a task slot is
 * free, so a large input is never read ahead.
 *
 * @throws the first error a task raises, after the running tasks settle;
 *   no new task starts after an error.
 */
export async function forEachConcurrently<T>(
  items: AsyncIterable<T>,
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for await (const item of items) {
    const run: Promise<void> = task(item)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => running.delete(run));
    running.add(run);
    if (running.size >= limit) {
      await Promise.race(running);
    }
    if (failure !== undefined) break;
  }
  await Promise.all(running);
  if (failure !== undefined) {
    throw failure.error;
  }
}
