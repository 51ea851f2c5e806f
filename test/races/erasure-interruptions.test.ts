import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../functions/domain/canonical-json.js';
import { NotFoundError } from '../../functions/domain/errors.js';
import {
  ERASURE_HOLD_MS,
  eraseLead,
} from '../../functions/use-cases/erase-lead.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import {
  chainedLead,
  erasedEventsOf,
  itemsNaming,
} from '../fixtures/erasure-leads.js';
import { accountModel } from '../fixtures/models.js';
import { outboxEntries } from '../support/fault-injection.js';
import {
  type DynamoFault,
  type FaultPlan,
  faultyDynamoDependencies,
  timeoutError,
} from './support/faulty-dynamodb.js';
import {
  ingestRetrying,
  type RaceSetup,
  scanTable,
  tableViolations,
} from './support/table-check.js';

const WRITE = /Put|Update|Delete|TransactWrite|BatchWrite/;
/** Past the outbox grace period, so the sweep publishes what is left. */
const SWEEP_DELAY_MS = 120_000;

/**
 * Returns a plan that passes `n - 1` calls, gives call `n` the fault
 * `fault` and fails every later call before it reaches DynamoDB, as a
 * Lambda function that timed out sends nothing more. `stopped` returns
 * whether call `n` was made.
 */
function stopAtCall(n: number, fault: 'before' | 'after') {
  let count = 0;
  const plan: FaultPlan = () => {
    count += 1;
    if (count < n) return 'pass';
    if (count === n && fault === 'after') {
      return { failAfterCommit: timeoutError() };
    }
    return { failBefore: timeoutError() } satisfies DynamoFault;
  };
  return { plan, stopped: () => count >= n };
}

/** Stores the lead of case `tag` and returns its ids. */
async function storeCase(setup: RaceSetup, tag: string) {
  const ids = chainedLead(tag);
  await ingestRetrying(setup, ids.messages);
  await recordDisposition(setup.deps, ids.lead, { kind: 'accepted' });
  return ids;
}

describe('erasure interrupted and repeated', () => {
  it('leaves nothing at every call it can stop at', {
    timeout: 600_000,
  }, async () => {
    const plan: { current: FaultPlan } = { current: () => 'pass' };
    const setup = await faultyDynamoDependencies(plan, {
      model: accountModel(),
    });
    const { deps, clock } = setup;
    const publisher = deps.publisher;
    let stopped = () => false;
    // A stopped function publishes nothing either.
    deps.publisher = {
      publish: (events) => {
        if (stopped()) throw timeoutError();
        return publisher.publish(events);
      },
    };

    // An erasure that nothing stops counts the calls to interrupt.
    const reference = await storeCase(setup, 'reference');
    const calls: string[] = [];
    plan.current = (command) => {
      calls.push(command);
      return 'pass';
    };
    await eraseLead(deps, reference.lead);
    plan.current = () => 'pass';
    expect(calls.length).toBeGreaterThan(20);

    const cases = calls.flatMap((command, index) =>
      WRITE.test(command)
        ? [
            { n: index + 1, fault: 'before' as const },
            { n: index + 1, fault: 'after' as const },
          ]
        : [{ n: index + 1, fault: 'before' as const }],
    );
    for (const { n, fault } of cases) {
      const tag = `${n}-${fault}`;
      const ids = await storeCase(setup, tag);
      const erasedBefore = erasedEventsOf(setup.published, ids.lead).length;
      expect(erasedBefore).toBe(0);

      const stop = stopAtCall(n, fault);
      plan.current = stop.plan;
      stopped = stop.stopped;
      // The erasure may still return when the calls it lost were ones
      // it handles, such as the removal of a published outbox entry.
      await eraseLead(deps, ids.lead).catch(() => undefined);
      plan.current = () => 'pass';
      stopped = () => false;
      const publishedByStopped = erasedEventsOf(
        setup.published,
        ids.lead,
      ).length;

      const stateLeft = await deps.repository.getLead(ids.lead);
      const entryLeft = (await outboxEntries(setup.repository)).some(
        (entry) => entry.event.leadId === `erased:${sha256Hex(ids.lead)}`,
      );
      // The hold of the stopped erasure ends, and the caller repeats it.
      clock.advance(ERASURE_HOLD_MS + 1);
      const repeated = await eraseLead(deps, ids.lead).then(
        () => 'erased',
        (error: unknown) => {
          if (error instanceof NotFoundError) return 'not found';
          throw error;
        },
      );
      expect(repeated, tag).toBe(
        stateLeft === undefined ? 'not found' : 'erased',
      );
      clock.advance(SWEEP_DELAY_MS);
      await runSweep(deps, { now: clock.now, deadline: Infinity });

      const items = await scanTable(setup);
      expect(itemsNaming(items, ids.all), tag).toEqual([]);
      expect(tableViolations(items), tag).toEqual([]);
      const erased = erasedEventsOf(setup.published, ids.lead);
      expect(new Set(erased.map((event) => event.eventId)).size, tag).toBe(1);
      // Delivery is at least once: an event the bus took before the
      // function stopped, whose outbox entry was left, is sent again.
      const resent = publishedByStopped > 0 && entryLeft ? 1 : 0;
      expect(erased, tag).toHaveLength(1 + resent);
    }
  });
});
