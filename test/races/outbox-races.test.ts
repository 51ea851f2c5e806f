import { describe, expect, it } from 'vitest';
import {
  CapacityExceededError,
  ConcurrencyError,
} from '../../functions/domain/errors.js';
import { incarnationOf } from '../../functions/domain/lead.js';
import { transitionEventId } from '../../functions/domain/outgoing-events.js';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { retryOutbox } from '../../scripts/outbox/commands.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import {
  type EntryFault,
  FAULTS,
  faultyDependencies,
  outboxEntries,
} from '../support/fault-injection.js';
import { holdNextCall } from '../support/held-call.js';

/**
 * Stores lead `rejected`, whose "Lead Qualified" the bus rejected for
 * good, and returns the setup with that event's id.
 */
async function tableWithFailedEntry() {
  const fault = { current: (() => FAULTS.invalid) as EntryFault };
  const setup = await faultyDependencies(fault);
  await ingestMessages(setup.deps, {
    sourceId: 'default',
    messages: qualifyingBatch('rejected'),
    receivedAt: setup.clock.now,
  });
  fault.current = () => undefined;
  const lead = await setup.repository.getLead('rejected');
  if (lead === undefined) throw new Error('Lead rejected is not stored.');
  const eventId = transitionEventId(
    'rejected',
    1,
    'qualified',
    incarnationOf(lead),
  );
  const cli = {
    repository: setup.repository,
    clock: setup.deps.clock,
    log: setup.log,
    publisher: setup.deps.publisher,
  };
  return { setup, cli, eventId, fault };
}

describe('outbox retry with a bus racing the sweep', () => {
  it('publishes the entry once', async () => {
    const { setup, cli, eventId } = await tableWithFailedEntry();
    const publish = holdNextCall(setup.deps.publisher, 'publish', {
      when: 'before',
    });

    const retry = retryOutbox(cli, 'all');
    await publish.reached;
    await runSweep(setup.deps, {
      now: setup.clock.now,
      deadline: Number.POSITIVE_INFINITY,
    });
    publish.release();
    const { outcomes } = await retry;

    expect(outcomes.map((outcome) => outcome.result)).toEqual(['published']);
    expect(setup.delivered.filter((id) => id === eventId)).toHaveLength(1);
    expect(
      await setup.repository.getOutboxEntry('rejected', eventId),
    ).toBeUndefined();
  });

  it('leaves the entry due at once after a retryable error', async () => {
    const { setup, cli, eventId, fault } = await tableWithFailedEntry();
    fault.current = () => FAULTS.throttled;

    const { outcomes } = await retryOutbox(cli, 'all');
    const entry = await setup.repository.getOutboxEntry('rejected', eventId);

    expect(outcomes.map((outcome) => outcome.result)).toEqual(['pending']);
    expect(entry?.status).toBe('pending');
    expect(entry?.dueAt).toBe(setup.clock.now);
  });
});

describe('outbox retry with a bus racing an erasure', () => {
  it('publishes the entry once', async () => {
    const { setup, cli, eventId } = await tableWithFailedEntry();
    const publish = holdNextCall(setup.deps.publisher, 'publish', {
      when: 'before',
    });

    const retry = retryOutbox(cli, 'all');
    await publish.reached;
    const erasure = eraseLead(setup.deps, 'rejected').catch(
      (error: unknown) => error,
    );
    // The erasure either waits for the retry to publish or publishes the
    // entry itself, so let it reach its publish before the retry goes on.
    await new Promise((resolve) => setTimeout(resolve, 200));
    publish.release();
    await retry;
    await erasure;

    expect(setup.delivered.filter((id) => id === eventId)).toHaveLength(1);
  });
});

describe('erasure reading a failed entry before its retry', () => {
  it('publishes the entry once', async () => {
    const { setup, cli, eventId } = await tableWithFailedEntry();
    const listing = holdNextCall(setup.repository, 'listOutboxEntries', {
      when: 'after',
    });

    // The erasure has read the entry as failed when the operator retries
    // it with a bus.
    const erasure = eraseLead(setup.deps, 'rejected').catch(
      (error: unknown) => error,
    );
    await listing.reached;
    const { outcomes } = await retryOutbox(cli, 'all');
    listing.release();
    const outcome = await erasure;
    const retried =
      outcome instanceof Error
        ? await eraseLead(setup.deps, 'rejected')
        : undefined;

    expect(outcomes).toHaveLength(1);
    expect(retried?.leadId ?? 'rejected').toBe('rejected');
    expect(setup.delivered.filter((id) => id === eventId)).toHaveLength(1);
  });
});

describe('erasure racing the sweep republishing an entry', () => {
  it('publishes the entry once', async () => {
    const fault = { current: (() => FAULTS.throttled) as EntryFault };
    const setup = await faultyDependencies(fault);
    await ingestMessages(setup.deps, {
      sourceId: 'default',
      messages: qualifyingBatch('republished'),
      receivedAt: setup.clock.now,
    });
    fault.current = () => undefined;
    const publish = holdNextCall(setup.deps.publisher, 'publish', {
      when: 'before',
    });

    // The sweep has claimed the entry the request could not publish and
    // is sending it when the erasure reads the outbox.
    const sweep = runSweep(setup.deps, {
      now: setup.clock.now,
      deadline: Number.POSITIVE_INFINITY,
    });
    await publish.reached;
    const erasure = eraseLead(setup.deps, 'republished').catch(
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    publish.release();
    await sweep;
    const outcome = await erasure;
    const retried =
      outcome instanceof Error
        ? await eraseLead(setup.deps, 'republished')
        : undefined;

    expect(setup.delivered.length).toBeGreaterThan(1);
    expect(setup.delivered).toEqual([...new Set(setup.delivered)]);
    expect(retried?.leadId ?? 'republished').toBe('republished');
    expect(await setup.repository.getLead('republished')).toBeUndefined();
  });

  it('leaves nothing to a sweep that claims late', async () => {
    const fault = { current: (() => FAULTS.throttled) as EntryFault };
    const setup = await faultyDependencies(fault);
    await ingestMessages(setup.deps, {
      sourceId: 'default',
      messages: qualifyingBatch('claimed-late'),
      receivedAt: setup.clock.now,
    });
    fault.current = () => undefined;
    const claim = holdNextCall(setup.repository, 'claimOutboxEntry', {
      when: 'before',
    });

    // The sweep has listed the entry as due when the erasure publishes it
    // and deletes the lead.
    const sweep = runSweep(setup.deps, {
      now: setup.clock.now,
      deadline: Number.POSITIVE_INFINITY,
    });
    await claim.reached;
    const erasure = await eraseLead(setup.deps, 'claimed-late');
    claim.release();
    const swept = await sweep;

    expect(erasure.result.itemsDeleted).toBeGreaterThan(0);
    expect(swept.published).toBe(0);
    expect(setup.delivered).toEqual([...new Set(setup.delivered)]);
    expect(await outboxEntries(setup.repository)).toEqual([]);
  });

  it('erases at once after the sweep failed to publish', async () => {
    const fault = { current: (() => FAULTS.throttled) as EntryFault };
    const setup = await faultyDependencies(fault);
    await ingestMessages(setup.deps, {
      sourceId: 'default',
      messages: qualifyingBatch('retry-later'),
      receivedAt: setup.clock.now,
    });
    const sweep = await runSweep(setup.deps, {
      now: setup.clock.now,
      deadline: Number.POSITIVE_INFINITY,
    });
    fault.current = () => undefined;

    const erasure = await eraseLead(setup.deps, 'retry-later');

    expect(sweep.pending).toBeGreaterThan(0);
    expect(erasure.result.itemsDeleted).toBeGreaterThan(0);
    expect(setup.delivered).toEqual([...new Set(setup.delivered)]);
  });
});

describe('erasure after a sweep lost its claim to another', () => {
  it('publishes the entry once', async () => {
    const fault = { current: (() => FAULTS.throttled) as EntryFault };
    const setup = await faultyDependencies(fault);
    await ingestMessages(setup.deps, {
      sourceId: 'default',
      messages: qualifyingBatch('reclaimed'),
      receivedAt: setup.clock.now,
    });
    const [entry] = (
      await setup.repository.listOutboxEntries('reclaimed')
    ).filter(({ event }) => event.detailType === 'Lead Qualified');
    if (entry === undefined) throw new Error('No Lead Qualified is pending.');
    const eventId = entry.event.eventId;
    const sendsEntry = (events: readonly { eventId: string }[]) =>
      events.some((event) => event.eventId === eventId);
    const firstPublish = holdNextCall(setup.deps.publisher, 'publish', {
      when: 'before',
      matches: sendsEntry,
    });

    // The first sweep is still sending the entry when its claim's backoff
    // ends and a second sweep claims and sends it too.
    const firstSweep = runSweep(setup.deps, {
      now: setup.clock.now,
      deadline: Number.POSITIVE_INFINITY,
    });
    await firstPublish.reached;
    setup.clock.advance(31_000);
    const secondPublish = holdNextCall(setup.deps.publisher, 'publish', {
      when: 'before',
      matches: sendsEntry,
    });
    const secondSweep = runSweep(setup.deps, {
      now: setup.clock.now,
      deadline: Number.POSITIVE_INFINITY,
    });
    await secondPublish.reached;
    // The bus throttles the first sweep's send, which hands the entry
    // back while the second sweep's claim is still in place.
    firstPublish.release();
    await firstSweep;
    fault.current = () => undefined;
    const erasure = await eraseLead(setup.deps, 'reclaimed').catch(
      (error: unknown) => error,
    );
    secondPublish.release();
    await secondSweep;

    expect(setup.delivered.filter((id) => id === eventId)).toHaveLength(1);
    expect(erasure).toBeInstanceOf(ConcurrencyError);
  });
});

describe('erasure of a lead with a merged lead', () => {
  it("publishes the merged lead's pending events", async () => {
    const fault = { current: (() => undefined) as EntryFault };
    const setup = await faultyDependencies(fault);
    await ingestMessages(setup.deps, {
      sourceId: 'default',
      messages: qualifyingBatch('old-id'),
      receivedAt: setup.clock.now,
    });
    // The bus throttles every event of the alias, so the "Lead Recycled"
    // that ends the merged lead's episode stays in its outbox.
    fault.current = () => FAULTS.throttled;
    await ingestMessages(setup.deps, {
      sourceId: 'default',
      messages: [
        {
          type: 'alias',
          messageId: 'alias-old-id',
          previousId: 'old-id',
          userId: 'new-id',
        },
      ],
      receivedAt: setup.clock.now,
    });
    fault.current = () => undefined;
    const pending = await setup.repository.listOutboxEntries('old-id');

    await eraseLead(setup.deps, 'new-id');

    expect(pending.map((entry) => entry.event.detailType)).toContain(
      'Lead Recycled',
    );
    for (const entry of pending) {
      expect(setup.delivered).toContain(entry.event.eventId);
    }
  });

  it('continues at once after the bus throttled them', async () => {
    const fault = { current: (() => undefined) as EntryFault };
    const setup = await faultyDependencies(fault);
    await ingestMessages(setup.deps, {
      sourceId: 'default',
      messages: qualifyingBatch('old-user'),
      receivedAt: setup.clock.now,
    });
    const alias = {
      type: 'alias',
      messageId: 'alias-old-user',
      previousId: 'old-user',
      userId: 'new-user',
    };
    // Only the merged lead's events are throttled, at the merge and again
    // during the first erasure.
    const recycledAtMerge = (detail: Record<string, unknown>) =>
      detail.leadId === 'old-user' && detail.status === 'recycled';
    fault.current = (_id, _call, detail) =>
      recycledAtMerge(detail) ? FAULTS.throttled : undefined;
    await ingestMessages(setup.deps, {
      sourceId: 'default',
      messages: [alias],
      receivedAt: setup.clock.now,
    });
    const [pending] = await setup.repository.listOutboxEntries('old-user');

    const first = await eraseLead(setup.deps, 'new-user').catch(
      (error: unknown) => error,
    );
    const held = await setup.repository.getLead('new-user');
    fault.current = () => undefined;
    const second = await eraseLead(setup.deps, 'new-user');

    expect(pending?.event.detailType).toBe('Lead Recycled');
    expect(first).toBeInstanceOf(CapacityExceededError);
    expect(held?.erasureHeldUntil).toBeDefined();
    expect(second.result.itemsDeleted).toBeGreaterThan(0);
    expect(setup.delivered).toContain(pending?.event.eventId);
    expect(await setup.repository.getLead('new-user')).toBeUndefined();
    expect(await setup.repository.getLead('old-user')).toBeUndefined();
  });
});
