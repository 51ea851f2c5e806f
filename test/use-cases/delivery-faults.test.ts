import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { incarnationOf } from '../../functions/domain/lead.js';
import {
  segmentMessageSchema,
  toTrackingEvent,
} from '../../functions/domain/messages.js';
import { transitionEventId } from '../../functions/domain/outgoing-events.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { updateLead } from '../../functions/use-cases/update-lead.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { CLOCK_START } from '../support/dependencies.js';
import {
  type EntryFault,
  FAULTS,
  faultyDependencies,
  outboxEntries,
} from '../support/fault-injection.js';

const ACCEPT: EntryFault = () => undefined;
/** Past the outbox grace period and the longest sweep backoff. */
const HOUR_MS = 3_600_000;

type Setup = Awaited<ReturnType<typeof faultyDependencies>>;

function leadIds(count: number, prefix = 'lead'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

/** Returns the "Lead Qualified" event id of each stored lead's first episode. */
async function qualifiedIds(
  setup: Setup,
  leads: readonly string[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const leadId of leads) {
    const state = await setup.repository.getLead(leadId);
    if (state === undefined) throw new Error(`Lead ${leadId} is not stored.`);
    ids.push(transitionEventId(leadId, 1, 'qualified', incarnationOf(state)));
  }
  return ids;
}

async function qualify(setup: Setup, leads: readonly string[]) {
  return ingestMessages(setup.deps, {
    sourceId: 'default',
    messages: leads.flatMap((leadId) => qualifyingBatch(leadId)),
    receivedAt: setup.clock.now,
  });
}

/** Runs sweeps an hour apart until the outbox has no pending entry. */
async function sweepUntilSettled(setup: Setup, maxRuns = 10): Promise<void> {
  for (let run = 0; run < maxRuns; run += 1) {
    setup.clock.advance(HOUR_MS);
    await runSweep(setup.deps, { now: setup.clock.now, deadline: Infinity });
    const left = await outboxEntries(setup.repository);
    if (left.every((entry) => entry.status === 'failed')) return;
  }
}

function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}

describe('delivery under injected faults', () => {
  it('publishes 12 events of one flush in two requests', async () => {
    const fault = { current: ACCEPT };
    const setup = await faultyDependencies(fault);
    const leads = leadIds(12);

    const result = await qualify(setup, leads);

    const sizes = setup.mock
      .commandCalls(PutEventsCommand)
      .map((call) => call.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 2]);
    expect(result.events).toEqual({ published: 12, pending: 0, failed: 0 });
    expect(sorted(setup.delivered)).toEqual(
      sorted(await qualifiedIds(setup, leads)),
    );
    expect(await outboxEntries(setup.repository)).toEqual([]);
  });

  it('retries only the failed entries of a partial failure', async () => {
    const failedOnce = new Set<string>();
    const fault = {
      current: ((eventId) => {
        if (failedOnce.size < 6 && !failedOnce.has(eventId)) {
          failedOnce.add(eventId);
          return FAULTS.internal;
        }
        return undefined;
      }) as EntryFault,
    };
    const setup = await faultyDependencies(fault);
    const leads = leadIds(11);

    const result = await qualify(setup, leads);

    expect(result.events.published).toBe(11);
    expect(setup.delivered).toHaveLength(11);
    expect(sorted(setup.delivered)).toEqual(
      sorted(await qualifiedIds(setup, leads)),
    );
    expect(await outboxEntries(setup.repository)).toEqual([]);
  });

  it('leaves throttled events to the sweep, then publishes once', async () => {
    const fault = { current: (() => FAULTS.throttled) as EntryFault };
    const setup = await faultyDependencies(fault);
    const leads = leadIds(11);

    const result = await qualify(setup, leads);
    const pending = await outboxEntries(setup.repository);
    fault.current = ACCEPT;
    await sweepUntilSettled(setup);

    expect(result.events).toEqual({ published: 0, pending: 11, failed: 0 });
    expect(pending.map((entry) => entry.status)).toEqual(
      leads.map(() => 'pending'),
    );
    // The request hands the entries it could not publish to the sweep at
    // once, instead of after the grace period.
    expect(pending.map((entry) => entry.dueAt)).toEqual(
      leads.map(() => CLOCK_START),
    );
    expect(setup.delivered).toHaveLength(11);
    expect(sorted(setup.delivered)).toEqual(
      sorted(await qualifiedIds(setup, leads)),
    );
    expect(await outboxEntries(setup.repository)).toEqual([]);
  });

  it.each([
    ['InvalidArgument', FAULTS.invalid],
    ['MalformedDetail', FAULTS.malformed],
    ['AccessDeniedException', FAULTS.denied],
  ])('keeps the %s rejection as a failed entry', async (code, failure) => {
    const [rejected, ...accepted] = leadIds(3);
    const fault = {
      current: ((_eventId, _call, detail) =>
        detail.leadId === rejected ? failure : undefined) as EntryFault,
    };
    const setup = await faultyDependencies(fault);

    const result = await qualify(setup, [rejected ?? '', ...accepted]);
    const [rejectedId] = await qualifiedIds(setup, [rejected ?? '']);
    await sweepUntilSettled(setup);
    const kept = await outboxEntries(setup.repository);

    expect(result.events).toEqual({ published: 2, pending: 1, failed: 1 });
    expect(kept).toHaveLength(1);
    expect(kept[0]?.status).toBe('failed');
    expect(kept[0]?.event.eventId).toBe(rejectedId);
    expect(kept[0]?.failure?.errorCode).toBe(code);
    expect(setup.mock.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(sorted(setup.delivered)).toEqual(
      sorted(await qualifiedIds(setup, accepted)),
    );
    const logged = setup.log.entries.find(
      (entry) => entry.message === 'event rejected by the bus',
    );
    expect(logged?.level).toBe('error');
    expect(logged?.fields?.eventId).toBe(rejectedId);
  });

  it('publishes a failed entry once after a requeue', async () => {
    const fault = { current: (() => FAULTS.invalid) as EntryFault };
    const setup = await faultyDependencies(fault);
    await qualify(setup, ['fixed']);
    const [failed] = await outboxEntries(setup.repository);

    fault.current = ACCEPT;
    const requeued = await setup.repository.requeueOutboxEntry(
      'fixed',
      failed?.event.eventId ?? '',
      setup.clock.now,
    );
    const again = await setup.repository.requeueOutboxEntry(
      'fixed',
      failed?.event.eventId ?? '',
      setup.clock.now,
    );
    await sweepUntilSettled(setup);

    expect(requeued).toBe(true);
    expect(again).toBe(false);
    expect(setup.delivered).toEqual(await qualifiedIds(setup, ['fixed']));
    expect(await outboxEntries(setup.repository)).toEqual([]);
  });

  it('publishes a transition committed before a crash', async () => {
    const fault = { current: ACCEPT };
    const setup = await faultyDependencies(fault);

    // The writer commits the transition and its outbox entry, then dies
    // before it publishes: nothing calls publishEvents.
    const update = await updateLead(
      setup.deps,
      'default',
      'crashed',
      qualifyingBatch('crashed').map((message) =>
        toTrackingEvent(segmentMessageSchema.parse(message), setup.clock.now),
      ),
      setup.clock.now,
    );
    const beforeSweep = [...setup.delivered];
    await sweepUntilSettled(setup);

    expect(update.outgoing).toHaveLength(1);
    expect(beforeSweep).toEqual([]);
    expect(setup.delivered).toEqual(await qualifiedIds(setup, ['crashed']));
    expect(await outboxEntries(setup.repository)).toEqual([]);
  });

  it('delivers a repeat with the same id after a lost removal', async () => {
    const fault = { current: ACCEPT };
    const setup = await faultyDependencies(fault);
    const remove = setup.repository.deleteOutboxEntry.bind(setup.repository);
    setup.repository.deleteOutboxEntry = async () => {
      throw new Error('process ended before the removal');
    };

    await qualify(setup, ['twice']);
    setup.repository.deleteOutboxEntry = remove;
    await sweepUntilSettled(setup);

    // At-least-once: the bus accepted the event, the removal was lost,
    // so the sweep sends it again under the same event id.
    const expected = await qualifiedIds(setup, ['twice']);
    expect(setup.delivered).toEqual([...expected, ...expected]);
    expect(await outboxEntries(setup.repository)).toEqual([]);
  });

  it('delivers repeats after a lost batch removal', async () => {
    const fault = { current: ACCEPT };
    const setup = await faultyDependencies(fault);
    const leads = leadIds(3, 'batch');
    const remove = setup.repository.deleteOutboxEntries.bind(setup.repository);
    setup.repository.deleteOutboxEntries = async () => {
      throw new Error('process ended before the removal');
    };

    await qualify(setup, leads);
    setup.repository.deleteOutboxEntries = remove;
    const beforeSweep = [...setup.delivered];
    await sweepUntilSettled(setup);

    const expected = await qualifiedIds(setup, leads);
    expect(sorted(beforeSweep)).toEqual(sorted(expected));
    expect(sorted(setup.delivered)).toEqual(sorted([...expected, ...expected]));
    expect(await outboxEntries(setup.repository)).toEqual([]);
  });
});
