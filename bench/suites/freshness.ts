import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { LOCAL_AWS } from '../../local/services.js';
import { startLocalStack } from '../../local/stack.js';
import type { SuiteReport } from '../context.js';
import { now, percentiles } from '../stats.js';

export const description =
  'Freshness: HTTP request to "Lead Qualified" on the routed SQS queue of the local stack.';

const TRIALS = 30;
const TIMEOUT_MS = 30_000;
const WRITE_KEY = 'bench-write-key';

/** Messages that leave a lead one demo request short of qualifying. */
function warmUpMessages(userId: string): unknown[] {
  return [
    {
      type: 'identify',
      messageId: `${userId}-identify`,
      userId,
      traits: {
        title: 'Chief Procurement Officer',
        company: { industry: 'Manufacturing', employee_count: 25_000 },
      },
    },
    {
      type: 'page',
      messageId: `${userId}-pricing`,
      userId,
      properties: { path: '/pricing' },
    },
  ];
}

function demoRequest(userId: string): unknown {
  return {
    type: 'track',
    messageId: `${userId}-demo`,
    userId,
    event: 'Demo Requested',
  };
}

/** Posts a batch and returns how many outgoing events it left pending. */
async function post(apiUrl: string, batch: unknown[]): Promise<number> {
  const response = await fetch(`${apiUrl}/v1/batch`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ batch }),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(
      `POST /v1/batch returned ${response.status}: ${text.slice(0, 300)}`,
    );
  }
  const { events } = JSON.parse(text) as { events?: { pending?: number } };
  return events?.pending ?? 0;
}

/** Resolves when the sales queue delivers the lead's "Lead Qualified". */
function arrivals() {
  const waiting = new Map<string, () => void>();
  return {
    onSalesEvent(event: unknown) {
      const detail = (event as { detail?: { leadId?: string } }).detail;
      const resolve = waiting.get(detail?.leadId ?? '');
      resolve?.();
    },
    wait(leadId: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(leadId);
          reject(
            new Error(
              `No "Lead Qualified" for ${leadId} within ${TIMEOUT_MS} ms.`,
            ),
          );
        }, TIMEOUT_MS);
        waiting.set(leadId, () => {
          clearTimeout(timer);
          waiting.delete(leadId);
          resolve();
        });
      });
    },
  };
}

async function bareRoundTrips(endpoint: string): Promise<number[]> {
  const sqs = new SQSClient({ ...LOCAL_AWS, endpoint });
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `bench-bare-${randomUUID()}` }),
  );
  const latencies: number[] = [];
  for (let trial = 0; trial < TRIALS; trial += 1) {
    const start = now();
    await sqs.send(
      new SendMessageCommand({ QueueUrl, MessageBody: `{"trial":${trial}}` }),
    );
    let received = false;
    while (!received) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }),
      );
      for (const message of Messages) {
        received = true;
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl,
            ReceiptHandle: message.ReceiptHandle,
          }),
        );
      }
    }
    latencies.push(now() - start);
  }
  sqs.destroy();
  return latencies;
}

export async function run(context: {
  progress(message: string): void;
}): Promise<SuiteReport> {
  const events = arrivals();
  const stack = await startLocalStack({
    port: 0,
    writeKey: WRITE_KEY,
    adminToken: randomUUID(),
    sweepIntervalSeconds: 0,
    stage: 'bench',
    onSalesEvent: (event) => events.onSalesEvent(event),
    onStatus: (message, error) =>
      context.progress(
        `[freshness] ${message}${error === undefined ? '' : `: ${String(error)}`}`,
      ),
  });
  try {
    const latencies: number[] = [];
    let leftPending = 0;
    for (let trial = 0; trial < TRIALS + 2; trial += 1) {
      const userId = `fresh-${randomUUID().slice(0, 8)}`;
      await post(stack.apiUrl, warmUpMessages(userId));
      const arrived = events.wait(userId);
      const start = now();
      const pending = await post(stack.apiUrl, [demoRequest(userId)]);
      if (pending > 0) {
        // PutEvents failed, so the outbox keeps the event for the sweep,
        // which runs every MQL_SWEEP_INTERVAL_SECONDS in the local stack.
        leftPending += 1;
        await stack.sweep();
      }
      await arrived;
      // The first two trials warm up the handler modules and clients.
      if (trial >= 2) latencies.push(now() - start);
    }
    const bare = percentiles(await bareRoundTrips(stack.motoEndpoint));
    const fresh = percentiles(latencies);
    return {
      title: 'Freshness',
      figures: [
        {
          name: 'Bare SQS send and receive p50 (baseline)',
          value: bare.p50,
          unit: 'ms',
        },
        {
          name: 'Bare SQS send and receive p95 (baseline)',
          value: bare.p95,
          unit: 'ms',
        },
        {
          name: 'Request to "Lead Qualified" on the sales queue, p50',
          value: fresh.p50,
          unit: 'ms',
          baseline: { name: 'bare SQS p50', value: bare.p50 },
        },
        {
          name: 'Request to "Lead Qualified" on the sales queue, p95',
          value: fresh.p95,
          unit: 'ms',
          baseline: { name: 'bare SQS p95', value: bare.p95 },
          target: '< 1,000 ms',
          met: fresh.p95 < 1000,
        },
        {
          name: 'Events left in the outbox for the sweep',
          value: leftPending,
          unit: `of ${TRIALS + 2}`,
        },
      ],
      notes: [
        `Method: ${TRIALS} leads, one after another, after 2 warm-up leads. ` +
          'Each lead first gets an identify and a pricing page view, then ' +
          'the timed request: a "Demo Requested" event posted over HTTP to ' +
          'the local stack (`startLocalStack`: the real handlers, DynamoDB ' +
          "Local, moto's EventBridge and SQS). The clock stops when the " +
          "stack's sales queue consumer, long-polling with " +
          '`WaitTimeSeconds: 1`, receives the lead\'s "Lead Qualified". ' +
          'The baseline sends one message to a queue on the same moto server ' +
          'and long-polls it back. In AWS, EventBridge adds its own delivery ' +
          'delay to SQS, which moto does not model. When PutEvents fails, ' +
          'the event waits in the outbox; the suite then runs the sweep at ' +
          'once, where the stack would wait up to one sweep interval.',
      ],
    };
  } finally {
    await stack.stop();
  }
}
