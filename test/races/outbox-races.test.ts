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
import {
  type EntryFault,
  FAULTS,
  type faultyDependencies,
  outboxEntries,
  qualifiedWithFault,
} from '../support/fault-injection.js';
import { holdNextCall } from '../support/held-call.js';

const ACCEPT: EntryFault = () => undefined;

/**
 * Stores `leadId` qualified from the `default` source, with the bus
 * failing entries by `firstFault`.
 */
function qualifiedLead(leadId: string, firstFault: EntryFault) {
  return qualifiedWithFault(leadId, firstFault, 'default');
}

/**
 * Stores lead `rejected`, whose "Lead Qualified" the bus rejected for
 * good, and returns the setup with that event's id.
 */
async function tableWithFailedEntry() {
  const { setup, fault } = await qualifiedLead(
    'rejected',
    () => FAULTS.invalid,
  );
  fault.current = ACCEPT;
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

type Setup = Awaited<ReturnType<typeof faultyDependencies>>;

/** Runs one sweep at the setup's clock with no deadline. */
function sweep(setup: Setup) {
  return runSweep(setup.deps, {
    now: setup.clock.now,
    deadline: Number.POSITIVE_INFINITY,
  });
}

/**
 * Holds the publisher's next call, or its next call that `matches`
 * accepts, before it sends.
 */
function holdPublish(
  setup: Setup,
  matches?: (events: readonly { eventId: string }[]) => boolean,
) {
  return holdNextCall(setup.deps.publisher, 'publish', {
    when: 'before',
    matches,
  });
}

/** Starts an erasure that resolves to its error instead of rejecting. */
function erasing(setup: Setup, leadId: string) {
  return eraseLead(setup.deps, leadId).catch((error: unknown) => error);
}

/** Erases `leadId` again when the first erasure's `outcome` is an error. */
async function eraseAgainAfterError(
  setup: Setup,
  leadId: string,
  outcome: unknown,
) {
  return outcome instanceof Error ? eraseLead(setup.deps, leadId) : undefined;
}

/** Merges lead `previousId` into `userId` with one alias message. */
function mergeLeads(setup: Setup, previousId: string, userId: string) {
  return ingestMessages(setup.deps, {
    sourceId: 'default',
    messages: [
      { type: 'alias', messageId: `alias-${previousId}`, previousId, userId },
    ],
    receivedAt: setup.clock.now,
  });
}

/** Gives a started erasure time to reach its own publish. */
function letErasureRun() {
  return new Promise((resolve) => setTimeout(resolve, 200));
}

describe('outbox retry with a bus racing the sweep', () => {
  it('publishes the entry once', async () => {
    const { setup, cli, eventId } = await tableWithFailedEntry();
    const publish = holdPublish(setup);

    const retry = retryOutbox(cli, 'all');
    await publish.reached;
    await sweep(setup);
    publish.release();
    const { outcomes } = await retry;

    expect(outcomes.map((outcome) => outcome.result)).toEqual(['published']);
    expect(setup.delivered.filter((id) => id === eventId)).toHaveLength(1);
    expect(
      await setup.repository.getOutboxEntry('rejected', eventId),
    ).toBeUndefined();
  });

  it('keeps entry due after retryable error', async () => {
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
    const publish = holdPublish(setup);

    const retry = retryOutbox(cli, 'all');
    await publish.reached;
    const erasure = erasing(setup, 'rejected');
    // The erasure either waits for the retry to publish or publishes the
    // entry itself, so let it reach its publish before the retry goes on.
    await letErasureRun();
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
    const erasure = erasing(setup, 'rejected');
    await listing.reached;
    const { outcomes } = await retryOutbox(cli, 'all');
    listing.release();
    const retried = await eraseAgainAfterError(
      setup,
      'rejected',
      await erasure,
    );

    expect(outcomes).toHaveLength(1);
    expect(retried?.leadId ?? 'rejected').toBe('rejected');
    expect(setup.delivered.filter((id) => id === eventId)).toHaveLength(1);
  });
});

describe('erasure racing the sweep republishing an entry', () => {
  it('publishes the entry once', async () => {
    const { setup, fault } = await qualifiedLead(
      'republished',
      () => FAULTS.throttled,
    );
    fault.current = ACCEPT;
    const publish = holdPublish(setup);

    // The sweep has claimed the entry the request could not publish and
    // is sending it when the erasure reads the outbox.
    const sweeping = sweep(setup);
    await publish.reached;
    const erasure = erasing(setup, 'republished');
    await letErasureRun();
    publish.release();
    await sweeping;
    const retried = await eraseAgainAfterError(
      setup,
      'republished',
      await erasure,
    );

    expect(setup.delivered.length).toBeGreaterThan(1);
    expect(setup.delivered).toEqual([...new Set(setup.delivered)]);
    expect(retried?.leadId ?? 'republished').toBe('republished');
    expect(await setup.repository.getLead('republished')).toBeUndefined();
  });

  it('leaves nothing to late sweep claim', async () => {
    const { setup, fault } = await qualifiedLead(
      'claimed-late',
      () => FAULTS.throttled,
    );
    fault.current = ACCEPT;
    const claim = holdNextCall(setup.repository, 'claimOutboxEntry', {
      when: 'before',
    });

    // The sweep has listed the entry as due when the erasure publishes it
    // and deletes the lead.
    const sweeping = sweep(setup);
    await claim.reached;
    const erasure = await eraseLead(setup.deps, 'claimed-late');
    claim.release();
    const swept = await sweeping;

    expect(erasure.result.itemsDeleted).toBeGreaterThan(0);
    expect(swept.published).toBe(0);
    expect(setup.delivered).toEqual([...new Set(setup.delivered)]);
    expect(await outboxEntries(setup.repository)).toEqual([]);
  });

  it('erases at once after failed sweep', async () => {
    const { setup, fault } = await qualifiedLead(
      'retry-later',
      () => FAULTS.throttled,
    );
    const swept = await sweep(setup);
    fault.current = ACCEPT;

    const erasure = await eraseLead(setup.deps, 'retry-later');

    expect(swept.pending).toBeGreaterThan(0);
    expect(erasure.result.itemsDeleted).toBeGreaterThan(0);
    expect(setup.delivered).toEqual([...new Set(setup.delivered)]);
  });
});

describe('erasure after a sweep lost its claim to another', () => {
  it('publishes the entry once', async () => {
    const { setup, fault } = await qualifiedLead(
      'reclaimed',
      () => FAULTS.throttled,
    );
    const [entry] = (
      await setup.repository.listOutboxEntries('reclaimed')
    ).filter(({ event }) => event.detailType === 'Lead Qualified');
    if (entry === undefined) throw new Error('No Lead Qualified is pending.');
    const eventId = entry.event.eventId;
    const sendsEntry = (events: readonly { eventId: string }[]) =>
      events.some((event) => event.eventId === eventId);
    const firstPublish = holdPublish(setup, sendsEntry);

    // The first sweep is still sending the entry when its claim's backoff
    // ends and a second sweep claims and sends it too.
    const firstSweep = sweep(setup);
    await firstPublish.reached;
    setup.clock.advance(31_000);
    const secondPublish = holdPublish(setup, sendsEntry);
    const secondSweep = sweep(setup);
    await secondPublish.reached;
    // The bus throttles the first sweep's send, which hands the entry
    // back while the second sweep's claim is still in place.
    firstPublish.release();
    await firstSweep;
    fault.current = ACCEPT;
    const erasure = await erasing(setup, 'reclaimed');
    secondPublish.release();
    await secondSweep;

    expect(setup.delivered.filter((id) => id === eventId)).toHaveLength(1);
    expect(erasure).toBeInstanceOf(ConcurrencyError);
  });
});

describe('erasure of a lead with a merged lead', () => {
  it("publishes the merged lead's pending events", async () => {
    const { setup, fault } = await qualifiedLead('old-id', ACCEPT);
    // The bus throttles every event of the alias, so the "Lead Recycled"
    // that ends the merged lead's episode stays in its outbox.
    fault.current = () => FAULTS.throttled;
    await mergeLeads(setup, 'old-id', 'new-id');
    fault.current = ACCEPT;
    const pending = await setup.repository.listOutboxEntries('old-id');

    await eraseLead(setup.deps, 'new-id');

    expect(pending.map((entry) => entry.event.detailType)).toContain(
      'Lead Recycled',
    );
    for (const entry of pending) {
      expect(setup.delivered).toContain(entry.event.eventId);
    }
  });

  it('continues at once after throttling', async () => {
    const { setup, fault } = await qualifiedLead('old-user', ACCEPT);
    // Only the merged lead's events are throttled, at the merge and again
    // during the first erasure.
    const recycledAtMerge = (detail: Record<string, unknown>) =>
      detail.leadId === 'old-user' && detail.status === 'recycled';
    fault.current = (_id, _call, detail) =>
      recycledAtMerge(detail) ? FAULTS.throttled : undefined;
    await mergeLeads(setup, 'old-user', 'new-user');
    const [pending] = await setup.repository.listOutboxEntries('old-user');

    const first = await erasing(setup, 'new-user');
    const heldLead = await setup.repository.getLead('new-user');
    fault.current = ACCEPT;
    const second = await eraseLead(setup.deps, 'new-user');

    expect(pending?.event.detailType).toBe('Lead Recycled');
    expect(first).toBeInstanceOf(CapacityExceededError);
    expect(heldLead?.erasureHeldUntil).toBeDefined();
    expect(second.result.itemsDeleted).toBeGreaterThan(0);
    expect(setup.delivered).toContain(pending?.event.eventId);
    expect(await setup.repository.getLead('new-user')).toBeUndefined();
    expect(await setup.repository.getLead('old-user')).toBeUndefined();
  });
});
