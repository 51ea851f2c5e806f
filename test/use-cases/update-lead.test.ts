import { describe, expect, it } from 'vitest';
import { scoreLead } from '../../functions/domain/score.js';
import { updateLead } from '../../functions/use-cases/update-lead.js';
import { trackingEvent } from '../fixtures/events.js';
import { testModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';

describe('updateLead', () => {
  it('loses no update when 32 requests race for one lead', async () => {
    const model = testModel();
    const { deps, clock } = await realDependencies({ model });
    const events = Array.from({ length: 32 }, (_, i) =>
      trackingEvent({
        messageId: `race-${i}`,
        userId: 'racer',
        type: 'page',
        path: '/blog/post',
        occurredAt: clock.now,
        receivedAt: clock.now,
      }),
    );

    await Promise.all(
      events.map((event) =>
        updateLead(deps, 'default', 'racer', [event], clock.now),
      ),
    );

    const state = await deps.repository.getLead('racer');
    expect(state?.eventCount).toBe(32);
    expect(state?.version).toBe(32);
    if (state === undefined) throw new Error('lead racer was not stored');
    // Decay weights are stored to 2^-36 of a point per event.
    expect(scoreLead(state, model, clock.now).intent).toBeCloseTo(64, 6);
  });

  it('splits more events than one transaction holds', async () => {
    const model = testModel();
    const { deps, clock } = await realDependencies({ model });
    const events = Array.from({ length: 100 }, (_, i) =>
      trackingEvent({
        messageId: `bulk-${i}`,
        userId: 'bulk',
        type: 'page',
        path: '/blog/post',
        occurredAt: clock.now,
      }),
    );

    const update = await updateLead(deps, 'default', 'bulk', events, clock.now);

    expect(update.storedMessageIds).toHaveLength(100);
    const state = await deps.repository.getLead('bulk');
    expect(state?.eventCount).toBe(100);
    expect(state?.version).toBe(3);
  });

  it('retries from a fresh read when the prefetched state is stale', async () => {
    const model = testModel();
    const { deps, clock } = await realDependencies({ model });
    const page = (messageId: string) =>
      trackingEvent({
        messageId,
        userId: 'stale',
        type: 'page',
        path: '/blog/post',
        occurredAt: clock.now,
        receivedAt: clock.now,
      });
    await updateLead(deps, 'default', 'stale', [page('first')], clock.now);
    const prefetched = await deps.repository.getLead('stale');
    await updateLead(deps, 'default', 'stale', [page('second')], clock.now);

    await updateLead(deps, 'default', 'stale', [page('third')], clock.now, {
      state: prefetched,
      storedMessages: new Map(),
    });

    const state = await deps.repository.getLead('stale');
    expect(prefetched?.version).toBe(1);
    expect(state?.version).toBe(3);
    expect(state?.eventCount).toBe(3);
  });

  it('carries the written state across chunks of a prefetched update', async () => {
    const model = testModel();
    const { deps, clock } = await realDependencies({ model });
    const events = Array.from({ length: 100 }, (_, i) =>
      trackingEvent({
        messageId: `chunked-${i}`,
        userId: 'chunked',
        type: 'page',
        path: '/blog/post',
        occurredAt: clock.now,
      }),
    );
    let reads = 0;
    const getLead = deps.repository.getLead.bind(deps.repository);
    deps.repository.getLead = (leadId) => {
      reads += 1;
      return getLead(leadId);
    };

    const update = await updateLead(
      deps,
      'default',
      'chunked',
      events,
      clock.now,
      {
        state: undefined,
        storedMessages: new Map([['chunked-7', 'chunked']]),
      },
    );

    expect(reads).toBe(0);
    expect(update.storedMessageIds).toHaveLength(99);
    expect(update.duplicateMessageIds).toEqual(['chunked-7']);
    const state = await getLead('chunked');
    expect(state?.eventCount).toBe(99);
    expect(state?.version).toBe(3);
  });
});
