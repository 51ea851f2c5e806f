import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundCents } from '../../functions/domain/explanation.js';
import {
  applyEvents,
  type LeadState,
  newLead,
} from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import type { ScoringModel } from '../../functions/domain/model.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import {
  catchUpReviews,
  evaluateLead,
  type Transition,
} from '../../functions/domain/qualification.js';
import { scoreLead } from '../../functions/domain/score.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { cfoIdentify, T0, trackingEvent } from '../fixtures/events.js';
import { testModelDocument } from '../fixtures/models.js';

const HOUR_MS = 3_600_000;

/** Settings a generated model varies. */
interface ModelSettings {
  recycleBelow: number;
  retentions: number[];
}

/** Compiles the test model with its intent rules at the given retentions. */
function modelWithSettings(settings: ModelSettings): ScoringModel {
  const document = testModelDocument({
    recycleBelow: settings.recycleBelow,
  });
  const intent = document.intent as { rules: Record<string, unknown>[] };
  intent.rules = intent.rules.map((rule, index) => ({
    ...rule,
    retentionPerQuarter:
      settings.retentions[index % settings.retentions.length],
  }));
  return compileModel(document);
}

const modelSettings = fc.record({
  recycleBelow: fc.integer({ min: 51, max: 99 }),
  retentions: fc.array(
    fc.oneof(fc.double({ min: 0.3, max: 0.95, noNaN: true }), fc.constant(1)),
    {
      minLength: 1,
      maxLength: 5,
    },
  ),
});

type Activity = { kind: number; minutes: number };

const activities = fc.array(
  fc.record({
    kind: fc.integer({ min: 0, max: 4 }),
    minutes: fc.integer({ min: 0, max: 60 * 24 * 20 }),
  }),
  { minLength: 1, maxLength: 12 },
);

/** Builds one event per activity: demo, pricing, whitepaper, blog, unsubscribe. */
function eventsOf(list: Activity[]): TrackingEvent[] {
  return list.map(({ kind, minutes }, index) => {
    const occurredAt = T0 + minutes * 60_000;
    const base = {
      messageId: `a-${index}`,
      occurredAt,
      receivedAt: occurredAt,
    };
    switch (kind) {
      case 0:
        return trackingEvent({ ...base, name: 'Demo Requested' });
      case 1:
        return trackingEvent({ ...base, type: 'page', path: '/pricing' });
      case 2:
        return trackingEvent({
          ...base,
          name: 'Content Downloaded',
          properties: { asset: 'sourcing guide' },
        });
      case 3:
        return trackingEvent({ ...base, type: 'page', path: '/blog/post' });
      default:
        return trackingEvent({ ...base, name: 'Unsubscribed' });
    }
  });
}

/** Applies a CFO identify and the activities, evaluated after the last. */
function leadAfter(model: ScoringModel, list: Activity[]) {
  const events = [cfoIdentify(), ...eventsOf(list)];
  const lastAt = Math.max(...events.map((event) => event.occurredAt));
  const state = applyEvents(newLead('lead-1', model, T0), events, model).state;
  return { evaluation: evaluateLead(state, model, lastAt), lastAt };
}

/**
 * Returns the first whole day after `from` on which the score rounded to
 * cents is below `level`, or undefined when it stays at or above the
 * level for 40 years. It scans week by week, then day by day.
 */
function firstDayBelow(
  state: LeadState,
  model: ScoringModel,
  from: number,
  level: number,
): number | undefined {
  const below = (at: number) =>
    roundCents(scoreLead(state, model, at).score) < level;
  for (let week = 0; week <= 40 * 53; week += 1) {
    const weekEnd = from + (week + 1) * 7 * DAY_MS;
    if (!below(weekEnd)) continue;
    for (let day = week * 7; day <= week * 7 + 7; day += 1) {
      if (below(from + day * DAY_MS)) return from + day * DAY_MS;
    }
  }
  return undefined;
}

/** Evaluates a lead at each run time the way the sweep does. */
function sweepAt(
  state: LeadState,
  model: ScoringModel,
  runs: readonly number[],
): { state: LeadState; transitions: Transition[] } {
  let current = state;
  const transitions: Transition[] = [];
  for (const now of runs) {
    if (current.nextReviewAt === undefined || current.nextReviewAt > now) {
      continue;
    }
    const caughtUp = catchUpReviews(current, model, now);
    const evaluation = evaluateLead(caughtUp.state, model, now);
    current = evaluation.state;
    transitions.push(...caughtUp.transitions, ...evaluation.transitions);
  }
  return { state: current, transitions };
}

function outcomeOf(result: { state: LeadState; transitions: Transition[] }) {
  return {
    status: result.state.status,
    episode: result.state.episode,
    recycledAt: result.state.recycledAt,
    qualifiedAt: result.state.qualifiedAt,
    nextReviewAt: result.state.nextReviewAt,
    transitions: result.transitions.map((t) => `${t.kind}@${t.at}`),
  };
}

describe('review time of an MQL', () => {
  it('matches a day-by-day search of the decayed score', () => {
    fc.assert(
      fc.property(modelSettings, activities, (settings, list) => {
        const model = modelWithSettings(settings);
        const { evaluation, lastAt } = leadAfter(model, list);
        const { state } = evaluation;
        fc.pre(state.status === 'mql');
        const level = settings.recycleBelow;
        const expectedDay = firstDayBelow(state, model, lastAt, level);
        const reviewAt = state.nextReviewAt;

        if (expectedDay === undefined) {
          expect(reviewAt).toBeUndefined();
          return;
        }
        expect(reviewAt).toBeDefined();
        const at = reviewAt as number;
        expect(at).toBeGreaterThan(expectedDay - DAY_MS);
        expect(at).toBeLessThanOrEqual(expectedDay);
        const shown = (time: number) =>
          roundCents(scoreLead(state, model, time).score);
        expect(shown(at)).toBeLessThan(level);
        expect(shown(at - 1)).toBeGreaterThanOrEqual(level);
      }),
      { numRuns: 150 },
    );
  });

  it('is absent when fit alone holds the recycle level', () => {
    fc.assert(
      fc.property(modelSettings, activities, (settings, list) => {
        const model = modelWithSettings({ ...settings, recycleBelow: 50 });
        const positive = list.filter((activity) => activity.kind !== 4);
        const { evaluation } = leadAfter(model, positive);
        fc.pre(evaluation.state.status === 'mql');

        expect(evaluation.state.nextReviewAt).toBeUndefined();
      }),
      { numRuns: 50 },
    );
  });

  it('is absent for a lead that never qualified', () => {
    fc.assert(
      fc.property(modelSettings, activities, (settings, list) => {
        const model = modelWithSettings(settings);
        const events = eventsOf(list);
        const state = applyEvents(newLead('l', model, T0), events, model).state;
        const lastAt = Math.max(...events.map((event) => event.occurredAt));
        const { state: evaluated } = evaluateLead(state, model, lastAt);
        fc.pre(evaluated.status === 'engaged');

        expect(evaluated.nextReviewAt).toBeUndefined();
      }),
      { numRuns: 50 },
    );
  });
});

describe('review time of a recycled lead', () => {
  it('is the end of the cooldown when it has new activity', () => {
    const model = modelWithSettings({ recycleBelow: 60, retentions: [0.75] });
    const { evaluation } = leadAfter(model, [
      { kind: 0, minutes: 0 },
      { kind: 1, minutes: 0 },
    ]);
    const recycledAt = evaluation.state.nextReviewAt ?? 0;
    const recycled = evaluateLead(evaluation.state, model, recycledAt).state;
    const later = recycledAt + 5 * DAY_MS;
    const demo = trackingEvent({
      name: 'Demo Requested',
      occurredAt: later,
      receivedAt: later,
    });
    const active = applyEvents(recycled, [demo], model).state;
    const { state } = evaluateLead(active, model, later);

    expect(recycled.status).toBe('recycled');
    expect(recycled.nextReviewAt).toBeUndefined();
    expect(state.nextReviewAt).toBe(recycledAt + 30 * DAY_MS);
  });
});

describe('catchUpReviews', () => {
  const model = modelWithSettings({ recycleBelow: 60, retentions: [0.75] });

  function mql(): LeadState {
    const { evaluation } = leadAfter(model, [
      { kind: 0, minutes: 0 },
      { kind: 1, minutes: 0 },
    ]);
    return evaluation.state;
  }

  it('gives the same result for any schedule of runs', () => {
    const start = mql();
    const crossing = start.nextReviewAt ?? 0;
    const schedule = fc
      .array(fc.integer({ min: -20 * 24, max: 60 * 24 }), {
        minLength: 1,
        maxLength: 30,
      })
      .map((hours) =>
        hours.map((h) => crossing + h * HOUR_MS).sort((a, b) => a - b),
      );
    const end = crossing + 61 * DAY_MS;
    const reference = outcomeOf(sweepAt(start, model, [end]));

    fc.assert(
      fc.property(schedule, (runs) => {
        const result = sweepAt(start, model, [...runs, end]);

        expect(outcomeOf(result)).toEqual(reference);
      }),
      { numRuns: 100 },
    );
    expect(reference.transitions).toEqual([`recycled@${crossing}`]);
  });

  it('recycles at the crossing before a later event applies', () => {
    const start = mql();
    const crossing = start.nextReviewAt ?? 0;
    const eventAt = crossing + 3 * DAY_MS;
    const demo = trackingEvent({
      messageId: 'late-demo',
      name: 'Demo Requested',
      occurredAt: eventAt,
      receivedAt: eventAt,
    });

    const caughtUp = catchUpReviews(start, model, eventAt);
    const applied = applyEvents(caughtUp.state, [demo], model).state;
    const { state } = evaluateLead(applied, model, eventAt);

    expect(caughtUp.transitions.map((t) => t.kind)).toEqual(['recycled']);
    expect(state.status).toBe('recycled');
    expect(state.recycledAt).toBe(crossing);
    expect(state.nextReviewAt).toBe(crossing + 30 * DAY_MS);
  });

  it('qualifies again at the end of the cooldown, not at the run', () => {
    const start = mql();
    const crossing = start.nextReviewAt ?? 0;
    const recycled = evaluateLead(start, model, crossing).state;
    const eventAt = crossing + DAY_MS;
    const burst = ['x1', 'x2', 'x3'].map((messageId) =>
      trackingEvent({
        messageId,
        name: 'Demo Requested',
        occurredAt: eventAt,
        receivedAt: eventAt,
      }),
    );
    const active = evaluateLead(
      applyEvents(recycled, burst, model).state,
      model,
      eventAt,
    ).state;
    const cooldownEnd = crossing + 30 * DAY_MS;

    const onTime = sweepAt(active, model, [cooldownEnd]);
    const late = sweepAt(active, model, [cooldownEnd + 2 * DAY_MS]);

    expect(active.nextReviewAt).toBe(cooldownEnd);
    expect(onTime.state.status).toBe('mql');
    expect(onTime.state.qualifiedAt).toBe(cooldownEnd);
    expect(late.state.qualifiedAt).toBe(cooldownEnd);
    expect(late.state.episode).toBe(2);
  });

  it('stops at reviews after the given time', () => {
    const start = mql();
    const crossing = start.nextReviewAt ?? 0;

    const early = catchUpReviews(start, model, crossing - 1);

    expect(early.transitions).toEqual([]);
    expect(early.state).toBe(start);
  });
});
