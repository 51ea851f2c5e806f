import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../functions/domain/errors.js';
import type { LeadChange } from '../../functions/ports/lead-repository.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { holdNextCall } from '../support/held-call.js';
import {
  type FaultPlan,
  faultyDynamoDependencies,
  timeoutError,
} from './support/faulty-dynamodb.js';

type Setup = Awaited<ReturnType<typeof faultyDynamoDependencies>>;

const PASS: FaultPlan = () => 'pass';

/** Stores a qualified lead and moves the clock past its decay recycle. */
async function mqlPastItsRecycle(setup: Setup, leadId: string) {
  await ingestMessages(setup.deps, {
    sourceId: 'web',
    messages: qualifyingBatch(leadId),
    receivedAt: setup.clock.now,
  });
  const lead = await setup.repository.getLead(leadId);
  expect(lead?.status).toBe('mql');
  const reviewAt = lead?.nextReviewAt;
  if (reviewAt === undefined) throw new Error(`${leadId} has no review time`);
  setup.clock.now = reviewAt + 60_000;
}

function sweep(setup: Setup) {
  return runSweep(setup.deps, {
    now: setup.clock.now,
    deadline: Number.POSITIVE_INFINITY,
  });
}

/** Holds the next lead write whose source is `sourceId` before it runs. */
function holdWrite(setup: Setup, sourceId: string) {
  return holdNextCall(setup.repository, 'saveLeadChange', {
    when: 'before',
    matches: (change: LeadChange) => change.sourceId === sourceId,
  });
}

/** Published event ids of one lead and detail type, repeats included. */
function publishedIds(setup: Setup, leadId: string, detailType: string) {
  return setup.published
    .filter(
      (event) => event.leadId === leadId && event.detailType === detailType,
    )
    .map((event) => event.eventId);
}

/** Runs a sweep after the outbox grace period, which publishes leftovers. */
async function sweepAfterGrace(setup: Setup) {
  setup.clock.advance(2 * 60_000);
  await sweep(setup);
}

describe('disposition racing the sweep recycle', () => {
  it('keeps a conversion stored first', async () => {
    const setup = await faultyDynamoDependencies({ current: PASS });
    await mqlPastItsRecycle(setup, 'swept');
    const sweepWrite = holdWrite(setup, 'sweep');

    const running = sweep(setup);
    await sweepWrite.reached;
    const result = await recordDisposition(setup.deps, 'swept', {
      kind: 'converted',
      convertedTo: 'sql',
    });
    sweepWrite.release();
    await running;
    await sweepAfterGrace(setup);

    const lead = await setup.repository.getLead('swept');
    expect(result.changed).toBe(true);
    expect(lead?.status).toBe('recycled');
    expect(lead?.disposition?.kind).toBe('converted');
    expect(publishedIds(setup, 'swept', 'Lead Recycled')).toHaveLength(1);
    expect(
      publishedIds(setup, 'swept', 'Lead Disposition Changed'),
    ).toHaveLength(1);
    const history = await setup.repository.listHistory('swept', 5);
    expect(history.entries[0]?.after.status).toBe('recycled');
  });

  it('leaves one recycle of a sales recycle and the sweep', async () => {
    const setup = await faultyDynamoDependencies({ current: PASS });
    await mqlPastItsRecycle(setup, 'decayed');
    // Sales sends the recycle just before the decay recycle is due, and
    // a sweep that runs late writes the decay recycle meanwhile.
    const sweepNow = setup.clock.now;
    setup.clock.now -= 2 * 60_000;
    const salesWrite = holdWrite(setup, 'sales');

    const disposition = recordDisposition(setup.deps, 'decayed', {
      kind: 'recycled',
      reason: 'not now',
    }).catch((error: unknown) => error);
    await salesWrite.reached;
    await runSweep(setup.deps, {
      now: sweepNow,
      deadline: Number.POSITIVE_INFINITY,
    });
    salesWrite.release();
    const outcome = await disposition;
    setup.clock.now = sweepNow;
    await sweepAfterGrace(setup);

    const lead = await setup.repository.getLead('decayed');
    expect(outcome).toBeInstanceOf(ConflictError);
    expect(lead?.status).toBe('recycled');
    expect(lead?.disposition).toBeUndefined();
    expect(publishedIds(setup, 'decayed', 'Lead Recycled')).toHaveLength(1);
    expect(publishedIds(setup, 'decayed', 'Lead Disposition Changed')).toEqual(
      [],
    );
  });

  it('keeps a sales recycle stored before the sweep', async () => {
    const setup = await faultyDynamoDependencies({ current: PASS });
    await mqlPastItsRecycle(setup, 'recycled-first');
    const sweepNow = setup.clock.now;
    setup.clock.now -= 2 * 60_000;
    const sweepWrite = holdWrite(setup, 'sweep');

    const running = runSweep(setup.deps, {
      now: sweepNow,
      deadline: Number.POSITIVE_INFINITY,
    });
    await sweepWrite.reached;
    const result = await recordDisposition(setup.deps, 'recycled-first', {
      kind: 'recycled',
      reason: 'not now',
    });
    sweepWrite.release();
    await running;
    setup.clock.now = sweepNow;
    await sweepAfterGrace(setup);

    const lead = await setup.repository.getLead('recycled-first');
    expect(result.changed).toBe(true);
    expect(lead?.status).toBe('recycled');
    expect(lead?.disposition?.kind).toBe('recycled');
    const recycled = setup.published.filter(
      (event) =>
        event.leadId === 'recycled-first' &&
        event.detailType === 'Lead Recycled',
    );
    expect(recycled).toHaveLength(1);
    expect(JSON.stringify(recycled[0]?.detail)).toContain('recycled by sales');
  });
});

describe('disposition retried after its commit', () => {
  it('publishes each event once', async () => {
    const plan = { current: PASS };
    const setup = await faultyDynamoDependencies(plan);
    await ingestMessages(setup.deps, {
      sourceId: 'web',
      messages: qualifyingBatch('retried'),
      receivedAt: setup.clock.now,
    });
    let failed = false;
    plan.current = (command, input) => {
      const isSalesWrite =
        command === 'TransactWriteItemsCommand' &&
        JSON.stringify(input).includes('Lead Disposition Changed');
      if (!isSalesWrite || failed) return 'pass';
      failed = true;
      return { failAfterCommit: timeoutError() };
    };
    const request = { kind: 'rejected', reason: 'no budget' } as const;

    const first = await recordDisposition(setup.deps, 'retried', request).catch(
      (error: unknown) => error,
    );
    const retry = await recordDisposition(setup.deps, 'retried', request);
    await sweepAfterGrace(setup);

    expect(first).toBeInstanceOf(Error);
    expect(retry.changed).toBe(false);
    expect(retry.lead.status).toBe('recycled');
    expect(publishedIds(setup, 'retried', 'Lead Recycled')).toHaveLength(1);
    expect(
      publishedIds(setup, 'retried', 'Lead Disposition Changed'),
    ).toHaveLength(1);
    const history = await setup.repository.listHistory('retried', 5);
    const causes = history.entries.map((entry) => entry.cause);
    expect(causes.filter((cause) => cause === 'disposition')).toHaveLength(1);
  });
});
