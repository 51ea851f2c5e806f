import type { OutboxEntry } from '../../functions/ports/lead-repository.js';
import type { ScoringDependencies } from '../../functions/use-cases/dependencies.js';
import { publishEvents } from '../../functions/use-cases/publish-events.js';
import { ReplayError } from '../replay/errors.js';

/** Dependencies of the commands; `publisher` is set only with --bus. */
export type OutboxDependencies = Pick<
  ScoringDependencies,
  'repository' | 'clock' | 'log'
> & { publisher: ScoringDependencies['publisher'] | undefined };

/** An outbox entry that the command names does not exist. */
export class OutboxEntryNotFoundError extends ReplayError {
  constructor(leadId: string, eventId: string) {
    super(
      'outbox-entry-not-found',
      `No outbox entry ${eventId} of lead ${leadId}: it was published or the ids are wrong. Run \`npm run outbox -- list\` to see failed entries.`,
    );
  }
}

/** Returns the line `list` prints: the entry without its detail. */
export function summaryOf(entry: OutboxEntry): Record<string, unknown> {
  return {
    status: entry.status,
    leadId: entry.event.leadId,
    eventId: entry.event.eventId,
    detailType: entry.event.detailType,
    createdAt: new Date(entry.event.createdAt).toISOString(),
    attempts: entry.attempts,
    ...(entry.dueAt === undefined
      ? {}
      : { dueAt: new Date(entry.dueAt).toISOString() }),
    ...(entry.failure === undefined
      ? {}
      : {
          errorCode: entry.failure.errorCode,
          errorMessage: entry.failure.errorMessage,
          failedAt: new Date(entry.failure.failedAt).toISOString(),
        }),
  };
}

/** Outbox entries read per query. */
export const OUTBOX_PAGE_SIZE = 100;

/**
 * Returns the failed entries, and with `pending` the pending ones after
 * them, at most `limit` in all (every entry when it is undefined).
 */
export async function listOutbox(
  deps: OutboxDependencies,
  pending: boolean,
  limit?: number,
): Promise<OutboxEntry[]> {
  const max = limit ?? Number.POSITIVE_INFINITY;
  const entries = await listFailed(deps, max);
  if (pending && entries.length < max) {
    entries.push(...(await listPending(deps, max - entries.length)));
  }
  return entries;
}

async function listFailed(
  deps: OutboxDependencies,
  max: number,
): Promise<OutboxEntry[]> {
  const entries: OutboxEntry[] = [];
  let cursor: string | undefined;
  do {
    const pageSize = Math.min(max - entries.length, OUTBOX_PAGE_SIZE);
    const page = await deps.repository.listFailedOutbox(pageSize, cursor);
    entries.push(...page.entries.slice(0, max - entries.length));
    cursor = page.cursor;
  } while (cursor !== undefined && entries.length < max);
  return entries;
}

/**
 * Reads the review index shard by shard, up to `max` pending entries.
 * Leads due there are skipped, so pages keep their full size even for a
 * small `max`.
 */
async function listPending(
  deps: OutboxDependencies,
  max: number,
): Promise<OutboxEntry[]> {
  const { repository } = deps;
  const entries: OutboxEntry[] = [];
  for (let shard = 0; shard < repository.reviewShards; shard += 1) {
    let cursor: string | undefined;
    do {
      const page = await repository.listDue(
        shard,
        Number.MAX_SAFE_INTEGER,
        OUTBOX_PAGE_SIZE,
        cursor,
      );
      for (const item of page.items) {
        if (item.kind !== 'outbox') continue;
        const entry = await repository.getOutboxEntry(
          item.leadId,
          item.eventId,
        );
        if (entry?.status === 'pending') entries.push(entry);
        if (entries.length >= max) return entries;
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
  }
  return entries;
}

/** Returns one entry; raises OutboxEntryNotFoundError when it is gone. */
export async function showOutboxEntry(
  deps: OutboxDependencies,
  leadId: string,
  eventId: string,
): Promise<OutboxEntry> {
  const entry = await deps.repository.getOutboxEntry(leadId, eventId);
  if (entry === undefined) {
    throw new OutboxEntryNotFoundError(leadId, eventId);
  }
  return entry;
}

/** Result of retrying one failed entry. */
export interface RetryOutcome {
  /** Owner of the entry: a lead, or an account for account events. */
  leadId?: string;
  accountId?: string;
  eventId: string;
  /**
   * `requeued`: pending again for the next sweep. `published`: the bus
   * accepted it now. `failed`: the bus rejected it again and it is failed
   * again. `pending`: a retryable error, left for the sweep. `skipped`:
   * the entry was not failed (already retried or published).
   */
  result: 'requeued' | 'published' | 'failed' | 'pending' | 'skipped';
}

/**
 * Makes failed entries pending again, due now, so the next sweep
 * publishes them; with a publisher, publishes them at once. With 'all',
 * retries at most `limit` failed entries (every one when it is
 * undefined), the earliest failed first.
 */
export async function retryOutbox(
  deps: OutboxDependencies,
  target: { leadId: string; eventId: string } | 'all',
  limit?: number,
): Promise<RetryOutcome[]> {
  const entries =
    target === 'all'
      ? await listFailed(deps, limit ?? Number.POSITIVE_INFINITY)
      : [await showOutboxEntry(deps, target.leadId, target.eventId)];
  const outcomes: RetryOutcome[] = [];
  for (const entry of entries) {
    outcomes.push(await retryEntry(deps, entry));
  }
  return outcomes;
}

async function retryEntry(
  deps: OutboxDependencies,
  entry: OutboxEntry,
): Promise<RetryOutcome> {
  const { leadId, accountId, eventId } = entry.event;
  const owner = { leadId, accountId };
  const requeued = await deps.repository.requeueOutboxEntry(
    owner,
    eventId,
    deps.clock(),
  );
  if (!requeued) return { ...owner, eventId, result: 'skipped' };
  if (deps.publisher === undefined) {
    return { ...owner, eventId, result: 'requeued' };
  }
  const summary = await publishEvents(
    { ...deps, publisher: deps.publisher } as ScoringDependencies,
    [entry.event],
  );
  const result =
    summary.published > 0
      ? 'published'
      : summary.failed > 0
        ? 'failed'
        : 'pending';
  return { ...owner, eventId, result };
}

/** Outcomes of a retry, in the order the summary names them. */
const SUMMARY_PARTS: ReadonlyArray<[RetryOutcome['result'], string]> = [
  ['published', 'published'],
  ['failed', 'failed again'],
  ['requeued', 'pending for the next sweep'],
  ['pending', 'left pending after a retryable error'],
  ['skipped', 'skipped because they were no longer failed'],
];

/**
 * Returns the summary line of a retry, such as `2 outbox entries
 * retried: 1 published, 1 failed again`. The published and failed
 * counts are always given, the others when they are not zero.
 */
export function retrySummary(outcomes: readonly RetryOutcome[]): string {
  const parts = SUMMARY_PARTS.flatMap(([result, label]) => {
    const count = outcomes.filter(
      (outcome) => outcome.result === result,
    ).length;
    const always = result === 'published' || result === 'failed';
    return count > 0 || always ? [`${count} ${label}`] : [];
  });
  return `${countOf(outcomes.length, 'outbox entry', 'outbox entries')} retried: ${parts.join(', ')}`;
}

/**
 * Returns what `retry` writes to stderr after its outcomes, and its exit
 * code: 1 when the bus rejected any entry again, so a script notices
 * entries that stay failed.
 */
export function retryReport(outcomes: readonly RetryOutcome[]): {
  lines: string[];
  exitCode: number;
} {
  const failed = outcomes.filter((outcome) => outcome.result === 'failed');
  const lines = [retrySummary(outcomes)];
  if (failed.length === 0) return { lines, exitCode: 0 };
  lines.push(
    `outbox: ${countOf(failed.length, 'entry', 'entries')} failed again; ` +
      '`npm run outbox -- list` shows the error of each.',
  );
  return { lines, exitCode: 1 };
}

/** Returns `count` with the singular or plural noun, such as `1 entry`. */
export function countOf(
  count: number,
  singular: string,
  plural: string,
): string {
  return `${count} ${count === 1 ? singular : plural}`;
}
