import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ConcurrencyError } from '../../../functions/domain/errors.js';
import type { TrackingEvent } from '../../../functions/domain/messages.js';
import type { LeadChange } from '../../../functions/ports/lead-repository.js';
import { sleepWithJitter } from '../../../functions/use-cases/concurrency.js';
import { ingestMessages } from '../../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../../functions/use-cases/run-sweep.js';
import type { TestTable } from '../../support/aws.js';
import type { realDependencies } from '../../support/dependencies.js';
import { holdNextCall } from '../../support/held-call.js';

/** The use cases' dependencies on a fresh table and bus, as tests build. */
export type RaceSetup = Awaited<ReturnType<typeof realDependencies>>;

/** One table item, unmarshalled. */
export type TableItem = Record<string, unknown>;

/** Reads every item of the test table (tables are small in these tests). */
export async function scanTable(setup: {
  table: TestTable;
}): Promise<TableItem[]> {
  const items: TableItem[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await setup.table.client.send(
      new ScanCommand({
        TableName: setup.table.tableName,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start !== undefined);
  return items;
}

/** Reads every stored event of a lead, oldest first, page by page. */
export async function storedEvents(
  setup: RaceSetup,
  leadId: string,
): Promise<TrackingEvent[]> {
  const events: TrackingEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await setup.repository.listEvents(leadId, 100, cursor);
    events.push(...page.events.map((stored) => stored.event));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return events;
}

/** Ingests messages from the `web` source at the setup's clock. */
export function ingestFromWeb(setup: RaceSetup, messages: unknown[]) {
  return ingestMessages(setup.deps, {
    sourceId: 'web',
    messages,
    receivedAt: setup.clock.now,
  });
}

/**
 * Ingests messages from the `web` source at the setup's clock, retried
 * after a ConcurrencyError as a tracking client retries a 503.
 */
export function ingestRetrying(setup: RaceSetup, messages: unknown[]) {
  return retryingConflicts(() => ingestFromWeb(setup, messages));
}

/** Runs one sweep at `now` (the setup's clock unless given), no deadline. */
export function sweepAt(setup: RaceSetup, now = setup.clock.now) {
  return runSweep(setup.deps, { now, deadline: Number.POSITIVE_INFINITY });
}

/**
 * Advances the clock past the outbox grace period and runs a sweep, which
 * publishes what the requests left in the outbox.
 */
export async function sweepAfterGrace(setup: RaceSetup) {
  setup.clock.advance(2 * 60_000);
  await sweepAt(setup);
}

/** Holds the next lead write whose source is `sourceId` before it runs. */
export function holdWrite(setup: RaceSetup, sourceId: string) {
  return holdNextCall(setup.repository, 'saveLeadChange', {
    when: 'before',
    matches: (change: LeadChange) => change.sourceId === sourceId,
  });
}

/**
 * Runs `task` again after a ConcurrencyError (a 503 with Retry-After), as
 * a tracking client or an operator does, up to `attempts` times.
 */
export async function retryingConflicts<T>(
  task: () => Promise<T>,
  attempts = 10,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await task();
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= attempts) {
        throw error;
      }
      await sleepWithJitter(50);
    }
  }
}

/**
 * Returns the number of randomized rounds a race test runs: `rounds` in
 * `npm test`, or RACE_ROUNDS for a longer search
 * (`RACE_ROUNDS=50 npx vitest run test/races`). Each round draws its
 * order of steps and delays from its own seed; how the steps interleave
 * still depends on timing.
 */
export function raceRounds(rounds: number): number {
  const requested = Number(process.env.RACE_ROUNDS);
  return Number.isInteger(requested) && requested > 0 ? requested : rounds;
}

/** Waits a random time below `maxMs`, drawn from a seeded generator. */
export function pause(random: () => number, maxMs: number): Promise<void> {
  const delay = Math.floor(random() * maxMs);
  return new Promise((resolve) => setTimeout(resolve, delay));
}

/** Shuffles a copy of `items` with a seeded generator. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

/**
 * Lists every way the table breaks the guarantees that hold once no
 * request is running. A live lead counts exactly the events stored under
 * it. Every event has its message marker and every marker one event. A
 * tombstone points at a stored lead and is not part of a cycle. Every
 * membership item matches its lead's state. No history, link or outbox
 * item outlives its lead. Returns one line per violation.
 */
export function tableViolations(items: readonly TableItem[]): string[] {
  const violations: string[] = [];
  const states = new Map<string, TableItem>();
  const byPartition = new Map<string, TableItem[]>();
  for (const item of items) {
    const partition = String(item.PK);
    const list = byPartition.get(partition) ?? [];
    list.push(item);
    byPartition.set(partition, list);
    if (item.entity === 'lead') states.set(String(item.leadId), item);
  }
  checkLeadPartitions(byPartition, states, violations);
  checkMarkers(items, violations);
  checkTombstones(states, violations);
  checkMembers(items, states, violations);
  return violations;
}

function checkLeadPartitions(
  byPartition: ReadonlyMap<string, TableItem[]>,
  states: ReadonlyMap<string, TableItem>,
  violations: string[],
): void {
  for (const [partition, partitionItems] of byPartition) {
    if (!partition.startsWith('LEAD#')) continue;
    const leadId = partition.slice('LEAD#'.length);
    const state = states.get(leadId);
    const events = partitionItems.filter((item) => item.entity === 'event');
    if (state === undefined) {
      const kinds = [...new Set(partitionItems.map((item) => item.entity))];
      violations.push(`${leadId}: items without a lead state: ${kinds}`);
      continue;
    }
    if (state.mergedInto === undefined) {
      if (events.length !== Number(state.eventCount)) {
        violations.push(
          `${leadId}: ${events.length} events stored, eventCount ${state.eventCount}`,
        );
      }
    } else if (!state.mergePending && events.length > 0) {
      violations.push(`${leadId}: merged with ${events.length} events left`);
    }
  }
}

function checkMarkers(items: readonly TableItem[], violations: string[]) {
  const events = new Map<string, number>();
  for (const item of items) {
    if (item.entity !== 'event') continue;
    const key = `${item.sourceId}#${item.messageId}`;
    events.set(key, (events.get(key) ?? 0) + 1);
  }
  const markers = new Set<string>();
  for (const item of items) {
    if (item.entity !== 'message') continue;
    const key = String(item.PK).slice('MESSAGE#'.length);
    markers.add(key);
    if (!events.has(key)) violations.push(`marker ${key}: no event`);
  }
  for (const [key, count] of events) {
    if (count > 1) violations.push(`event ${key}: stored ${count} times`);
    if (!markers.has(key)) violations.push(`event ${key}: no marker`);
  }
}

function checkTombstones(
  states: ReadonlyMap<string, TableItem>,
  violations: string[],
): void {
  for (const [leadId, state] of states) {
    if (state.mergedInto === undefined) continue;
    const seen = new Set([leadId]);
    let current = String(state.mergedInto);
    for (;;) {
      const next = states.get(current);
      if (next === undefined) {
        violations.push(`${leadId}: merged into ${current}, not stored`);
        break;
      }
      if (next.mergedInto === undefined) break;
      if (seen.has(current)) {
        violations.push(`${leadId}: merged in a cycle through ${current}`);
        break;
      }
      seen.add(current);
      current = String(next.mergedInto);
    }
  }
}

function checkMembers(
  items: readonly TableItem[],
  states: ReadonlyMap<string, TableItem>,
  violations: string[],
): void {
  const members = new Set<string>();
  for (const item of items) {
    if (item.entity !== 'member') continue;
    const leadId = String(item.leadId);
    const accountId = String(item.accountId);
    members.add(`${accountId}#${leadId}`);
    const membership = states.get(leadId)?.membership as
      | { accountId?: string }
      | undefined;
    if (membership?.accountId !== accountId) {
      violations.push(`member ${leadId} of ${accountId}: lead not there`);
    }
  }
  for (const [leadId, state] of states) {
    const membership = state.membership as { accountId?: string } | undefined;
    if (membership?.accountId === undefined) continue;
    if (!members.has(`${membership.accountId}#${leadId}`)) {
      violations.push(`${leadId}: no member item in ${membership.accountId}`);
    }
  }
}
