import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/workload.js';
import { ConflictError } from '../../functions/domain/errors.js';
import type { OutgoingEvent } from '../../functions/domain/outgoing-events.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { accountModel } from '../fixtures/models.js';
import { outboxEntries } from '../support/fault-injection.js';
import {
  type DynamoFault,
  type FaultPlan,
  faultyDynamoDependencies,
  timeoutError,
} from './support/faulty-dynamodb.js';
import {
  pause,
  raceRounds,
  scanTable,
  tableViolations,
} from './support/table-check.js';

const ROUNDS = raceRounds(1);
const STEPS = 24;
const LEADS = ['ann@acme.example', 'bob@acme.example', 'cy@acme.example'];

/** An error as DynamoDB returns it for a throttled request. */
function throttled(): Error {
  const error = new Error('Throughput exceeds the current capacity.');
  error.name = 'ThrottlingException';
  return error;
}

/**
 * Picks a fault for about one call in six. A write commits but its
 * caller gets a timeout, a request is throttled before it reaches the
 * table, or a conditional write loses its response and the SDK sends it
 * again. Transactions are not sent again here. The SDK gives
 * each one an idempotency token, so DynamoDB returns the first result
 * for its retry.
 */
function randomFaults(random: () => number): FaultPlan {
  return (command) => {
    const draw = random();
    if (draw > 1 / 6 || command === 'ScanCommand') return 'pass';
    const isWrite = /Put|Update|Delete|TransactWrite|BatchWrite/.test(command);
    if (!isWrite) return { failBefore: throttled() };
    const faults: DynamoFault[] = [
      { failAfterCommit: timeoutError() },
      { failBefore: throttled() },
      ...(command === 'TransactWriteItemsCommand'
        ? []
        : (['lost-response'] as const)),
    ];
    return faults[Math.floor(random() * faults.length)] ?? 'pass';
  };
}

/** Runs a request again after any failure, as clients retry a 5xx. */
async function retried<T>(task: () => Promise<T>): Promise<T | undefined> {
  for (let attempt = 1; attempt <= 20; attempt += 1) {
    try {
      return await task();
    } catch (error) {
      if (error instanceof ConflictError) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  throw new Error('A request failed 20 times in a row.');
}

function message(leadId: string, step: number, random: () => number) {
  const kinds = [
    { type: 'track', event: 'Demo Requested', properties: { step } },
    { type: 'page', properties: { path: '/pricing' } },
    {
      type: 'identify',
      traits: {
        title: ['CPO', 'CFO', 'CIO'][step % 3],
        company: { employee_count: 5000, industry: 'Manufacturing' },
      },
    },
  ];
  return {
    messageId: `fault-${step}`,
    userId: leadId,
    ...kinds[Math.floor(random() * kinds.length)],
  };
}

function distinctIds(events: readonly OutgoingEvent[]): Map<string, string[]> {
  const byTransition = new Map<string, Set<string>>();
  for (const event of events) {
    const { episode } = event.detail as { episode?: number };
    const key = `${event.leadId ?? event.accountId}#${episode}#${event.detailType}`;
    if (event.detailType === 'Lead Disposition Changed') continue;
    const ids = byTransition.get(key) ?? new Set();
    ids.add(event.eventId);
    byTransition.set(key, ids);
  }
  return new Map([...byTransition].map(([key, ids]) => [key, [...ids]]));
}

describe('retries after injected DynamoDB faults', () => {
  it('store and publish each change once', {
    timeout: ROUNDS * 40_000,
  }, async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const random = seededRandom(4000 + round);
      const plan: { current: FaultPlan } = { current: () => 'pass' };
      const setup = await faultyDynamoDependencies(plan, {
        model: accountModel(),
      });
      await ingestMessages(setup.deps, {
        sourceId: 'web',
        messages: LEADS.flatMap((leadId, index) => [
          {
            type: 'identify',
            messageId: `identify-${index}`,
            userId: leadId,
            traits: {
              title: ['CPO', 'CFO', 'CIO'][index],
              company: { employee_count: 5000, industry: 'Manufacturing' },
            },
          },
          {
            type: 'track',
            messageId: `demo-${index}`,
            userId: leadId,
            event: 'Demo Requested',
          },
          {
            type: 'page',
            messageId: `pricing-${index}`,
            userId: leadId,
            properties: { path: '/pricing' },
          },
        ]),
        receivedAt: setup.clock.now,
      });
      plan.current = randomFaults(random);
      const steps = Array.from({ length: STEPS }, async (_, step) => {
        await pause(random, 200);
        const leadId = LEADS[step % LEADS.length] as string;
        const choice = random();
        if (choice < 0.6) {
          await retried(() =>
            ingestMessages(setup.deps, {
              sourceId: 'web',
              messages: [message(leadId, step, random)],
              receivedAt: setup.clock.now,
            }),
          );
        } else if (choice < 0.8) {
          await retried(() =>
            recordDisposition(setup.deps, leadId, {
              kind: 'rejected',
              reason: 'no budget',
            }),
          );
        } else {
          await retried(() =>
            runSweep(setup.deps, {
              now: setup.clock.now,
              deadline: Number.POSITIVE_INFINITY,
            }),
          );
        }
      });
      await Promise.all(steps);
      plan.current = () => 'pass';
      setup.clock.advance(DAY_MS);
      await runSweep(setup.deps, {
        now: setup.clock.now,
        deadline: Number.POSITIVE_INFINITY,
      });

      expect(tableViolations(await scanTable(setup))).toEqual([]);
      expect(await outboxEntries(setup.repository)).toEqual([]);
      for (const [transition, ids] of distinctIds(setup.published)) {
        expect({ transition, ids: ids.length }).toEqual({ transition, ids: 1 });
      }
      const transitions = distinctIds(setup.published);
      for (const leadId of LEADS) {
        const state = await setup.repository.getLead(leadId);
        const recycled = transitions.has(`${leadId}#1#Lead Recycled`);
        expect({ leadId, recycled }).toEqual({
          leadId,
          recycled: state?.status === 'recycled',
        });
        const stored = await setup.repository.listEvents(leadId, 100);
        expect(stored.events).toHaveLength(state?.eventCount ?? 0);
      }
    }
  });
});
