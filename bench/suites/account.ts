import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoLeadRepository } from '../../functions/adapters/dynamodb/lead-repository.js';
import { EventBridgePublisher } from '../../functions/adapters/eventbridge/event-publisher.js';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import type { Log } from '../../functions/ports/logger.js';
import { mapWithConcurrency } from '../../functions/use-cases/concurrency.js';
import type { ScoringDependencies } from '../../functions/use-cases/dependencies.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { createEventRouting } from '../../local/provision.js';
import { LOCAL_AWS } from '../../local/services.js';
import type { BenchContext, SuiteReport } from '../context.js';

export const description =
  'ingest into one account with thousands of leads vs the same events over many accounts';

/** Leads per workload; every lead sends MESSAGES_PER_LEAD messages. */
const LEADS = 2000;
const MESSAGES_PER_LEAD = 4;
const BATCH_SIZE = 40;
const CONCURRENT_REQUESTS = 8;
/** Throughput the single account must keep, as a share of the baseline. */
const TARGET_RATIO = 0.8;

const TITLES = [
  'Chief Procurement Officer',
  'Strategic Sourcing Manager',
  'Accounts Payable Manager',
  'Head of Supplier Risk',
  'CFO',
  'CIO',
  'Marketing Manager',
];

const silentLog: Log = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/**
 * Messages of one lead: an identify with a title and a company email,
 * a pricing page, a demo request and a blog read, so most leads become
 * engaged and hold a buying-group role.
 */
function leadMessages(index: number, domain: string): unknown[] {
  const userId = `lead-${index}@${domain}`;
  return [
    {
      type: 'identify',
      messageId: `${userId}-identify`,
      userId,
      traits: { title: TITLES[index % TITLES.length], email: userId },
    },
    {
      type: 'page',
      messageId: `${userId}-pricing`,
      userId,
      properties: { path: '/pricing' },
    },
    {
      type: 'track',
      messageId: `${userId}-demo`,
      userId,
      event: 'Demo Requested',
    },
    {
      type: 'page',
      messageId: `${userId}-blog`,
      userId,
      properties: { path: '/blog/sourcing' },
    },
  ];
}

/** Batches that interleave leads, as concurrent visitors send them. */
function batchesOf(domainOf: (index: number) => string): unknown[][] {
  const messages: unknown[] = [];
  for (let step = 0; step < MESSAGES_PER_LEAD; step += 1) {
    for (let index = 0; index < LEADS; index += 1) {
      messages.push(leadMessages(index, domainOf(index))[step]);
    }
  }
  const batches: unknown[][] = [];
  for (let start = 0; start < messages.length; start += BATCH_SIZE) {
    batches.push(messages.slice(start, start + BATCH_SIZE));
  }
  return batches;
}

async function dependencies(
  context: BenchContext,
  prefix: string,
): Promise<ScoringDependencies> {
  const { client } = await context.dynamoDb();
  const { endpoint } = await context.moto();
  const tableName = await context.createTable(prefix);
  const routing = await createEventRouting(endpoint, prefix);
  return {
    repository: new DynamoLeadRepository(client, { tableName }),
    publisher: new EventBridgePublisher(
      new EventBridgeClient({ ...LOCAL_AWS, endpoint }),
      { eventBusName: routing.eventBusName },
    ),
    model: compileModel(DEFAULT_MODEL_DOCUMENT),
    clock: Date.now,
    log: silentLog,
  };
}

/** Ingests the batches and returns messages per second. */
async function measure(
  deps: ScoringDependencies,
  batches: unknown[][],
): Promise<number> {
  const started = performance.now();
  await mapWithConcurrency(batches, CONCURRENT_REQUESTS, (messages) =>
    ingestMessages(deps, {
      sourceId: 'bench',
      messages,
      receivedAt: Date.now(),
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return (LEADS * MESSAGES_PER_LEAD) / seconds;
}

export async function run(context: BenchContext): Promise<SuiteReport> {
  const spread = await dependencies(context, 'bench-accounts-spread');
  const single = await dependencies(context, 'bench-accounts-single');
  context.progress(`[account] ${LEADS} leads over ${LEADS} accounts`);
  const spreadRate = await measure(
    spread,
    batchesOf((index) => `account-${index}.example`),
  );
  context.progress(`[account] ${LEADS} leads in one account`);
  const singleRate = await measure(
    single,
    batchesOf(() => 'big-account.example'),
  );
  const account = await single.repository.getAccount(
    'domain:big-account.example',
  );
  return {
    title: 'Ingest into one large account',
    figures: [
      {
        name: 'spread over many accounts',
        value: spreadRate,
        unit: 'messages/s',
      },
      {
        name: 'one account',
        value: singleRate,
        unit: 'messages/s',
        baseline: { name: 'spread over many accounts', value: spreadRate },
        target: `≥ ${TARGET_RATIO} × baseline`,
        met: singleRate >= TARGET_RATIO * spreadRate,
      },
      {
        name: 'leads in the large account',
        value: account.members.length,
        unit: 'leads',
      },
    ],
    notes: [
      `${LEADS} leads send ${MESSAGES_PER_LEAD} messages each (identify with a title and company email, pricing page, demo request, blog read) in batches of ${BATCH_SIZE}, ${CONCURRENT_REQUESTS} requests at a time, through ingestMessages on DynamoDB Local and moto. The baseline gives every lead its own account; the measured run puts all of them in one.`,
      'A lead writes its membership item under the account only when its role, fit, status or intent step changes, and the account is read (not written) to check qualification only when an engaged lead changes; its state item is written only when it qualifies or leaves its episode. So leads of one account never wait on a shared item.',
    ],
  };
}
