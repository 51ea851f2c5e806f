import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../functions/domain/errors.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import {
  type FaultPlan,
  failFirstCommitMentioning,
  faultyDynamoDependencies,
} from './support/faulty-dynamodb.js';
import {
  holdWrite,
  ingestFromWeb,
  sweepAfterGrace,
  sweepAt,
} from './support/table-check.js';

type Setup = Awaited<ReturnType<typeof faultyDynamoDependencies>>;

const PASS: FaultPlan = () => 'pass';

/** Stores a qualified lead and moves the clock past its decay recycle. */
async function mqlPastItsRecycle(setup: Setup, leadId: string) {
  await ingestFromWeb(setup, qualifyingBatch(leadId));
  const lead = await setup.repository.getLead(leadId);
  expect(lead?.status).toBe('mql');
  const reviewAt = lead?.nextReviewAt;
  if (reviewAt === undefined) throw new Error(`${leadId} has no review time`);
  setup.clock.now = reviewAt + 60_000;
}

/**
 * Lists the published event ids of one lead and detail type, repeats
 * included.
 */
function publishedIds(setup: Setup, leadId: string, detailType: string) {
  return setup.published
    .filter(
      (event) => event.leadId === leadId && event.detailType === detailType,
    )
    .map((event) => event.eventId);
}

describe('disposition racing the sweep recycle', () => {
  it('keeps a conversion stored first', async () => {
    const setup = await faultyDynamoDependencies({ current: PASS });
    await mqlPastItsRecycle(setup, 'swept');
    const sweepWrite = holdWrite(setup, 'sweep');

    const running = sweepAt(setup);
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

  it('rejects sales recycle after sweep recycle', async () => {
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
    await sweepAt(setup, sweepNow);
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

  it('keeps sales recycle stored first', async () => {
    const setup = await faultyDynamoDependencies({ current: PASS });
    await mqlPastItsRecycle(setup, 'recycled-first');
    const sweepNow = setup.clock.now;
    setup.clock.now -= 2 * 60_000;
    const sweepWrite = holdWrite(setup, 'sweep');

    const running = sweepAt(setup, sweepNow);
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
    await ingestFromWeb(setup, qualifyingBatch('retried'));
    const failed = failFirstCommitMentioning(plan, 'Lead Disposition Changed');
    const request = { kind: 'rejected', reason: 'no budget' } as const;

    const first = await recordDisposition(setup.deps, 'retried', request).catch(
      (error: unknown) => error,
    );
    const retry = await recordDisposition(setup.deps, 'retried', request);
    await sweepAfterGrace(setup);

    expect(failed()).toBe(true);
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
