import { describe, expect, it } from 'vitest';
import {
  fromStoredTally,
  type StoredIntentTally,
  toStoredTally,
} from '../../functions/domain/intent-tally.js';
import {
  applyEvents,
  type LeadState,
  newLead,
} from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import {
  fromStoredClickSeconds,
  type StoredClickSecond,
  toStoredClickSeconds,
} from '../../functions/domain/quarantine.js';
import { scoreLead } from '../../functions/domain/score.js';
import {
  fromStoredLead,
  type StoredLeadState,
  toStoredLead,
} from '../../functions/domain/stored-lead.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { T0, trackingEvent } from '../fixtures/events.js';
import { modelWith } from '../fixtures/models.js';
import * as reference from '../support/reference-scoring/index.js';

const model = modelWith({
  fit: [{ traits: ['title'], pattern: 'chief', points: 30 }],
  intent: [
    {
      id: 'blog',
      when: { path: '^/blog/' },
      points: 2,
      cap: { max: 2, windowDays: 30 },
    },
    { id: 'webinar', when: { events: ['Webinar Attended'] }, points: 12 },
    {
      id: 'once',
      when: { events: ['Demo Requested'] },
      points: 40,
      cap: { max: 1 },
    },
  ],
});

/** One second in days. */
const SECOND_DAYS = 1 / 86_400;

/**
 * Events over three calendar-free years and several cap windows, some of
 * them folded, with late events that displace counted ones, and email
 * clicks in seconds of which the latest click prunes the oldest.
 */
function history(): TrackingEvent[] {
  const days = [1, 2, 3, 35, 36, 200, 380, 400, 800, 2.5, 34];
  const clickDays = [800.2 + SECOND_DAYS, 799, 800.2, 800.2 + SECOND_DAYS];
  return [
    ...clickDays.map((day) =>
      trackingEvent({ type: 'track', name: 'Email Link Clicked', days: day }),
    ),
    trackingEvent({ type: 'identify', traits: { title: 'Chief' } }),
    ...days.map((day) =>
      trackingEvent({ type: 'page', path: '/blog/post', days: day }),
    ),
    trackingEvent({ type: 'track', name: 'Webinar Attended', days: 10 }),
    trackingEvent({ type: 'track', name: 'Webinar Attended', days: 390 }),
    trackingEvent({ type: 'track', name: 'Demo Requested', days: 20 }),
    trackingEvent({ type: 'track', name: 'Demo Requested', days: 5 }),
  ];
}

/**
 * Returns the lead as the record form stores it, built by the reference
 * copy of the scoring core, which keeps its state in that form.
 */
function recordFormLead(events: TrackingEvent[]): StoredLeadState {
  const lead = reference.newLead('lead-1', model, T0) as unknown as LeadState;
  const applied = reference.applyEvents(lead as never, events, model);
  return JSON.parse(JSON.stringify(applied.state)) as StoredLeadState;
}

describe('stored lead form', () => {
  it('reads a lead stored in the record form', () => {
    const events = history();
    const stored = recordFormLead(events);

    const loaded = fromStoredLead(stored);
    const applied = applyEvents(newLead('lead-1', model, T0), events, model);

    expect(loaded).toEqual(applied.state);
    const at = T0 + 500 * DAY_MS;
    expect(scoreLead(loaded, model, at)).toStrictEqual(
      scoreLead(applied.state, model, at),
    );
  });

  it('writes the record form', () => {
    const events = history();
    const { state } = applyEvents(newLead('lead-1', model, T0), events, model);

    const stored = JSON.parse(JSON.stringify(toStoredLead(state)));

    expect(stored).toStrictEqual(recordFormLead(events));
  });

  it('keeps a lead through a round trip', () => {
    const { state } = applyEvents(
      newLead('lead-1', model, T0),
      history(),
      model,
    );

    const stored = JSON.parse(JSON.stringify(toStoredLead(state)));

    expect(fromStoredLead(stored)).toEqual(state);
  });

  it('applies later events to a lead read from the record form', () => {
    const events = history();
    const later = [
      trackingEvent({ type: 'page', path: '/blog/post', days: 801 }),
      trackingEvent({ type: 'page', path: '/blog/post', days: 799.5 }),
    ];
    const loaded = fromStoredLead(recordFormLead(events));

    const { state } = applyEvents(loaded, later, model);

    expect(toStoredLead(state)).toStrictEqual(
      recordFormLead([...events, ...later]),
    );
  });
});

describe('stored click seconds', () => {
  it('orders seconds numerically', () => {
    const stored: Record<string, StoredClickSecond> = {
      '1000': { clicks: 2, scored: [['blog', 1_000_500]] },
      '999': { clicks: 1, scored: [] },
      '-5': { clicks: 1, scored: [['', -4_500]] },
    };

    const seconds = fromStoredClickSeconds(stored);

    expect(seconds.map((second) => second.second)).toEqual([-5, 999, 1000]);
    expect(seconds[2]).toEqual({
      second: 1000,
      clicks: 2,
      scored: [['blog', 1_000_500]],
    });
    expect(toStoredClickSeconds(seconds)).toStrictEqual(stored);
  });

  it('keeps the seconds of a lead', () => {
    const { state } = applyEvents(
      newLead('lead-1', model, T0),
      history(),
      model,
    );

    const stored = toStoredLead(state);

    expect(state.clickSeconds.map((second) => second.second)).toEqual([
      Math.floor((T0 + 800.2 * DAY_MS) / 1000),
      Math.floor((T0 + (800.2 + SECOND_DAYS) * DAY_MS) / 1000),
    ]);
    expect(Object.keys(stored.clickSeconds)).toHaveLength(2);
  });
});

describe('stored tally form', () => {
  it('orders years and windows numerically', () => {
    const stored: StoredIntentTally = {
      matched: 4,
      counted: 4,
      sums: { '10': 3, '9': 2, '-1': 1, '0': 5 },
      windows: {
        '100': { times: [3], total: 1 },
        '20': { times: [1, 2], total: 3 },
      },
      foldedBefore: 20,
    };

    const tally = fromStoredTally(stored);

    expect(tally.sums).toEqual([-1, 1, 0, 5, 9, 2, 10, 3]);
    expect(tally.windows?.map((window) => window.index)).toEqual([20, 100]);
    expect(toStoredTally(tally)).toStrictEqual(stored);
  });

  it('rejects a key that is not an integer', () => {
    const stored: StoredIntentTally = {
      matched: 1,
      counted: 1,
      sums: { '56.5': 1 },
    };

    expect(() => fromStoredTally(stored)).toThrow(/"56.5".*not an integer/);
  });
});
