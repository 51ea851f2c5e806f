import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  ScanCommand,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  itemToState,
  stateToItem,
} from '../../functions/adapters/dynamodb/items.js';
import { DynamoLeadRepository } from '../../functions/adapters/dynamodb/lead-repository.js';
import { DEFAULT_REVIEW_SHARDS } from '../../functions/adapters/dynamodb/table-layout.js';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import {
  applyEvents,
  type LeadState,
  newLead,
} from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import type { ScoringModel } from '../../functions/domain/model.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import { evaluateLead } from '../../functions/domain/qualification.js';
import { DAY_MS } from '../../functions/domain/time.js';
import type { EventPublisher } from '../../functions/ports/event-publisher.js';
import {
  type LeadRepository,
  type SavedLeadChanges,
  VersionConflictError,
} from '../../functions/ports/lead-repository.js';
import type { Log } from '../../functions/ports/logger.js';
import { mapWithConcurrency } from '../../functions/use-cases/concurrency.js';
import type { ScoringDependencies } from '../../functions/use-cases/dependencies.js';
import {
  emptyReviewCounts,
  reviewLeads,
} from '../../functions/use-cases/review-leads.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import type { BenchContext, Figure, SuiteReport } from '../context.js';
import { countCommands } from '../handler-backend.js';
import {
  capturedTransactions,
  replayTransactions,
} from '../transaction-replay.js';

export const description =
  'Decay sweep over the review index against a full-table scan, at 10,000 and 100,000 leads';

const SMALL = 10_000;
const LARGE = 100_000;
const SIZES = [SMALL, LARGE];
/**
 * Transactions in flight in the replay: the most the sweep sends at once,
 * 8 shards with up to 4 grouped transactions each.
 */
const REPLAY_CONCURRENCY = 32;
/** Due leads the full scan reviews per call, as the sweep's page size. */
const SCAN_REVIEW_CHUNK = 100;
/** Chunks the full scan reviews at once, as the sweep's shards. */
const SCAN_REVIEW_CONCURRENCY = 8;
/** Requests in flight per shard when the sweep writes one lead at a time. */
const PER_LEAD_CONCURRENCY = 4;
const DUE = 1_000;
/** Share of the leads that are not due but are MQLs with a later review. */
const FUTURE_REVIEW_SHARE = 0.2;
const SWEEP_REPEATS = 3;
const BATCH_WRITE_LIMIT = 25;
const SEED_CONCURRENCY = 16;
/** Scan page size of the naive sweep. DynamoDB also caps a page at 1 MB. */
const SCAN_PAGE = 1_000;

type Item = Record<string, AttributeValue>;

/** Lead states to copy: one due MQL, one MQL due later, one engaged lead. */
interface Templates {
  due: LeadState;
  later: LeadState;
  engaged: LeadState;
  /** Time the sweeps evaluate at: one hour after the due leads' review. */
  now: number;
}

interface Measurement {
  read: number;
  changed: number;
  ms: number;
  /** Time spent finding the due leads, without changing them. */
  findMs: number;
  /** Time to send the sweep's transactions again, alone. */
  writesMs?: number;
  /** Median time of the same sweep with one transaction per lead. */
  perLeadMs?: number;
}

const silentLog: Log = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** Accepts every event without a network call, so only DynamoDB is timed. */
const acceptingPublisher: EventPublisher = {
  publish: async (events) => ({
    published: events.map((event) => event.eventId),
    failed: [],
  }),
};

export async function run(context: BenchContext): Promise<SuiteReport> {
  const { client } = await context.dynamoDb();
  const tableName = await context.createTable('bench-sweep');
  const model = compileModel(DEFAULT_MODEL_DOCUMENT);
  const templates = buildTemplates(model);
  const deps: ScoringDependencies = {
    repository: new DynamoLeadRepository(client, { tableName }),
    publisher: acceptingPublisher,
    model,
    clock: () => templates.now,
    log: silentLog,
  };

  const results = new Map<number, { sweep: Measurement; scan: Measurement }>();
  let seeded = 0;
  for (const size of SIZES) {
    context.progress(`[sweep] seeding ${size.toLocaleString('en')} leads`);
    await seedLeads(client, tableName, templates, seeded, size);
    seeded = size;
    await seedDueLeads(client, tableName, templates);
    const findMs = await measureIndexFind(deps);
    const sweeps: Measurement[] = [];
    const perLead: Measurement[] = [];
    for (let repeat = 0; repeat < SWEEP_REPEATS; repeat += 1) {
      await seedDueLeads(client, tableName, templates);
      sweeps.push(await measureSweep(deps, templates.now));
      if (size === LARGE) {
        // Alternated with the grouped sweep, so load from other
        // processes slows both alike.
        await seedDueLeads(client, tableName, templates);
        perLead.push(await measureSweep(perLeadDeps(deps), templates.now));
      }
    }
    const sweep: Measurement = { ...median(sweeps), findMs };
    if (perLead.length > 0) {
      sweep.perLeadMs = median(perLead).ms;
      checkChanged(median(perLead), size);
    }
    context.progress(
      `[sweep] ${size}: sweep read ${sweep.read}, changed ${sweep.changed} in ${Math.round(sweep.ms)} ms, found due in ${Math.round(sweep.findMs)} ms`,
    );
    await seedDueLeads(client, tableName, templates);
    const scan = await measureFullScan(client, tableName, deps, templates.now);
    if (size === LARGE) {
      // After the scan, so the scan does not read this sweep's history.
      await seedDueLeads(client, tableName, templates);
      sweep.writesMs = await measureSweepWrites(client, deps, templates.now);
    }
    context.progress(
      `[sweep] ${size}: full scan read ${scan.read}, changed ${scan.changed} in ${Math.round(scan.ms)} ms, found due in ${Math.round(scan.findMs)} ms`,
    );
    checkChanged(sweep, size);
    checkChanged(scan, size);
    results.set(size, { sweep, scan });
  }
  return report(results);
}

function checkChanged(measured: Measurement, size: number): void {
  if (measured.changed !== DUE) {
    throw new Error(
      `A sweep over ${size} leads changed ${measured.changed} leads; expected ${DUE}.`,
    );
  }
}

/**
 * Returns dependencies whose repository takes the sweep's batch reads and
 * grouped writes apart into one GetItem and one transaction per lead.
 */
function perLeadDeps(deps: ScoringDependencies): ScoringDependencies {
  const grouped = deps.repository;
  const perLead: LeadRepository = Object.create(grouped);
  perLead.getLeads = async (leadIds) => {
    const states = await mapWithConcurrency(
      leadIds,
      PER_LEAD_CONCURRENCY,
      (leadId) => grouped.getLead(leadId),
    );
    return new Map(
      states.flatMap((state) =>
        state === undefined ? [] : [[state.leadId, state] as const],
      ),
    );
  };
  perLead.saveLeadChanges = async (changes) => {
    const result: SavedLeadChanges = { saved: [], conflicted: [], failed: [] };
    await mapWithConcurrency(changes, PER_LEAD_CONCURRENCY, async (change) => {
      try {
        await grouped.saveLeadChange(change);
        result.saved.push(change);
      } catch (error) {
        if (error instanceof VersionConflictError) {
          result.conflicted.push(change);
        } else {
          result.failed.push({ change, error });
        }
      }
    });
    return result;
  };
  return { ...deps, repository: perLead };
}

/**
 * Builds the templates from real events under the default model: a
 * procurement chief who viewed pricing and requested a demo qualifies,
 * and a blog reader stays engaged and out of the review index.
 */
function buildTemplates(model: ScoringModel): Templates {
  const qualifiedAt = Date.parse('2026-01-05T09:00:00Z');
  const due = qualify(model, 'template-due', qualifiedAt);
  const now = (due.nextReviewAt ?? Number.NaN) + 3_600_000;
  const later = qualify(model, 'template-later', now - 10 * DAY_MS);
  const engagedEvents = [event('template-engaged', 'page', qualifiedAt)];
  const engaged = evaluateLead(
    applyEvents(
      newLead('template-engaged', model, qualifiedAt),
      engagedEvents,
      model,
    ).state,
    model,
    qualifiedAt,
  ).state;
  const checks: [string, boolean][] = [
    ['due MQL', due.status === 'mql' && (due.nextReviewAt ?? now) < now],
    [
      'later MQL',
      later.status === 'mql' && (later.nextReviewAt ?? 0) > now + DAY_MS,
    ],
    ['engaged lead', engaged.nextReviewAt === undefined],
  ];
  for (const [name, ok] of checks) {
    if (!ok) {
      throw new Error(
        `The default model no longer yields the ${name} template.`,
      );
    }
  }
  return { due, later, engaged, now };
}

function qualify(model: ScoringModel, leadId: string, at: number): LeadState {
  const events = [
    event(leadId, 'identify', at),
    event(leadId, 'page', at),
    event(leadId, 'track', at),
  ];
  const applied = applyEvents(newLead(leadId, model, at), events, model);
  return { ...evaluateLead(applied.state, model, at).state, version: 1 };
}

function event(
  leadId: string,
  type: 'identify' | 'page' | 'track',
  at: number,
): TrackingEvent {
  const common = {
    messageId: `${leadId}-${type}`,
    type,
    occurredAt: at,
    receivedAt: at,
    userId: leadId,
    properties: {},
    traits: {},
  };
  if (type === 'identify') {
    return {
      ...common,
      traits: {
        title: 'Chief Procurement Officer',
        'company.industry': 'Manufacturing',
        'company.employee_count': 25_000,
      },
    };
  }
  if (type === 'page') {
    return { ...common, name: 'Pricing', path: '/pricing' };
  }
  return { ...common, name: 'Demo Requested' };
}

/** Lead ids `lead-<n>`; the first DUE of them are the due leads. */
function leadItem(templates: Templates, index: number, shards: number): Item {
  const leadId = `lead-${index}`;
  const template =
    index < DUE
      ? templates.due
      : index % Math.round(1 / FUTURE_REVIEW_SHARE) === 0
        ? templates.later
        : templates.engaged;
  return stateToItem({ ...template, leadId }, shards);
}

/** Writes leads `from` to `to` - 1. */
async function seedLeads(
  client: DynamoDBClient,
  tableName: string,
  templates: Templates,
  from: number,
  to: number,
): Promise<void> {
  const batches: number[] = [];
  for (let start = from; start < to; start += BATCH_WRITE_LIMIT) {
    batches.push(start);
  }
  await mapWithConcurrency(batches, SEED_CONCURRENCY, (start) => {
    const end = Math.min(to, start + BATCH_WRITE_LIMIT);
    const items: Item[] = [];
    for (let index = start; index < end; index += 1) {
      items.push(leadItem(templates, index, DEFAULT_REVIEW_SHARDS));
    }
    return batchWrite(client, tableName, items);
  });
}

/** Puts the due leads back as due MQLs, as they were before a sweep. */
function seedDueLeads(
  client: DynamoDBClient,
  tableName: string,
  templates: Templates,
): Promise<void> {
  return seedLeads(client, tableName, templates, 0, DUE);
}

async function batchWrite(
  client: DynamoDBClient,
  tableName: string,
  items: Item[],
): Promise<void> {
  let pending = items.map((Item) => ({ PutRequest: { Item } }));
  for (let round = 0; pending.length > 0; round += 1) {
    if (round >= 10) {
      throw new Error(
        `BatchWriteItem left ${pending.length} items unprocessed after ${round} rounds.`,
      );
    }
    if (round > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
    }
    const { UnprocessedItems } = await client.send(
      new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }),
    );
    pending = (UnprocessedItems?.[tableName] ?? []).flatMap((request) =>
      request.PutRequest?.Item === undefined
        ? []
        : [{ PutRequest: { Item: request.PutRequest.Item } }],
    );
  }
}

/**
 * Captures the transactions of one more sweep and times sending them
 * again without conditions, reads or scoring: the cost of the writes
 * alone, which any sweep that changes the due leads pays.
 */
async function measureSweepWrites(
  client: DynamoDBClient,
  deps: ScoringDependencies,
  now: number,
): Promise<number> {
  const observed: TransactWriteItemsCommandInput[] = [];
  let observing = true;
  countCommands(client, {}, (name, input) => {
    if (observing && name === 'TransactWriteItemsCommand') {
      observed.push(input as TransactWriteItemsCommandInput);
    }
  });
  const writes = await capturedTransactions(observed, () =>
    measureSweep(deps, now),
  );
  observing = false;
  const started = performance.now();
  await replayTransactions(client, writes, REPLAY_CONCURRENCY);
  return performance.now() - started;
}

async function measureSweep(
  deps: ScoringDependencies,
  now: number,
): Promise<Measurement> {
  const started = performance.now();
  const result = await runSweep(deps, {
    now,
    deadline: Number.POSITIVE_INFINITY,
  });
  return {
    read: result.read,
    changed: result.leadsChanged,
    ms: performance.now() - started,
    findMs: 0,
  };
}

/**
 * Lists the due items of every shard the way the sweep does, without
 * processing them, and returns the time taken in ms (median of three).
 */
async function measureIndexFind(deps: ScoringDependencies): Promise<number> {
  const times: number[] = [];
  for (let repeat = 0; repeat < 3; repeat += 1) {
    const started = performance.now();
    let found = 0;
    for (let shard = 0; shard < deps.repository.reviewShards; shard += 1) {
      let cursor: string | undefined;
      do {
        const page = await deps.repository.listDue(
          shard,
          deps.clock(),
          100,
          cursor,
        );
        found += page.items.length;
        cursor = page.cursor;
      } while (cursor !== undefined);
    }
    times.push(performance.now() - started);
    if (found !== DUE) {
      throw new Error(
        `The review index listed ${found} due leads; expected ${DUE}.`,
      );
    }
  }
  return times.sort((a, b) => a - b)[1] as number;
}

/**
 * Sweeps the way a nightly batch job does: scans every item, evaluates
 * each lead in memory, and writes the changed ones through the same
 * grouped writes as the sweep, 100 due leads per call and 8 calls at
 * once.
 */
async function measureFullScan(
  client: DynamoDBClient,
  tableName: string,
  deps: ScoringDependencies,
  now: number,
): Promise<Measurement> {
  const started = performance.now();
  let findMs = 0;
  let read = 0;
  const due: string[] = [];
  let cursor: Item | undefined;
  do {
    const pageStarted = performance.now();
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        Limit: SCAN_PAGE,
        ExclusiveStartKey: cursor,
      }),
    );
    const items = page.Items ?? [];
    read += items.length;
    for (const item of items) {
      if (item.entity?.S !== 'lead') continue;
      const state = itemToState(item);
      if (evaluateLead(state, deps.model, now).transitions.length > 0) {
        due.push(state.leadId);
      }
    }
    findMs += performance.now() - pageStarted;
    cursor = page.LastEvaluatedKey;
  } while (cursor !== undefined);
  const counts = emptyReviewCounts();
  const chunks: string[][] = [];
  for (let start = 0; start < due.length; start += SCAN_REVIEW_CHUNK) {
    chunks.push(due.slice(start, start + SCAN_REVIEW_CHUNK));
  }
  await mapWithConcurrency(chunks, SCAN_REVIEW_CONCURRENCY, (leadIds) =>
    reviewLeads(
      deps,
      leadIds,
      { now, deadline: Number.POSITIVE_INFINITY },
      counts,
      () => true,
    ),
  );
  if (counts.incomplete) {
    throw new Error('The full scan failed to review some due leads.');
  }
  return {
    read,
    changed: counts.leadsChanged,
    ms: performance.now() - started,
    findMs,
  };
}

function median(measurements: Measurement[]): Measurement {
  const sorted = [...measurements].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor(sorted.length / 2)] as Measurement;
}

function report(
  results: Map<number, { sweep: Measurement; scan: Measurement }>,
): SuiteReport {
  const resultOf = (size: number) => {
    const result = results.get(size);
    if (result === undefined) throw new Error(`No result for ${size} leads.`);
    return result;
  };
  const small = resultOf(SMALL);
  const large = resultOf(LARGE);
  const count = (size: number) => size.toLocaleString('en');
  const readShare = (size: number): Figure => {
    const value = resultOf(size).sweep.read / DUE;
    return {
      name: `sweep items read per due lead, ${count(size)} leads`,
      value,
      unit: '',
      target: '≤ 1.05',
      met: value <= 1.05,
    };
  };
  const sweepSmall = `sweep, ${count(SMALL)} leads`;
  const sweepLarge = `sweep, ${count(LARGE)} leads`;
  const figures: Figure[] = [
    readShare(SMALL),
    readShare(LARGE),
    { name: sweepSmall, value: small.sweep.ms, unit: 'ms' },
    {
      name: sweepLarge,
      value: large.sweep.ms,
      unit: 'ms',
      baseline: { name: sweepSmall, value: small.sweep.ms },
      target: '≤ 1.3 × baseline',
      met: large.sweep.ms <= 1.3 * small.sweep.ms,
    },
    {
      name: `full scan, ${count(SMALL)} leads`,
      value: small.scan.ms,
      unit: 'ms',
      baseline: { name: sweepSmall, value: small.sweep.ms },
    },
    {
      name: `full scan, ${count(LARGE)} leads`,
      value: large.scan.ms,
      unit: 'ms',
      baseline: { name: sweepLarge, value: large.sweep.ms },
      target: '≥ 20 × baseline',
      met: large.scan.ms >= 20 * large.sweep.ms,
    },
    {
      name: `sweep with one transaction per due lead, ${count(LARGE)} leads`,
      value: large.sweep.perLeadMs ?? 0,
      unit: 'ms',
      baseline: { name: sweepLarge, value: large.sweep.ms },
    },
    {
      name: `the sweep's transactions replayed alone, ${count(LARGE)} leads`,
      value: large.sweep.writesMs ?? 0,
      unit: 'ms',
      baseline: { name: sweepLarge, value: large.sweep.ms },
    },
    {
      name: `full scan, ${count(LARGE)} leads, against the replayed transactions`,
      value: large.scan.ms,
      unit: 'ms',
      baseline: {
        name: 'replayed transactions',
        value: large.sweep.writesMs ?? 0,
      },
    },
    {
      name: `finding the due leads, index, ${count(LARGE)} leads`,
      value: large.sweep.findMs,
      unit: 'ms',
      baseline: {
        name: `index, ${count(SMALL)} leads`,
        value: small.sweep.findMs,
      },
    },
    {
      name: `finding the due leads, full scan, ${count(LARGE)} leads`,
      value: large.scan.findMs,
      unit: 'ms',
      baseline: { name: 'index', value: large.sweep.findMs },
    },
    {
      name: `full scan items read, ${count(LARGE)} leads`,
      value: large.scan.read,
      unit: 'items',
      baseline: { name: 'sweep items read', value: large.sweep.read },
    },
  ];
  return {
    title: 'Decay sweep',
    figures,
    notes: [
      `Method: one DynamoDB Local table holds lead states only: ${count(DUE)} MQLs whose decayed score fell below the recycle level an hour before the sweep, ${Math.round(FUTURE_REVIEW_SHARE * 100)} % MQLs due later, and engaged leads, which are absent from the review index. Each size is swept ${SWEEP_REPEATS} times (the median is shown), with the due leads written back before each run, and then swept once by the full scan. Both paths recycle the due leads through the same grouped writes (\`reviewLeads\`): one BatchGetItem per ${SCAN_REVIEW_CHUNK} due leads, then TransactWriteItems calls of up to 100 items, each lead under its own version condition. Both must each change ${count(DUE)} leads; events go to a publisher that accepts them without a network call, so only DynamoDB work is timed.`,
      `At ${count(LARGE)} leads, each sweep alternates with a sweep whose repository takes the batch read and the grouped writes apart into one GetItem and one transaction per due lead, ${PER_LEAD_CONCURRENCY} at once per shard, so the ratio shows what grouping saves. Both remove the published outbox entries in BatchWriteItem requests of 25.`,
      'Finding the due leads is timed apart: for the sweep, listing the due items of every shard without processing them (median of three); for the full scan, its Scan calls and in-memory evaluation. Changing the 1,000 due leads costs both paths the same conditional writes, so the whole-run ratio is bounded by those writes.',
      `To measure that bound, the transactions of one more sweep at ${count(LARGE)} leads (lead state, outbox entry and score history per due lead, grouped as the sweep sends them, up to 33 leads per transaction) are captured and sent again without conditions, ${REPLAY_CONCURRENCY} at once, the most the sweep sends, with no reads or scoring. No sweep that sends these transactions can finish faster, so the full scan's time over the replay is the highest whole-run ratio DynamoDB Local allows this workload.`,
      'A real table also holds events, message markers and outbox entries, which the full scan reads too and the sweep does not, so these figures understate the gap.',
    ],
  };
}
