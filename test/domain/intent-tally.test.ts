import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logRetentionPerMs } from '../../functions/domain/decay.js';
import {
  addEvent,
  CAP_HORIZON_MS,
  CAP_RESERVE,
  emptyTally,
  type IntentTally,
  removeEvent,
  tallyPoints,
  WEIGHT_UNITS,
  weightUnits,
  YEAR_MS,
} from '../../functions/domain/intent-tally.js';
import type { IntentRule } from '../../functions/domain/model.js';
import { DAY_MS, QUARTER_MS } from '../../functions/domain/time.js';
import { T0 } from '../fixtures/events.js';
import { modelWith } from '../fixtures/models.js';

const model = modelWith({
  intent: [
    { id: 'read', when: { path: '^/blog' }, points: 10 },
    {
      id: 'capped',
      when: { path: '^/guide' },
      points: 10,
      cap: { max: 2, windowDays: 30 },
    },
    { id: 'once', when: { path: '^/once' }, points: 10, cap: { max: 1 } },
    {
      id: 'once-a-window',
      when: { path: '^/demo' },
      points: 40,
      cap: { max: 1, windowDays: 30 },
    },
    {
      id: 'pages',
      when: { types: ['page'], path: '^/pages' },
      points: 10,
      cap: { max: 2, windowDays: 30 },
    },
    { id: 'penalty', when: { path: '^/careers' }, points: -15 },
  ],
});

function rule(id: string): IntentRule {
  const found = model.intentRulesById.get(id);
  if (found === undefined) throw new Error(`rule ${id} is not in the model`);
  return found;
}

/** Start of a 30-day cap window (windows are aligned to the epoch). */
const WINDOW = Math.ceil(T0 / (30 * DAY_MS)) * 30 * DAY_MS;

function tallyOf(id: string, times: number[]): IntentTally {
  const tally = emptyTally();
  for (const at of times) addEvent(tally, rule(id), at, true);
  return tally;
}

describe('tallyPoints', () => {
  it('decays each event from its own time', () => {
    const tally = tallyOf('read', [T0, T0 + QUARTER_MS]);

    const points = tallyPoints(tally, rule('read'), T0 + 2 * QUARTER_MS);

    expect(points).toBeCloseTo(10 * 0.75 ** 2 + 10 * 0.75, 8);
  });

  it('keeps a penalty whole however old', () => {
    const tally = tallyOf('penalty', [T0]);

    expect(tallyPoints(tally, rule('penalty'), T0 + 20 * YEAR_MS)).toBe(-15);
  });

  it('stays exact across year boundaries', () => {
    const yearEnd = (Math.floor(T0 / YEAR_MS) + 1) * YEAR_MS;
    const tally = tallyOf('read', [yearEnd - 1, yearEnd, yearEnd + 1]);

    const points = tallyPoints(tally, rule('read'), yearEnd + QUARTER_MS);

    expect(points).toBeCloseTo(30 * 0.75, 6);
  });

  it('stays within the weight rounding bound', () => {
    // A weight is rounded to a multiple of 2^-36 at its year end, up to
    // four quarters after the event, and decayed back from there. So an
    // event of p points is within |p| · 2^-37 · r^-4 of the exact value.
    const cases = fc.record({
      retention: fc.double({ min: 0.05, max: 0.999, noNaN: true }),
      points: fc.integer({ min: 1, max: 1_000_000 }),
      eventAt: fc.integer({ min: T0, max: T0 + 2 * YEAR_MS }),
      delay: fc.integer({ min: 0, max: YEAR_MS }),
    });
    fc.assert(
      fc.property(cases, ({ retention, points, eventAt, delay }) => {
        const decaying: IntentRule = {
          ...rule('read'),
          points,
          retentionPerQuarter: retention,
          logRetentionPerMs: logRetentionPerMs(retention),
        };
        const tally = emptyTally();
        addEvent(tally, decaying, eventAt, true);
        const at = eventAt + delay;
        const exact = points * retention ** (delay / QUARTER_MS);
        const bound = points * 2 ** -37 * retention ** -4;

        expect(
          Math.abs(tallyPoints(tally, decaying, at) - exact),
        ).toBeLessThanOrEqual(bound * (1 + 1e-9) + exact * 1e-15);
      }),
    );
  });

  it('rounds a large fast-decaying rule by more than a cent', () => {
    const retention = 0.05;
    const decaying: IntentRule = {
      ...rule('read'),
      points: 1_000_000,
      retentionPerQuarter: retention,
      logRetentionPerMs: logRetentionPerMs(retention),
    };
    // Early in a decay year, where the weight at the year end is smallest.
    const eventAt = Math.floor(T0 / YEAR_MS) * YEAR_MS + DAY_MS;
    const errors = Array.from({ length: 50 }, (_, step) => {
      const at = eventAt + step * 1_001;
      const tally = emptyTally();
      addEvent(tally, decaying, at, true);
      return Math.abs(tallyPoints(tally, decaying, at) - 1_000_000);
    });

    expect(Math.max(...errors)).toBeGreaterThan(0.005);
    expect(Math.max(...errors)).toBeLessThan(1_000_000 * 2 ** -37 * 0.05 ** -4);
  });

  it('sums 2^17 events of a year exactly', () => {
    const yearEnd = (Math.floor(T0 / YEAR_MS) + 1) * YEAR_MS;
    const times = Array.from({ length: 2 ** 17 }, (_, i) => yearEnd - 1 - i);
    const forward = tallyOf('read', times);
    const backward = tallyOf('read', [...times].reverse());

    expect(forward.sums[1]).toBeLessThanOrEqual(2 ** 53);
    expect(backward.sums).toEqual(forward.sums);
  });

  it('returns to zero bits when every event is removed', () => {
    const times = [T0 + 1, T0 + 7 * DAY_MS, T0 + 400 * DAY_MS];
    const tally = tallyOf('read', times);
    for (const at of [...times].reverse()) removeEvent(tally, rule('read'), at);

    expect(tally.sums).toEqual([]);
    expect(tally.counted).toBe(0);
  });
});

describe('caps', () => {
  it('counts the earliest events of a window', () => {
    const late = tallyOf('capped', [WINDOW + 5 * DAY_MS, WINDOW + 9 * DAY_MS]);
    addEvent(late, rule('capped'), WINDOW + DAY_MS, true);

    const inOrder = tallyOf('capped', [
      WINDOW + DAY_MS,
      WINDOW + 5 * DAY_MS,
      WINDOW + 9 * DAY_MS,
    ]);

    expect(late.counted).toBe(2);
    expect(late.matched).toBe(3);
    expect(late.sums).toEqual(inOrder.sums);
  });

  it('opens a new window after the window length', () => {
    const tally = tallyOf('capped', [
      WINDOW,
      WINDOW + DAY_MS,
      WINDOW + 2 * DAY_MS,
      WINDOW + 30 * DAY_MS,
    ]);

    expect(tally.counted).toBe(3);
  });

  it('counts a per-lead cap once', () => {
    const tally = tallyOf('once', [T0, T0 + 400 * DAY_MS, T0 - DAY_MS]);

    expect(tally.counted).toBe(1);
    expect(tallyPoints(tally, rule('once'), T0 - DAY_MS)).toBeCloseTo(10, 6);
  });

  it('promotes the next event when a counted one is removed', () => {
    const times = [1, 2, 3].map((day) => WINDOW + day * DAY_MS);
    const tally = tallyOf('capped', times);
    removeEvent(tally, rule('capped'), times[0] as number);

    expect(tally.counted).toBe(2);
    expect(tally.sums).toEqual(tallyOf('capped', times.slice(1)).sums);
  });

  it('keeps at most max plus the reserve of times per window', () => {
    const times = Array.from(
      { length: 40 },
      (_, index) => WINDOW + index * 60_000,
    );
    const tally = tallyOf('capped', times);
    const window = tally.windows?.[0];

    expect(window?.times).toHaveLength(2 + CAP_RESERVE);
    expect(window?.total).toBe(40);
    expect(tally.counted).toBe(2);
  });

  it('keeps only max times for rules that cannot match clicks', () => {
    const times = Array.from({ length: 10 }, (_, i) => WINDOW + i * 60_000);
    const late = WINDOW - 1 + 30 * 60_000;
    const tally = tallyOf('pages', [
      ...times.slice(3),
      late,
      ...times.slice(0, 3),
    ]);
    const window = tally.windows?.[0];

    expect(rule('pages').cap?.reserve).toBe(0);
    expect(window?.times).toEqual(times.slice(0, 2));
    expect(window?.total).toBe(11);
    expect(tally.sums).toEqual(tallyOf('pages', times.slice(0, 2)).sums);
  });

  it('folds windows beyond the horizon and keeps their points', () => {
    const old = WINDOW + DAY_MS;
    const recent = old + CAP_HORIZON_MS + 60 * DAY_MS;
    const tally = tallyOf('capped', [old, recent]);

    expect(tally.windows).toHaveLength(1);
    expect(tally.counted).toBe(2);
    expect(tally.foldedBefore).toBeGreaterThan(Math.floor(old / (30 * DAY_MS)));
  });

  it('does not count an event that arrives after its window folded', () => {
    const old = WINDOW + DAY_MS;
    const recent = old + CAP_HORIZON_MS + 60 * DAY_MS;
    const tally = tallyOf('capped', [recent]);

    const counted = addEvent(tally, rule('capped'), old, true);

    expect(counted).toBe(false);
    expect(tally.counted).toBe(1);
  });

  it('folds a window that ended exactly two years before', () => {
    const windowEnd = WINDOW + 30 * DAY_MS;
    const tally = tallyOf('capped', [windowEnd + CAP_HORIZON_MS]);

    const counted = addEvent(tally, rule('capped'), WINDOW + DAY_MS, true);

    expect(counted).toBe(false);
    expect(tally.counted).toBe(1);
  });

  it('keeps a window that ended just under two years before', () => {
    const windowEnd = WINDOW + 30 * DAY_MS;
    const tally = tallyOf('capped', [windowEnd + CAP_HORIZON_MS - 1]);

    const counted = addEvent(tally, rule('capped'), WINDOW + DAY_MS, true);

    expect(counted).toBe(true);
    expect(tally.counted).toBe(2);
  });

  it('counts events on both sides of a window boundary', () => {
    const tally = tallyOf('once-a-window', [WINDOW - 60_000, WINDOW + 60_000]);

    expect(tally.counted).toBe(2);
  });
});

describe('weightUnits', () => {
  /** Computes the units with Math.pow, as the definition of a weight. */
  function powUnits(retention: number, untilYearEndMs: number): number {
    const factor =
      retention >= 1 ? 1 : retention ** (untilYearEndMs / QUARTER_MS);
    return Math.round(factor * WEIGHT_UNITS);
  }

  function decay(retention: number) {
    return {
      retentionPerQuarter: retention,
      logRetentionPerMs: logRetentionPerMs(retention),
    };
  }

  it('equals the rounded power for any retention and time', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ min: 1e-6, max: 1, noNaN: true }),
          fc.constantFrom(0.5, 0.75, 0.9, 1),
        ),
        fc.integer({ min: 1, max: YEAR_MS }),
        (retention, untilYearEndMs) => {
          expect(weightUnits(decay(retention), untilYearEndMs)).toBe(
            powUnits(retention, untilYearEndMs),
          );
        },
      ),
      { numRuns: 20_000 },
    );
  });

  // Times where Math.exp alone rounds to the other integer in Node 20,
  // because the weight lies within an ulp of a half.
  it.each([
    { retention: 0.75, ms: 89_371_209 },
    { retention: 0.5, ms: 6_934_517 },
    { retention: 0.9, ms: 262_053_684 },
  ])(
    'equals the rounded power next to a half ($retention)',
    ({ retention, ms }) => {
      expect(weightUnits(decay(retention), ms)).toBe(powUnits(retention, ms));
    },
  );
});
