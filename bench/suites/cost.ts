import type { TransactWriteItemsCommandInput } from '@aws-sdk/client-dynamodb';
import type { PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import type { BenchContext, SuiteReport } from '../context.js';
import { startIngestBackend } from '../handler-backend.js';
import { seededRandom } from '../workload.js';

export const description =
  'Cost model: DynamoDB and Lambda requests per 1,000 events and per MQL, and the monthly cost at 10 million events.';

/**
 * Assumed AWS list prices in us-east-1 (USD), on-demand, as published in
 * 2025 and checked on 2026-12-04. Free tiers are left out.
 */
export const PRICES = {
  date: '2026-12-04',
  region: 'us-east-1',
  dynamoDbPerMillionWrites: 0.625,
  dynamoDbPerMillionReads: 0.125,
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  httpApiPerMillionRequests: 1.0,
  eventBridgePerMillionEvents: 1.0,
  sqsPerMillionRequests: 0.4,
};

/** Assumptions of the monthly figure that a local run cannot measure. */
const ASSUMED = {
  monthlyEvents: 10_000_000,
  /** Billed milliseconds per ingest invocation in AWS (estimate). */
  ingestMs: 60,
  ingestMemoryGb: 1,
  /** Sweeps per month: one every 5 minutes, the stack's default. */
  sweepInvocations: 8_760,
  sweepMs: 200,
  sweepMemoryGb: 1,
  /** SQS requests per routed event: send, receive and delete. */
  sqsRequestsPerEvent: 3,
};

const LEADS = 200;
const EVENTS_PER_LEAD = 25;
/** Messages per request of a server-side Segment client (analytics-node). */
const SERVER_BATCH = 15;

/** Size in bytes of a marshalled DynamoDB item, estimated from its JSON. */
function itemBytes(item: unknown): number {
  return Buffer.byteLength(JSON.stringify(item ?? {}), 'utf8');
}

/** Counts request units as DynamoDB bills them, estimated from inputs. */
function unitCounter() {
  const units = { writes: 0, reads: 0, mqls: 0, outgoing: 0 };
  const observe = (name: string, input: unknown) => {
    if (name === 'TransactWriteItemsCommand') {
      const { TransactItems = [] } = input as TransactWriteItemsCommandInput;
      for (const entry of TransactItems) {
        const item =
          entry.Put?.Item ?? entry.Update?.ExpressionAttributeValues ?? {};
        // Transactional writes cost two units per KB.
        units.writes += 2 * Math.max(1, Math.ceil(itemBytes(item) / 1024));
      }
    } else if (/^(Put|Update|Delete)ItemCommand$/.test(name)) {
      units.writes += 1;
    } else if (name === 'BatchWriteItemCommand') {
      const { RequestItems = {} } = input as {
        RequestItems?: Record<string, unknown[]>;
      };
      for (const items of Object.values(RequestItems)) {
        units.writes += items.length;
      }
    } else if (name === 'BatchGetItemCommand') {
      const { RequestItems = {} } = input as {
        RequestItems?: Record<string, { Keys?: unknown[] }>;
      };
      for (const request of Object.values(RequestItems)) {
        units.reads += request.Keys?.length ?? 0;
      }
    } else if (/^(GetItem|Query)Command$/.test(name)) {
      units.reads += 1;
    } else if (name === 'PutEventsCommand') {
      const { Entries = [] } = input as PutEventsCommandInput;
      units.outgoing += Entries.length;
      units.mqls += Entries.filter(
        (entry) => entry.DetailType === 'Lead Qualified',
      ).length;
    }
  };
  return { units, observe };
}

/** Builds a lead's events: an identify, then page views and tracks. */
function leadMessages(userId: string, random: () => number): unknown[] {
  const messages: unknown[] = [
    {
      type: 'identify',
      messageId: `${userId}-0`,
      userId,
      traits: {
        title:
          random() < 0.3 ? 'Chief Procurement Officer' : 'Software Engineer',
        company: { industry: 'Manufacturing', employee_count: 20_000 },
      },
    },
  ];
  const pages = ['/pricing', '/blog/p2p', '/product/sourcing', '/about'];
  for (let index = 1; index < EVENTS_PER_LEAD; index += 1) {
    const messageId = `${userId}-${index}`;
    if (random() < 0.1) {
      messages.push({
        type: 'track',
        messageId,
        userId,
        event: 'Demo Requested',
      });
    } else {
      const path = pages[Math.floor(random() * pages.length)];
      messages.push({ type: 'page', messageId, userId, properties: { path } });
    }
  }
  return messages;
}

export async function run(context: BenchContext): Promise<SuiteReport> {
  const backend = await startIngestBackend(context, 'bench-cost');
  const counter = unitCounter();
  backend.observe(counter.observe);
  const random = seededRandom(7);
  const all: unknown[] = [];
  for (let lead = 0; lead < LEADS; lead += 1) {
    all.push(...leadMessages(`cost-${process.pid}-${lead}`, random));
  }
  // Interleave the leads, as traffic from many visitors arrives.
  all.sort(() => random() - 0.5);
  context.progress(
    `[cost] ${all.length} events in requests of ${SERVER_BATCH} messages`,
  );
  let requests = 0;
  for (let start = 0; start < all.length; start += SERVER_BATCH) {
    const response = await backend.postBatch(
      all.slice(start, start + SERVER_BATCH),
    );
    if (response.status !== 200) {
      throw new Error(
        `The ingest handler returned ${response.status}: ${response.body.slice(0, 300)}`,
      );
    }
    requests += 1;
  }
  const events = all.length;
  const { units } = counter;
  const dynamoCalls = Object.values(backend.calls.dynamoDb).reduce(
    (sum, count) => sum + count,
    0,
  );
  const perThousand = (value: number) => (value * 1000) / events;
  const perMql = (value: number) =>
    units.mqls === 0 ? Number.NaN : value / units.mqls;

  const scale = ASSUMED.monthlyEvents / events;
  const monthly = {
    dynamoDb:
      (units.writes * scale * PRICES.dynamoDbPerMillionWrites +
        units.reads * scale * PRICES.dynamoDbPerMillionReads) /
      1e6,
    lambda:
      ((requests * scale + ASSUMED.sweepInvocations) *
        PRICES.lambdaPerMillionRequests) /
        1e6 +
      (requests * scale * (ASSUMED.ingestMs / 1000) * ASSUMED.ingestMemoryGb +
        ASSUMED.sweepInvocations *
          (ASSUMED.sweepMs / 1000) *
          ASSUMED.sweepMemoryGb) *
        PRICES.lambdaArmPerGbSecond,
    api: (requests * scale * PRICES.httpApiPerMillionRequests) / 1e6,
    eventBridge:
      (units.outgoing * scale * PRICES.eventBridgePerMillionEvents) / 1e6,
    sqs:
      (units.outgoing *
        scale *
        ASSUMED.sqsRequestsPerEvent *
        PRICES.sqsPerMillionRequests) /
      1e6,
  };
  const total = Object.values(monthly).reduce((sum, cost) => sum + cost, 0);
  const callList = Object.entries(backend.calls.dynamoDb)
    .map(([name, count]) => `${name.replace(/Command$/, '')} ${count}`)
    .join(', ');
  return {
    title: 'Cost model',
    figures: [
      {
        name: 'DynamoDB calls per 1,000 events',
        value: perThousand(dynamoCalls),
        unit: 'calls',
      },
      {
        name: 'DynamoDB write units per 1,000 events (estimate)',
        value: perThousand(units.writes),
        unit: 'WRU',
      },
      {
        name: 'DynamoDB read units per 1,000 events (estimate)',
        value: perThousand(units.reads),
        unit: 'RRU',
      },
      {
        name: 'Lambda invocations per 1,000 events',
        value: perThousand(requests),
        unit: 'requests',
      },
      {
        name: 'MQLs per 1,000 events',
        value: perThousand(units.mqls),
        unit: 'MQLs',
      },
      {
        name: 'DynamoDB calls per MQL',
        value: perMql(dynamoCalls),
        unit: 'calls',
      },
      {
        name: 'Lambda invocations per MQL',
        value: perMql(requests),
        unit: 'requests',
      },
      {
        name: 'Monthly cost at 10 million events',
        value: total,
        unit: 'USD',
      },
    ],
    notes: [
      `Method: ${LEADS} leads with ${EVENTS_PER_LEAD} events each (an ` +
        'identify, then page views, with a demo request in about one ' +
        `event of ten), shuffled and sent through the real ingest handler ` +
        `on DynamoDB Local in requests of ${SERVER_BATCH} messages, the ` +
        "batch size of analytics-node. SDK middleware on the handler's " +
        `own clients counted every call: ${callList}; EventBridge ` +
        `PutEvents ${backend.calls.eventBridge.PutEventsCommand ?? 0}. ` +
        'Write units are estimated from the size of each written item ' +
        '(two units per KB in a transaction) and read units as one per ' +
        'item read. Browser clients that send one event per request ' +
        `multiply the Lambda and API figures by ${SERVER_BATCH}.`,
      `Monthly cost at ${ASSUMED.monthlyEvents.toLocaleString('en')} events, ` +
        `USD: DynamoDB ${monthly.dynamoDb.toFixed(2)}, Lambda ` +
        `${monthly.lambda.toFixed(2)}, API Gateway HTTP API ` +
        `${monthly.api.toFixed(2)}, EventBridge ${monthly.eventBridge.toFixed(2)}, ` +
        `SQS ${monthly.sqs.toFixed(2)}; total ${total.toFixed(2)}. Storage, ` +
        'logs, metrics and data transfer are left out.',
      `Price assumptions (AWS list prices, ${PRICES.region}, on-demand, ` +
        `no free tier, as of ${PRICES.date}): DynamoDB ` +
        `$${PRICES.dynamoDbPerMillionWrites} per million write units and ` +
        `$${PRICES.dynamoDbPerMillionReads} per million read units; Lambda ` +
        `$${PRICES.lambdaPerMillionRequests} per million requests and ` +
        `$${PRICES.lambdaArmPerGbSecond} per GB-second on arm64; HTTP API ` +
        `$${PRICES.httpApiPerMillionRequests} per million requests; ` +
        `EventBridge $${PRICES.eventBridgePerMillionEvents} per million ` +
        `custom events; SQS $${PRICES.sqsPerMillionRequests} per million ` +
        `requests. Estimates, not measured in AWS: ${ASSUMED.ingestMs} ms ` +
        `per ingest invocation at ${ASSUMED.ingestMemoryGb * 1024} MB, a ` +
        `sweep every 5 minutes at ${ASSUMED.sweepMs} ms, and ` +
        `${ASSUMED.sqsRequestsPerEvent} SQS requests per routed event.`,
    ],
  };
}
