import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainScore } from '../../functions/domain/explanation.js';
import { tallyOf } from '../../functions/domain/intent-tallies.js';
import {
  applyEvents,
  type LeadState,
  lastActivityOf,
  newLead,
} from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import { scoreLead } from '../../functions/domain/score.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { T0 } from '../fixtures/events.js';
import { modelWith } from '../fixtures/models.js';

/**
 * A model with every kind of intent state: uncapped rules at two
 * retentions, a windowed cap, a lifetime cap, a capped email click rule
 * (bursts take clicks back), a negative rule and fit rules.
 */
const model = modelWith({
  fit: [
    { traits: ['title'], group: 'persona', pattern: 'chief', points: 30 },
    { traits: ['title'], group: 'persona', pattern: 'manager', points: 10 },
    { traits: ['company.employee_count'], range: { min: 1000 }, points: 10 },
  ],
  intent: [
    { id: 'demo', when: { events: ['Demo Requested'] }, points: 40 },
    {
      id: 'guide',
      when: { events: ['Guide Downloaded'] },
      points: 15,
      retentionPerQuarter: 0.5,
    },
    {
      id: 'blog',
      when: { path: '^/blog/' },
      points: 2,
      cap: { max: 3, windowDays: 30 },
    },
    {
      id: 'webinar',
      when: { events: ['Webinar Attended'] },
      points: 12,
      cap: { max: 2 },
    },
    {
      id: 'click',
      when: { events: ['Email Link Clicked'] },
      points: 3,
      cap: { max: 4, windowDays: 7 },
    },
    { id: 'unsubscribe', when: { events: ['Unsubscribed'] }, points: -30 },
    { id: 'careers', when: { path: '^/careers' }, points: -5 },
  ],
  qualification: { threshold: 100, recycleBelow: 60 },
});

const HORIZON_DAYS = 400;
const CLICK_WINDOW_MS = 12 * 3_600_000;

type EventDraft = Omit<TrackingEvent, 'messageId' | 'receivedAt'>;

const behaviour: fc.Arbitrary<EventDraft> = fc
  .record({
    kind: fc.constantFrom(
      'demo',
      'guide',
      'blog',
      'webinar',
      'unsubscribe',
      'careers',
      'pricing',
    ),
    at: fc.oneof(
      fc.integer({ min: 0, max: HORIZON_DAYS * DAY_MS }),
      fc.integer({ min: 0, max: 20 * DAY_MS }),
      fc.constantFrom(0, DAY_MS, 45 * DAY_MS),
    ),
  })
  .map(({ kind, at }) => {
    const occurredAt = T0 + at;
    const base = { occurredAt, properties: {}, traits: {}, userId: 'l' };
    switch (kind) {
      case 'blog':
        return { ...base, type: 'page' as const, path: '/blog/post' };
      case 'careers':
        return { ...base, type: 'page' as const, path: '/careers' };
      case 'pricing':
        return { ...base, type: 'page' as const, path: '/pricing' };
      default:
        return { ...base, type: 'track' as const, name: trackName(kind) };
    }
  });

/** Email clicks within half a day, many in shared seconds. */
const clicks: fc.Arbitrary<EventDraft[]> = fc.array(
  fc
    .record({
      second: fc.integer({ min: 0, max: 40 }),
      offset: fc.integer({ min: 0, max: 999 }),
      spread: fc.integer({ min: 0, max: CLICK_WINDOW_MS }),
      bot: fc.boolean(),
    })
    .map(({ second, offset, spread, bot }) => ({
      type: 'track' as const,
      name: 'Email Link Clicked',
      occurredAt:
        T0 +
        200 * DAY_MS +
        (second % 3 === 0 ? spread : 0) +
        second * 1000 +
        offset,
      properties: {},
      traits: {},
      userId: 'l',
      ...(bot ? { userAgent: 'Mozilla/5.0 (compatible; bingbot/2.0)' } : {}),
    })),
  { maxLength: 20 },
);

const traits: fc.Arbitrary<EventDraft> = fc
  .record({
    title: fc.constantFrom('Chief Procurement Officer', 'Manager', 'Intern'),
    day: fc.integer({ min: 0, max: 5 }),
  })
  .map(({ title, day }) => ({
    type: 'identify' as const,
    occurredAt: T0 + day * DAY_MS,
    properties: {},
    traits: { title, 'company.employee_count': 5000 },
    userId: 'l',
  }));

const eventSets = fc
  .tuple(
    fc.array(behaviour, { maxLength: 60 }),
    clicks,
    fc.array(traits, { maxLength: 4 }),
  )
  .map(([a, b, c]) =>
    [...a, ...b, ...c].map(
      (draft, index): TrackingEvent => ({
        ...draft,
        messageId: `m-${index}`,
        receivedAt: draft.occurredAt,
      }),
    ),
  );

function trackName(kind: string): string {
  const names: Record<string, string> = {
    demo: 'Demo Requested',
    guide: 'Guide Downloaded',
    webinar: 'Webinar Attended',
    unsubscribe: 'Unsubscribed',
  };
  return names[kind] ?? kind;
}

/** Applies events in the given order, one batch per slice. */
function applyInBatches(
  events: readonly TrackingEvent[],
  batchSizes: readonly number[],
): LeadState {
  let state = newLead('l', model, T0);
  let start = 0;
  let batch = 0;
  while (start < events.length) {
    const size = Math.max(1, batchSizes[batch % batchSizes.length] ?? 1);
    state = applyEvents(state, events.slice(start, start + size), model).state;
    start += size;
    batch += 1;
  }
  return state;
}

const scoredAt = T0 + (HORIZON_DAYS + 30) * DAY_MS;

describe('scoring order', () => {
  it('gives identical scores for any order and batching', () => {
    fc.assert(
      fc.property(
        eventSets.chain((events) =>
          fc.tuple(
            fc.constant(events),
            fc.shuffledSubarray(events, {
              minLength: events.length,
              maxLength: events.length,
            }),
            fc.array(fc.integer({ min: 1, max: 7 }), {
              minLength: 1,
              maxLength: 5,
            }),
          ),
        ),
        ([events, shuffled, batchSizes]) => {
          const reference = applyEvents(
            newLead('l', model, T0),
            events,
            model,
          ).state;
          const replayed = applyInBatches(shuffled, batchSizes);

          const expected = scoreLead(reference, model, scoredAt);
          const actual = scoreLead(replayed, model, scoredAt);
          expect(actual.score).toBe(expected.score);
          expect(explainScore(actual)).toEqual(explainScore(expected));
          expect(replayed.intent).toEqual(reference.intent);
          expect(replayed.quarantined).toEqual(reference.quarantined);
          expect(replayed.traits).toEqual(reference.traits);
          expect(lastActivityOf(replayed, model)).toBe(
            lastActivityOf(reference, model),
          );
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
    );
  });

  it('scores a late event as if it had arrived on time', () => {
    // Cap windows are aligned to the Unix epoch.
    const windowMs = 30 * DAY_MS;
    const windowStart = Math.ceil(T0 / windowMs) * windowMs;
    const events = [0, 10, 20, 29].map(
      (day, index): TrackingEvent => ({
        messageId: `late-${index}`,
        type: 'page',
        path: '/blog/post',
        occurredAt: windowStart + day * DAY_MS,
        receivedAt: windowStart + 40 * DAY_MS,
        properties: {},
        traits: {},
        userId: 'l',
      }),
    );
    const onTime = applyInBatches(events, [1]);
    const late = applyInBatches([...events].reverse(), [1]);

    expect(scoreLead(late, model, scoredAt).score).toBe(
      scoreLead(onTime, model, scoredAt).score,
    );
    expect(tallyOf(late.intent, 'blog')?.counted).toBe(3);
    expect(tallyOf(late.intent, 'blog')?.windows).toEqual(
      tallyOf(onTime.intent, 'blog')?.windows,
    );
  });
});
