import { describe, expect, it } from 'vitest';
import { tallyOf } from '../../functions/domain/intent-tallies.js';
import {
  applyEvents,
  type LeadState,
  newLead,
} from '../../functions/domain/lead.js';
import { shallowCopy } from '../../functions/domain/lead-copy.js';
import { scoreLead } from '../../functions/domain/score.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { T0, trackingEvent } from '../fixtures/events.js';
import { modelWith } from '../fixtures/models.js';

const model = modelWith({
  fit: [{ traits: ['title'], pattern: 'chief', points: 30 }],
  intent: [
    {
      id: 'blog',
      when: { path: '^/blog/' },
      points: 2,
      cap: { max: 2, windowDays: 30 },
    },
    {
      id: 'click',
      when: { events: ['Email Link Clicked'] },
      points: 3,
      cap: { max: 4, windowDays: 7 },
    },
    { id: 'demo', when: { events: ['Demo Requested'] }, points: 40 },
  ],
});

function blogRead(days: number) {
  return trackingEvent({ type: 'page', path: '/blog/post', days });
}

function click(at: number, userAgent?: string) {
  return trackingEvent({
    type: 'track',
    name: 'Email Link Clicked',
    occurredAt: at,
    ...(userAgent === undefined ? {} : { userAgent }),
  });
}

/** Builds a lead with traits, capped and uncapped tallies and open clicks. */
function storedLead() {
  const events = [
    trackingEvent({ type: 'identify', traits: { title: 'Manager' } }),
    blogRead(1),
    blogRead(2),
    blogRead(3),
    trackingEvent({ type: 'track', name: 'Demo Requested', days: 4 }),
    click(T0 + 5 * DAY_MS),
    click(T0 + 5 * DAY_MS + 10),
  ];
  return applyEvents(newLead('lead-1', model, T0), events, model).state;
}

describe('applyEvents copies', () => {
  it('leaves the input state unchanged', () => {
    const stored = storedLead();
    const snapshot = structuredClone(stored);

    applyEvents(
      stored,
      [
        trackingEvent({
          type: 'identify',
          traits: { title: 'Chief' },
          days: 7,
        }),
        blogRead(2.5),
        // A third click in the same second is a burst: it takes back the
        // two stored clicks and quarantines all three.
        click(T0 + 5 * DAY_MS + 20),
        click(T0 + 6 * DAY_MS, 'Mozilla/5.0 (compatible; bingbot/2.0)'),
      ],
      model,
    );

    expect(stored).toStrictEqual(snapshot);
  });

  it('changes the copy as events require', () => {
    const stored = storedLead();

    const { state } = applyEvents(
      stored,
      [
        trackingEvent({
          type: 'identify',
          traits: { title: 'Chief' },
          days: 7,
        }),
        click(T0 + 5 * DAY_MS + 20),
      ],
      model,
    );

    expect(state.traits.title?.value).toBe('Chief');
    expect(tallyOf(state.intent, 'click')).toBeUndefined();
    expect(state.quarantined['click-burst']?.count).toBe(3);
    expect(scoreLead(state, model, T0 + 6 * DAY_MS).fit).toBe(30);
    expect(scoreLead(stored, model, T0 + 6 * DAY_MS).fit).toBe(0);
  });

  it('shares the tallies that events leave alone', () => {
    const stored = storedLead();

    const { state } = applyEvents(stored, [blogRead(20)], model);

    expect(tallyOf(state.intent, 'demo')).toBe(tallyOf(stored.intent, 'demo'));
    expect(tallyOf(state.intent, 'blog')).not.toBe(
      tallyOf(stored.intent, 'blog'),
    );
    expect(tallyOf(state.intent, 'blog')?.windows).not.toBe(
      tallyOf(stored.intent, 'blog')?.windows,
    );
    expect(state.traits).toBe(stored.traits);
  });

  it('keeps an earlier result intact after a later request', () => {
    const first = applyEvents(storedLead(), [blogRead(10)], model).state;
    const snapshot = structuredClone(first);

    applyEvents(first, [blogRead(11), blogRead(12)], model);

    expect(first).toStrictEqual(snapshot);
  });
});

describe('shallowCopy', () => {
  it('copies every field of a lead', () => {
    const lead: LeadState = {
      ...storedLead(),
      displayId: 'Jane@Acme.example',
      createdAt: T0,
      lastScore: { at: T0, score: 1, fit: 1, intent: 0, modelVersion: 'v' },
      groupId: { value: 'acme', at: T0 },
      membership: {
        accountId: 'acme',
        role: undefined,
        fit: 1,
        intentStep: 0,
        engaged: false,
        status: 'engaged',
      },
      disposition: { kind: 'accepted', episode: 1, at: T0 },
      mergedInto: 'lead-2',
      mergedAt: T0,
      mergePending: false,
    };

    const copy = shallowCopy(lead);

    expect(copy).toStrictEqual(lead);
    expect(copy).not.toBe(lead);
    expect(copy.intent).toBe(lead.intent);
  });

  it('lists absent optional fields as undefined', () => {
    const lead = newLead('lead-1', model, T0);

    const copy = shallowCopy(lead);

    expect(copy).toEqual(lead);
    expect(Object.keys(copy)).toContain('mergedInto');
    expect(copy.mergedInto).toBeUndefined();
  });
});
