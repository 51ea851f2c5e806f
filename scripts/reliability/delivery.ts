import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoLeadRepository } from '../../functions/adapters/dynamodb/lead-repository.js';
import { EventBridgePublisher } from '../../functions/adapters/eventbridge/event-publisher.js';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import type { Log } from '../../functions/ports/logger.js';
import type { ScoringDependencies } from '../../functions/use-cases/dependencies.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import {
  resourceName,
  SALES_TARGET,
} from '../../lib/definitions/event-routing.js';
import { createEventRouting, createLeadTable } from '../../local/provision.js';
import { LOCAL_AWS } from '../../local/services.js';
import { retryOutbox } from '../outbox/commands.js';

/**
 * Measures delivery when a share of PutEvents entries fails. N leads
 * qualify through the ingest use case on DynamoDB Local. A fault injector
 * in front of moto's EventBridge fails each entry with the given
 * probability. Recovery runs the sweep and the operator retry until the
 * outbox is empty, and delivery is counted on the routed sales queue.
 */

export interface DeliveryOptions {
  dynamoDbEndpoint: string;
  motoEndpoint: string;
  /** Leads that qualify, one MQL each. */
  mqls: number;
  /** Probability that an entry fails, 0 to 1. */
  failureRate: number;
  /** Share of failures that are non-retryable (InvalidArgument). */
  nonRetryableShare: number;
  /** Seed of the fault injector, so a run can be repeated. */
  seed: number;
}

export interface DeliveryReport {
  mqls: number;
  failureRate: number;
  /** PutEvents entries sent, and how many of them the injector failed. */
  entriesSent: number;
  entriesFailed: number;
  /** Events the bus accepted during ingest, before any recovery. */
  deliveredByIngest: number;
  /** Events kept as failed outbox entries at the end of ingest. */
  failedAfterIngest: number;
  sweeps: number;
  operatorRetries: number;
  /** Distinct MQL event ids received on the sales queue. */
  delivered: number;
  /** Messages on the sales queue beyond one per event id. */
  duplicates: number;
  /** Outbox entries left at the end; 0 after full recovery. */
  outboxLeft: number;
}

const BATCH_LEADS = 10;
const HOUR_MS = 3_600_000;
const MAX_ROUNDS = 50;

/** Runs the measurement; see the module comment. */
export async function measureDelivery(
  options: DeliveryOptions,
): Promise<DeliveryReport> {
  const stage = `reliability-${options.seed}-${Date.now().toString(36)}`;
  const tableName = resourceName(stage);
  await createLeadTable(options.dynamoDbEndpoint, tableName);
  const routing = await createEventRouting(options.motoEndpoint, stage);
  const injector = faultInjector(options, routing.eventBusName);
  let now = Date.parse('2026-06-01T00:00:00Z');
  const deps: ScoringDependencies = {
    repository: new DynamoLeadRepository(
      new DynamoDBClient({ ...LOCAL_AWS, endpoint: options.dynamoDbEndpoint }),
      { tableName, reviewShards: 4 },
    ),
    publisher: new EventBridgePublisher(injector.client, {
      eventBusName: routing.eventBusName,
      sleep: async () => undefined,
    }),
    model: compileModel(DEFAULT_MODEL_DOCUMENT),
    clock: () => now,
    log: silentLog(),
  };

  let deliveredByIngest = 0;
  let failedAfterIngest = 0;
  for (let start = 0; start < options.mqls; start += BATCH_LEADS) {
    const leads = range(start, Math.min(options.mqls, start + BATCH_LEADS));
    const result = await ingestMessages(deps, {
      sourceId: 'default',
      messages: leads.flatMap((index) => qualifyingMessages(`lead-${index}`)),
      receivedAt: now,
    });
    deliveredByIngest += result.events.published;
    failedAfterIngest += result.events.failed;
  }

  let sweeps = 0;
  let operatorRetries = 0;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    now += HOUR_MS;
    const sweep = await runSweep(deps, { now, deadline: Infinity });
    sweeps += 1;
    const { outcomes: retried } = await retryOutbox(deps, 'all');
    operatorRetries += retried.length;
    if (sweep.outboxPending === 0 && retried.length === 0) break;
  }

  const received = await receiveAll(
    options.motoEndpoint,
    routing.queueUrls[SALES_TARGET.id] ?? '',
  );
  const distinct = new Set(received);
  return {
    mqls: options.mqls,
    failureRate: options.failureRate,
    entriesSent: injector.sent,
    entriesFailed: injector.failed,
    deliveredByIngest,
    failedAfterIngest,
    sweeps,
    operatorRetries,
    delivered: distinct.size,
    duplicates: received.length - distinct.size,
    outboxLeft: await countOutbox(deps),
  };
}

/**
 * Returns an EventBridge client whose PutEvents fails each entry with the
 * configured probability and forwards the rest to moto in one request.
 */
function faultInjector(options: DeliveryOptions, eventBusName: string) {
  const random = mulberry32(options.seed);
  const client = new EventBridgeClient(LOCAL_AWS);
  const bus = new EventBridgeClient({
    ...LOCAL_AWS,
    endpoint: options.motoEndpoint,
  });
  const counts = { client, sent: 0, failed: 0 };
  mockClient(client)
    .on(PutEventsCommand)
    .callsFake(async (input: { Entries?: PutEventsRequestEntry[] }) => {
      const entries = input.Entries ?? [];
      const results: PutEventsResultEntry[] = entries.map(() =>
        random() < options.failureRate ? failureOf(random()) : {},
      );
      const accepted = entries.filter((_, i) => !results[i]?.ErrorCode);
      const forwarded = accepted.length
        ? await bus.send(
            new PutEventsCommand({
              Entries: accepted.map((e) => ({
                ...e,
                EventBusName: eventBusName,
              })),
            }),
          )
        : { Entries: [] };
      let next = 0;
      counts.sent += entries.length;
      counts.failed += entries.length - accepted.length;
      return {
        FailedEntryCount: entries.length - accepted.length,
        Entries: results.map((result) =>
          result.ErrorCode ? result : (forwarded.Entries?.[next++] ?? {}),
        ),
      };
    });
  function failureOf(draw: number): PutEventsResultEntry {
    return draw < options.nonRetryableShare
      ? { ErrorCode: 'InvalidArgument', ErrorMessage: 'Injected fault.' }
      : { ErrorCode: 'ThrottlingException', ErrorMessage: 'Injected fault.' };
  }
  return counts;
}

async function receiveAll(
  endpoint: string,
  queueUrl: string,
): Promise<string[]> {
  const sqs = new SQSClient({ ...LOCAL_AWS, endpoint });
  const ids: string[] = [];
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    empty = Messages.length === 0 ? empty + 1 : 0;
    for (const message of Messages) {
      ids.push(JSON.parse(message.Body ?? '{}').detail.eventId);
    }
  }
  sqs.destroy();
  return ids;
}

async function countOutbox(deps: ScoringDependencies): Promise<number> {
  const failed = await deps.repository.listFailedOutbox(100);
  let pending = 0;
  for (let shard = 0; shard < deps.repository.reviewShards; shard += 1) {
    const page = await deps.repository.listDue(
      shard,
      Number.MAX_SAFE_INTEGER,
      100,
    );
    pending += page.items.filter((item) => item.kind === 'outbox').length;
  }
  return failed.entries.length + pending;
}

/** Messages that make a Chief Procurement Officer an MQL. */
function qualifyingMessages(userId: string): unknown[] {
  return [
    {
      type: 'identify',
      messageId: `${userId}-identify`,
      userId,
      traits: {
        title: 'Chief Procurement Officer',
        company: {
          name: 'Acme',
          industry: 'Manufacturing',
          employee_count: 25_000,
        },
      },
    },
    {
      type: 'page',
      messageId: `${userId}-pricing`,
      userId,
      name: 'Pricing',
      properties: { path: '/pricing' },
    },
    {
      type: 'track',
      messageId: `${userId}-demo`,
      userId,
      event: 'Demo Requested',
    },
  ];
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

/** Returns a seeded PRNG (mulberry32), so runs repeat exactly. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function silentLog(): Log {
  const ignore = () => undefined;
  return { debug: ignore, info: ignore, warn: ignore, error: ignore };
}
