import { describe, expect, it } from 'vitest';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import { DAY_MS } from '../../functions/domain/time.js';
import {
  groupByLead,
  resolveIdentities,
  simulateLead,
} from '../../scripts/model/simulate.js';
import {
  cfoIdentify,
  demo,
  pricing,
  T0,
  trackingEvent,
} from '../fixtures/events.js';
import { testModel } from '../fixtures/models.js';

const model = testModel();

function link(
  userId: string,
  anonymousId: string,
  days: number,
): TrackingEvent {
  return trackingEvent({ type: 'identify', userId, anonymousId, days });
}

describe('resolveIdentities', () => {
  it('keeps the first user of an anonymous id', () => {
    const merged = resolveIdentities([
      link('second', 'a1', 5),
      link('first', 'a1', 1),
    ]);

    expect(merged.get('anon:a1')).toBe('first');
  });

  it('follows a chain of links', () => {
    const merged = resolveIdentities([
      link('old', 'a1', 1),
      trackingEvent({
        type: 'alias',
        userId: 'new',
        previousId: 'old',
        days: 2,
      }),
    ]);

    expect(merged.get('anon:a1')).toBe('old');
    expect(merged.get('old')).toBe('new');
  });
});

describe('groupByLead', () => {
  it('puts earlier anonymous events on the identified lead', () => {
    const anonymous = { ...pricing(0), userId: undefined, anonymousId: 'a9' };

    const byLead = groupByLead([anonymous, link('kim', 'a9', 3)]);

    expect([...byLead.keys()]).toEqual(['kim']);
    expect(byLead.get('kim')).toHaveLength(2);
  });
});

describe('simulateLead', () => {
  it('qualifies, recycles when quiet and qualifies again', () => {
    const burst = (days: number) =>
      [demo(days), demo(days), pricing(days)].map((event, index) => ({
        ...event,
        messageId: `burst-${days}-${index}`,
      }));
    const events = [cfoIdentify(0), ...burst(0), ...burst(900)];

    const lead = simulateLead('l', events, model, T0 + 910 * DAY_MS);

    expect(lead.episodes).toBe(2);
    expect(lead.status).toBe('mql');
    expect(lead.events).toBe(7);
  });

  it('ignores events after the as-of time', () => {
    const lead = simulateLead(
      'l',
      [cfoIdentify(0), demo(10), pricing(10)],
      model,
      T0 + 5 * DAY_MS,
    );

    expect(lead.events).toBe(1);
    expect(lead.score).toBe(50);
  });
});
