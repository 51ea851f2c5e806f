import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../functions/domain/time.js';
import type { EventPublisher } from '../../functions/ports/event-publisher.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { SALES_TARGET } from '../../lib/definitions/event-routing.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';

async function receiveAll(
  routing: Awaited<ReturnType<typeof realDependencies>>['routing'],
) {
  const { Messages = [] } = await routing.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: routing.queueUrls[SALES_TARGET.id],
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
    }),
  );
  return Messages.map((message) => JSON.parse(message.Body ?? '{}'));
}

describe('runSweep', () => {
  it('recycles an MQL once its decayed score falls below the level', async () => {
    const { deps, clock } = await realDependencies();
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: qualifyingBatch('fading'),
      receivedAt: clock.now,
    });
    const qualified = await deps.repository.getLead('fading');
    const dueAt = qualified?.nextReviewAt ?? 0;

    clock.now = dueAt - 1000;
    const early = await runSweep(deps, { now: clock.now, deadline: Infinity });
    clock.now = dueAt + 5 * DAY_MS;
    const due = await runSweep(deps, { now: clock.now, deadline: Infinity });

    expect(early.read).toBe(0);
    expect(due).toMatchObject({
      read: 1,
      leadsChanged: 1,
      published: 1,
      qualified: 0,
      recycled: 1,
      outboxPending: 0,
    });
    const lead = await deps.repository.getLead('fading');
    expect(lead?.status).toBe('recycled');
    expect(lead?.recycledAt).toBe(dueAt);
    expect(lead?.nextReviewAt).toBeUndefined();
  });

  it('reads each due lead once', async () => {
    const { deps, clock } = await realDependencies();
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: qualifyingBatch('read-once'),
      receivedAt: clock.now,
    });
    const qualified = await deps.repository.getLead('read-once');
    clock.now = (qualified?.nextReviewAt ?? 0) + DAY_MS;
    let reads = 0;
    const getLead = deps.repository.getLead.bind(deps.repository);
    deps.repository.getLead = (leadId) => {
      reads += 1;
      return getLead(leadId);
    };

    const due = await runSweep(deps, { now: clock.now, deadline: Infinity });

    expect(due.recycled).toBe(1);
    expect(reads).toBe(1);
  });

  it('republishes an event whose first publish failed', async () => {
    const { deps, clock, routing } = await realDependencies();
    const working = deps.publisher;
    const failing: EventPublisher = {
      publish: async () => {
        throw new Error('bus unreachable');
      },
    };
    deps.publisher = failing;
    const result = await ingestMessages(deps, {
      sourceId: 'default',
      messages: qualifyingBatch('unlucky'),
      receivedAt: clock.now,
    });
    deps.publisher = working;

    clock.advance(2 * 60_000);
    const sweep = await runSweep(deps, { now: clock.now, deadline: Infinity });
    const again = await runSweep(deps, { now: clock.now, deadline: Infinity });

    expect(result.events).toEqual({ published: 0, pending: 1, failed: 0 });
    expect(sweep.published).toBe(1);
    expect(sweep.outboxPending).toBe(1);
    expect(sweep.oldestOutboxAgeMs).toBe(2 * 60_000);
    expect(again.read).toBe(0);
    const routed = await receiveAll(routing);
    expect(routed.map((event) => event.detail.leadId)).toEqual(['unlucky']);
  });

  it('publishes once when two sweeps overlap', async () => {
    const { deps, clock, routing } = await realDependencies();
    const working = deps.publisher;
    deps.publisher = { publish: async () => ({ published: [], failed: [] }) };
    for (const id of ['o1', 'o2', 'o3']) {
      await ingestMessages(deps, {
        sourceId: 'default',
        messages: qualifyingBatch(id),
        receivedAt: clock.now,
      });
    }
    deps.publisher = working;
    clock.advance(2 * 60_000);

    const [first, second] = await Promise.all([
      runSweep(deps, { now: clock.now, deadline: Infinity }),
      runSweep(deps, { now: clock.now, deadline: Infinity }),
    ]);

    expect(first.published + second.published).toBe(3);
    expect(first.outboxPending + second.outboxPending).toBe(3);
    const routed = [
      ...(await receiveAll(routing)),
      ...(await receiveAll(routing)),
    ];
    const ids = routed.map((event) => event.detail.eventId);
    expect(new Set(ids).size).toBe(3);
    expect(ids).toHaveLength(3);
  });

  it('stops at the deadline and reports the rest as incomplete', async () => {
    const { deps, clock } = await realDependencies();
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: qualifyingBatch('late'),
      receivedAt: clock.now,
    });

    const result = await runSweep(deps, {
      now: clock.now + 365 * DAY_MS,
      deadline: clock.now - 1,
    });

    expect(result.incomplete).toBe(true);
    expect(result.read).toBe(0);
  });
});
