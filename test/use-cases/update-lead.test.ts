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
});
