import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainScore } from '../../functions/domain/explanation.js';
import { applyEvents, newLead } from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import type { IntentRule } from '../../functions/domain/model.js';
import { scoreLead } from '../../functions/domain/score.js';
import { DAY_MS, QUARTER_MS } from '../../functions/domain/time.js';
import { T0 } from '../fixtures/events.js';
import { modelWith } from '../fixtures/models.js';

/**
 * Intent scoring against a brute-force evaluation of the rules as the
 * README states them. Per rule, the earliest `max` events of each cap
 * window aligned to the Unix epoch count. Positive points decay by
 * `retentionPerQuarter` per 91.3125 days, and negative points never decay.
 * Events span less than the two-year folding horizon, so the score must
 * not depend on the order or batches of arrival.
 */

const model = modelWith({
  intent: [
    {
      id: 'demo',
      when: { events: ['Demo Requested'] },
      points: 40,
      cap: { max: 1, windowDays: 30 },
    },
    {
      id: 'blog',
      when: { path: '^/blog/' },
      points: 2,
      retentionPerQuarter: 0.5,
      cap: { max: 3, windowDays: 7 },
    },
    {
      id: 'webinar',
      when: { events: ['Webinar Attended'] },
      points: 12,
      retentionPerQuarter: 0.9,
      cap: { max: 2 },
    },
    { id: 'pricing', when: { path: '^/pricing' }, points: 25 },
    {
      id: 'unsubscribe',
      when: { events: ['Unsubscribed'] },
      points: -30,
      cap: { max: 1 },
    },
    {
      id: 'careers',
      when: { path: '^/careers' },
      points: -15,
      cap: { max: 2, windowDays: 90 },
    },
  ],
  retentionPerQuarter: 0.75,
});

const KINDS = [
  'demo',
  'blog',
  'webinar',
  'pricing',
  'unsubscribe',
  'careers',
] as const;
type Kind = (typeof KINDS)[number];

/** Days of event times, below the two-year folding horizon. */
const SPAN_DAYS = 600;

function ruleOf(kind: Kind): IntentRule {
  const rule = model.intentRules.find((r) => r.id === kind);
  if (rule === undefined) throw new Error(`no rule ${kind}`);
  return rule;
}

/**
 * Returns a time near a window boundary of the kind's cap, or anywhere in
 * the span, so that boundaries and full windows come up often.
 */
function timeArbitrary(kind: Kind): fc.Arbitrary<number> {
  const windowMs = ruleOf(kind).cap?.windowMs;
  const anywhere = fc.integer({ min: T0, max: T0 + SPAN_DAYS * DAY_MS });
  if (windowMs === undefined) return anywhere;
  const first = Math.ceil(T0 / windowMs);
  const boundary = fc
    .record({
      index: fc.integer({ min: first, max: first + 3 }),
      offset: fc.constantFrom(-1, 0, 1, 2),
    })
    .map(({ index, offset }) => index * windowMs + offset);
  return fc.oneof(anywhere, boundary);
}

interface Draft {
  kind: Kind;
  at: number;
}

const draftArbitrary: fc.Arbitrary<Draft> = fc
  .constantFrom(...KINDS)
  .chain((kind) => timeArbitrary(kind).map((at) => ({ kind, at })));

function eventOf(draft: Draft, index: number): TrackingEvent {
  const base = {
    messageId: `m-${String(index).padStart(4, '0')}`,
    occurredAt: draft.at,
    receivedAt: draft.at,
    userId: 'l',
    properties: {},
    traits: {},
  };
  switch (draft.kind) {
    case 'demo':
      return { ...base, type: 'track', name: 'Demo Requested' };
    case 'webinar':
      return { ...base, type: 'track', name: 'Webinar Attended' };
    case 'unsubscribe':
      return { ...base, type: 'track', name: 'Unsubscribed' };
    case 'blog':
      return { ...base, type: 'page', path: '/blog/post' };
    case 'pricing':
      return { ...base, type: 'page', path: '/pricing' };
    case 'careers':
      return { ...base, type: 'page', path: '/careers' };
  }
}

/** Returns the counted times of one rule: the earliest `max` per window. */
function countedTimes(rule: IntentRule, times: number[]): number[] {
  const sorted = [...times].sort((a, b) => a - b);
  if (rule.cap === undefined) return sorted;
  const { max, windowMs } = rule.cap;
  const perWindow = new Map<number, number>();
  const counted: number[] = [];
  for (const at of sorted) {
    const window = windowMs === undefined ? 0 : Math.floor(at / windowMs);
    const used = perWindow.get(window) ?? 0;
    if (used >= max) continue;
    perWindow.set(window, used + 1);
    counted.push(at);
  }
  return counted;
}

/** Computes the rule's points at `now` by the README's formula. */
function brutePoints(rule: IntentRule, counted: number[], now: number): number {
  let total = 0;
  for (const at of counted) {
    total +=
      rule.points > 0
        ? rule.points * rule.retentionPerQuarter ** ((now - at) / QUARTER_MS)
        : rule.points;
  }
  return total;
}

/** Applies the events in the given order, split into the given batches. */
function scoreInBatches(
  events: TrackingEvent[],
  cuts: number[],
  now: number,
): ReturnType<typeof scoreLead> {
  let state = newLead('l', model, T0);
  let start = 0;
  for (const cut of [...cuts, events.length]) {
    const end = Math.min(Math.max(cut, start), events.length);
    state = applyEvents(state, events.slice(start, end), model).state;
    start = end;
  }
  return scoreLead(state, model, now);
}

const scenario = fc.record({
  drafts: fc.array(draftArbitrary, { minLength: 1, maxLength: 40 }),
  order: fc.array(fc.nat(), { maxLength: 40 }),
  cuts: fc.array(fc.nat({ max: 40 }), { maxLength: 4 }),
  laterDays: fc.integer({ min: 0, max: 400 }),
});

/** Returns the events reordered by the sort keys of `order`. */
function shuffled<T>(items: T[], order: number[]): T[] {
  return items
    .map((item, index) => ({ item, key: order[index] ?? index }))
    .sort((a, b) => a.key - b.key)
    .map(({ item }) => item);
}

describe('intent scoring against brute force', () => {
  it('matches counts and points per rule', () => {
    fc.assert(
      fc.property(scenario, ({ drafts, order, cuts, laterDays }) => {
        const events = shuffled(drafts.map(eventOf), order);
        const latest = Math.max(...drafts.map((d) => d.at));
        const now = latest + laterDays * DAY_MS;
        const score = scoreInBatches(events, [...cuts].sort(), now);
        let intent = 0;
        for (const kind of KINDS) {
          const rule = ruleOf(kind);
          const times = drafts.filter((d) => d.kind === kind).map((d) => d.at);
          const counted = countedTimes(rule, times);
          const expected = brutePoints(rule, counted, now);
          intent += expected;
          const actual = score.intentContributions.find(
            (c) => c.ruleId === kind,
          );
          if (times.length === 0) {
            expect(actual).toBeUndefined();
            continue;
          }
          expect(actual?.matched, `${kind} matched`).toBe(times.length);
          expect(actual?.counted, `${kind} counted`).toBe(counted.length);
          expect(actual?.points ?? 0).toBeCloseTo(expected, 6);
        }
        expect(score.intent).toBeCloseTo(intent, 6);
      }),
      { numRuns: 300 },
    );
  });

  it('adds explanation up to the score', () => {
    fc.assert(
      fc.property(scenario, ({ drafts, order, cuts, laterDays }) => {
        const events = shuffled(drafts.map(eventOf), order);
        const latest = Math.max(...drafts.map((d) => d.at));
        const now = latest + laterDays * DAY_MS;
        const explained = explainScore(scoreInBatches(events, cuts, now));
        const cents = explained.contributions.map((c) =>
          Math.round(c.points * 100),
        );
        const total = cents.reduce((sum, value) => sum + value, 0);
        expect(total).toBe(Math.round(explained.score * 100));
        expect(Math.round(explained.fit * 100 + explained.intent * 100)).toBe(
          Math.round(explained.score * 100),
        );
      }),
      { numRuns: 300 },
    );
  });
});
