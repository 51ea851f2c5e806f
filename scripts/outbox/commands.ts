import { MAX_REVIEW_SHARDS } from '../../functions/adapters/dynamodb/table-layout.js';
import type { OutboxEntry } from '../../functions/ports/lead-repository.js';
import { mapWithConcurrency } from '../../functions/use-cases/concurrency.js';
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

/** Review index shards that `list --pending` queries at once. */
const SHARD_CONCURRENCY = 16;

/** Entries that a command took, and whether --limit left any out. */
export interface OutboxListing {
  entries: OutboxEntry[];
  /** Whether more entries remain beyond `limit`. */
  more: boolean;
}

/**
 * Returns the failed entries, and with `pending` the pending ones after
 * them, at most `limit` in all (every entry when it is undefined). It
 * reads one entry beyond `limit` to know whether more remain.
 */
export async function listOutbox(
  deps: OutboxDependencies,
  pending: boolean,
  limit?: number,
): Promise<OutboxListing> {
  const max = limit === undefined ? Number.POSITIVE_INFINITY : limit + 1;
  const entries = await listFailed(deps, max);
  if (pending && entries.length < max) {
    entries.push(...(await listPending(deps, max - entries.length)));
  }
  return withinLimit(entries, limit);
}

function withinLimit(
  entries: OutboxEntry[],
  limit: number | undefined,
): OutboxListing {
  if (limit === undefined || entries.length <= limit) {
    return { entries, more: false };
  }
  return { entries: entries.slice(0, limit), more: true };
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
 * Reads up to `max` pending entries from every review index shard that a
 * stage may have (0 to MAX_REVIEW_SHARDS - 1), in shard order, so no
 * entry is missed whatever the stage's shard count. Empty shards cost one
 * query each.
 */
async function listPending(
  deps: OutboxDependencies,
  max: number,
): Promise<OutboxEntry[]> {
  const entries: OutboxEntry[] = [];
  for (
    let first = 0;
    first < MAX_REVIEW_SHARDS && entries.length < max;
    first += SHARD_CONCURRENCY
  ) {
    const shards = Array.from(
      { length: Math.min(SHARD_CONCURRENCY, MAX_REVIEW_SHARDS - first) },
      (_, index) => first + index,
    );
    const found = await mapWithConcurrency(shards, SHARD_CONCURRENCY, (shard) =>
      listPendingOfShard(deps, shard, max),
    );
    entries.push(...found.flat());
  }
  return entries.slice(0, max);
}

/**
 * Reads up to `max` pending entries of one shard. Leads due there are
 * skipped, so pages keep their full size even for a small `max`.
 */
async function listPendingOfShard(
  deps: OutboxDependencies,
  shard: number,
  max: number,
): Promise<OutboxEntry[]> {
  const { repository } = deps;
  const entries: OutboxEntry[] = [];
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
      const entry = await repository.getOutboxEntry(item.leadId, item.eventId);
      if (entry?.status === 'pending') entries.push(entry);
      if (entries.length >= max) return entries;
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
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

/** Outcomes of a retry, and whether --limit left failed entries out. */
export interface RetryRun {
  outcomes: RetryOutcome[];
  /** Whether more failed entries remain beyond `limit`. */
  more: boolean;
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
): Promise<RetryRun> {
  const { entries, more } =
    target === 'all'
      ? await listOutbox(deps, false, limit)
      : {
          entries: [await showOutboxEntry(deps, target.leadId, target.eventId)],
          more: false,
        };
  const outcomes: RetryOutcome[] = [];
  for (const entry of entries) {
    outcomes.push(await retryEntry(deps, entry));
  }
  return { outcomes, more };
}

async function retryEntry(
  deps: OutboxDependencies,
  entry: OutboxEntry,
): Promise<RetryOutcome> {
  const { leadId, accountId, eventId } = entry.event;
  const owner = { leadId, accountId };
  // A retry that publishes at once keeps the entry from the sweep and
  // erasures for the grace period, as a request does with the entries it
  // stores, so that they do not publish it too. Should the publish fail
  // with a retryable error, the entry is made due at once.
  const dueAt =
    deps.publisher === undefined
      ? deps.clock()
      : deps.clock() + deps.repository.outboxGraceMs;
  const requeued = await deps.repository.requeueOutboxEntry(
    owner,
    eventId,
    dueAt,
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
const SUMMARY_PARTS: ReadonlyArray<[RetryOutcome['result'], string, string]> = [
  ['published', 'published', 'published'],
  ['failed', 'failed again', 'failed again'],
  ['requeued', 'pending for the next sweep', 'pending for the next sweep'],
  [
    'pending',
    'left pending after a retryable error',
    'left pending after retryable errors',
  ],
  [
    'skipped',
    'skipped because it was no longer failed',
    'skipped because they were no longer failed',
  ],
];

/**
 * Returns the summary line of a retry, such as `2 outbox entries
 * retried: 1 published, 1 failed again`. The published and failed
 * counts are always given, the others when they are not zero.
 */
export function retrySummary(outcomes: readonly RetryOutcome[]): string {
  const parts = SUMMARY_PARTS.flatMap(([result, singular, plural]) => {
    const count = outcomes.filter(
      (outcome) => outcome.result === result,
    ).length;
    const always = result === 'published' || result === 'failed';
    return count > 0 || always ? [countOf(count, singular, plural)] : [];
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
