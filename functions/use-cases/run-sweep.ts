import { accountIdForLog } from '../domain/account.js';
import type { OutgoingEvent } from '../domain/outgoing-events.js';
import type { DueItem } from '../ports/lead-repository.js';
import { checkAccounts } from './check-accounts.js';
import { mapWithConcurrency } from './concurrency.js';
import type { ScoringDependencies } from './dependencies.js';
import { publishEvents } from './publish-events.js';
import { emptyReviewCounts, reviewLeads } from './review-leads.js';

const PAGE_SIZE = 100;
/**
 * Shards read at once, and account and outbox items of one page processed
 * at once. Each item waits on DynamoDB most of its time, so up to 32 items
 * are in flight, next to the due leads' grouped transactions (up to 4 per
 * shard). Requests beyond the 50 sockets of the AWS SDK's default HTTP
 * agent wait for a free socket.
 */
const SHARD_CONCURRENCY = 8;
const ITEM_CONCURRENCY = 4;
/** First retry delay of an outbox entry; doubled per attempt. */
const OUTBOX_RETRY_BASE_MS = 30_000;
const OUTBOX_RETRY_MAX_MS = 3_600_000;

/** Limits of one sweep run. */
export interface SweepOptions {
  /** Time to evaluate at, epoch ms. */
  now: number;
  /**
   * Stop starting new pages and items after this time, epoch ms. An
   * erasure that the run finishes stops at it between two deletes.
   */
  deadline: number;
}

/** Counts reported by one sweep run. */
export interface SweepResult {
  /** Due items read from the review index. */
  read: number;
  leadsChanged: number;
  transitions: number;
  /** Transitions to MQL, a subset of `transitions`. */
  qualified: number;
  /** Transitions to recycled, a subset of `transitions`. */
  recycled: number;
  published: number;
  pending: number;
  /** Events rejected for good and kept as failed outbox entries. */
  failed: number;
  /** Outbox entries this run found unpublished after their grace period. */
  outboxPending: number;
  /** Age of the oldest of those entries since it was written, in ms. */
  oldestOutboxAgeMs: number;
  /** Whether due items were left for the next run. */
  incomplete: boolean;
}

/**
 * Evaluates every lead and outbox entry due by `now`, reading only the
 * sparse review index, so the cost follows the number of due items and not
 * the size of the table. Stops at the deadline, checked before each page
 * and each item, and leaves the rest due for the next run. The due leads
 * of a page are read in one batch and written several per transaction,
 * each under its version condition. So an ingest that changes a lead
 * first makes the sweep read that lead again, and overlapping runs
 * publish each transition once.
 */
export async function runSweep(
  deps: ScoringDependencies,
  options: SweepOptions,
): Promise<SweepResult> {
  const shards = Array.from(
    { length: deps.repository.reviewShards },
    (_, shard) => shard,
  );
  const results = await mapWithConcurrency(shards, SHARD_CONCURRENCY, (shard) =>
    sweepShard(deps, shard, options),
  );
  const total = results.reduce(addResults, emptyResult());
  deps.log.info('sweep finished', { ...total });
  return total;
}

async function sweepShard(
  deps: ScoringDependencies,
  shard: number,
  options: SweepOptions,
): Promise<SweepResult> {
  const result = emptyResult();
  // Work not started before the deadline keeps its review time, so it
  // stays due for the next run.
  let stopped = false;
  const mayStart = () => {
    stopped ||= deps.clock() >= options.deadline;
    if (stopped) result.incomplete = true;
    return !stopped;
  };
  let cursor: string | undefined;
  do {
    if (!mayStart()) break;
    const page = await deps.repository.listDue(
      shard,
      options.now,
      PAGE_SIZE,
      cursor,
    );
    result.read += page.items.length;
    const leadIds = page.items.flatMap((item) =>
      item.kind === 'lead' ? [item.leadId] : [],
    );
    const others = page.items.filter((item) => item.kind !== 'lead');
    await Promise.all([
      reviewLeads(deps, leadIds, options, result, mayStart),
      mapWithConcurrency(others, ITEM_CONCURRENCY, async (item) => {
        if (!mayStart()) return;
        await processDueItem(deps, item, options.now, result);
      }),
    ]);
    if (stopped) break;
    cursor = page.cursor;
  } while (cursor !== undefined);
  return result;
}

async function processDueItem(
  deps: ScoringDependencies,
  item: Exclude<DueItem, { kind: 'lead' }>,
  now: number,
  result: SweepResult,
): Promise<void> {
  try {
    if (item.kind === 'account') {
      const events = await checkAccounts(deps, [item.accountId], now);
      const published = await publishEvents(deps, events);
      result.published += published.published;
      result.pending += published.pending;
    } else {
      await republish(deps, item, now, result);
    }
  } catch (error) {
    result.incomplete = true;
    deps.log.error('sweep item failed', {
      error,
      kind: item.kind,
      ...(item.kind === 'account'
        ? { accountId: accountIdForLog(item.accountId) }
        : { leadId: item.leadId }),
    });
  }
}

async function republish(
  deps: ScoringDependencies,
  item: Extract<DueItem, { kind: 'outbox' }>,
  now: number,
  result: SweepResult,
): Promise<void> {
  const retryAt =
    now +
    Math.min(OUTBOX_RETRY_MAX_MS, OUTBOX_RETRY_BASE_MS * 2 ** item.attempts);
  const event: OutgoingEvent | undefined =
    await deps.repository.claimOutboxEntry(
      item.accountId === undefined
        ? { leadId: item.leadId }
        : { accountId: item.accountId },
      item.eventId,
      {
        dueAt: item.dueAt,
        attempts: item.attempts + 1,
        retryAt,
        claimedAt: now,
      },
    );
  if (event === undefined) {
    return;
  }
  // NOTE: entries still waiting out their backoff are not read, so the
  // age is measured when an entry comes due, up to one hour late.
  result.outboxPending += 1;
  result.oldestOutboxAgeMs = Math.max(
    result.oldestOutboxAgeMs,
    now - event.createdAt,
  );
  const published = await publishEvents(deps, [event], { claimedAt: now });
  result.published += published.published;
  result.pending += published.pending;
  result.failed += published.failed;
}

function emptyResult(): SweepResult {
  return {
    read: 0,
    ...emptyReviewCounts(),
    outboxPending: 0,
    oldestOutboxAgeMs: 0,
  };
}

function addResults(a: SweepResult, b: SweepResult): SweepResult {
  return {
    read: a.read + b.read,
    leadsChanged: a.leadsChanged + b.leadsChanged,
    transitions: a.transitions + b.transitions,
    qualified: a.qualified + b.qualified,
    recycled: a.recycled + b.recycled,
    published: a.published + b.published,
    pending: a.pending + b.pending,
    failed: a.failed + b.failed,
    outboxPending: a.outboxPending + b.outboxPending,
    oldestOutboxAgeMs: Math.max(a.oldestOutboxAgeMs, b.oldestOutboxAgeMs),
    incomplete: a.incomplete || b.incomplete,
  };
}
