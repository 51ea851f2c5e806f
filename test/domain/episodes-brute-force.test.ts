import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planDisposition } from '../../functions/domain/disposition.js';
import { ConflictError } from '../../functions/domain/errors.js';
import { roundCents } from '../../functions/domain/explanation.js';
import {
  applyEvents,
  type LeadState,
  newLead,
} from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import {
  catchUpReviews,
  evaluateLead,
  type Transition,
} from '../../functions/domain/qualification.js';
import { scoreLead } from '../../functions/domain/score.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { T0 } from '../fixtures/events.js';
import { testModel } from '../fixtures/models.js';

/**
 * Qualification episodes against a brute-force check of each transition.
 * Every event arrives on time as its own request, after the reviews due
 * before it, as ingest runs them, and sales rejects the lead at random
 * times. Each transition is then checked with the
 * score of a lead built from only the events up to its time.
 */

const model = testModel({ recycleBelow: 90, cooldownDays: 30 });
const { threshold, recycleBelow, minimumFit, cooldownDays } =
  model.qualification;

const KINDS = ['cfo', 'student', 'demo', 'pricing', 'unsubscribe'] as const;
type Kind = (typeof KINDS)[number];

/** Kinds whose events are positive intent, the activity a requalification needs. */
const ACTIVITY: ReadonlySet<Kind> = new Set(['demo', 'pricing']);

function eventOf(kind: Kind, at: number, index: number): TrackingEvent {
  const base = {
    messageId: `m-${String(index).padStart(4, '0')}`,
    occurredAt: at,
    receivedAt: at,
    userId: 'lead-1',
    properties: {},
    traits: {},
  };
  switch (kind) {
    case 'cfo':
      return {
        ...base,
        type: 'identify',
        traits: {
          title: 'CFO',
          'company.employee_count': 5000,
          'company.industry': 'Manufacturing',
        },
      };
    case 'student':
      return { ...base, type: 'identify', traits: { title: 'student' } };
    case 'demo':
      return { ...base, type: 'track', name: 'Demo Requested' };
    case 'pricing':
      return { ...base, type: 'page', path: '/pricing' };
    case 'unsubscribe':
      return { ...base, type: 'track', name: 'Unsubscribed' };
  }
}

const stream = fc
  .array(
    fc.record({
      kind: fc.constantFrom(...KINDS, 'demo', 'pricing', 'cfo'),
      day: fc.integer({ min: 0, max: 400 }),
      offset: fc.integer({ min: 0, max: DAY_MS - 1 }),
    }),
    { minLength: 1, maxLength: 30 },
  )
  .map((drafts) =>
    drafts
      .map((draft, index) =>
        eventOf(draft.kind, T0 + draft.day * DAY_MS + draft.offset, index),
      )
      .sort((a, b) => a.occurredAt - b.occurredAt),
  );

/** Times at which sales rejects the lead, when its state allows it. */
const rejections = fc.array(fc.integer({ min: T0, max: T0 + 500 * DAY_MS }), {
  maxLength: 4,
});

/**
 * Rejects the lead at `at`, or returns it unchanged where the API returns
 * 409 because the state allows no rejection.
 */
function rejectBySales(
  state: LeadState,
  at: number,
  transitions: Transition[],
): LeadState {
  try {
    const plan = planDisposition(
      state,
      { kind: 'rejected', reason: 'no budget' },
      model,
      at,
    );
    transitions.push(...plan.evaluation.transitions);
    return plan.evaluation.state;
  } catch (error) {
    if (error instanceof ConflictError) return state;
    throw error;
  }
}

/**
 * Runs every event as its own request, and each rejection by sales at its
 * time, and returns every transition.
 */
function runRequests(
  events: TrackingEvent[],
  salesTimes: number[],
  until: number,
): Transition[] {
  let state: LeadState = newLead('lead-1', model, T0);
  const transitions: Transition[] = [];
  const pendingSales = [...salesTimes].sort((a, b) => a - b);
  for (const event of events) {
    while ((pendingSales[0] ?? Number.POSITIVE_INFINITY) < event.occurredAt) {
      state = rejectBySales(state, pendingSales.shift() as number, transitions);
    }
    const caughtUp = catchUpReviews(state, model, event.occurredAt);
    const applied = applyEvents(caughtUp.state, [event], model).state;
    const evaluation = evaluateLead(applied, model, event.occurredAt);
    transitions.push(...caughtUp.transitions, ...evaluation.transitions);
    state = evaluation.state;
  }
  for (const at of pendingSales) state = rejectBySales(state, at, transitions);
  // A catch-up runs at most 8 reviews, so a few sweeps reach `until`.
  for (let sweep = 0; sweep < 10; sweep += 1) {
    const swept = catchUpReviews(state, model, until);
    transitions.push(...swept.transitions);
    state = swept.state;
  }
  return transitions;
}

/** Scores a lead built from the events up to `at` only, at `at`. */
function scoreFromScratch(events: TrackingEvent[], at: number) {
  const known = events.filter((event) => event.occurredAt <= at);
  const state = applyEvents(newLead('lead-1', model, T0), known, model).state;
  return scoreLead(state, model, at);
}

describe('qualification episodes against brute force', () => {
  it('checks every transition by its score', () => {
    fc.assert(
      fc.property(stream, rejections, (events, salesTimes) => {
        const until = T0 + 800 * DAY_MS;
        const transitions = runRequests(events, salesTimes, until);
        let recycledAt: number | undefined;
        let previousAt = Number.NEGATIVE_INFINITY;
        transitions.forEach((transition, index) => {
          const expectedKind = index % 2 === 0 ? 'qualified' : 'recycled';
          expect(transition.kind).toBe(expectedKind);
          expect(transition.episode).toBe(Math.floor(index / 2) + 1);
          expect(transition.at).toBeGreaterThanOrEqual(previousAt);
          previousAt = transition.at;
          const score = scoreFromScratch(events, transition.at);
          if (transition.kind === 'qualified') {
            expect(roundCents(score.score)).toBeGreaterThanOrEqual(threshold);
            expect(roundCents(score.fit)).toBeGreaterThanOrEqual(minimumFit);
            if (recycledAt !== undefined) {
              const since = recycledAt;
              expect(transition.at).toBeGreaterThanOrEqual(
                since + cooldownDays * DAY_MS,
              );
              const active = events.some(
                (event, position) =>
                  event.occurredAt > since &&
                  event.occurredAt <= transition.at &&
                  ACTIVITY.has(kindOf(events, position)),
              );
              expect(active).toBe(true);
            }
            return;
          }
          recycledAt = transition.at;
          if (transition.reason.startsWith('rejected by sales')) {
            expect(salesTimes).toContain(transition.at);
            return;
          }
          expect(roundCents(score.score)).toBeLessThan(recycleBelow);
          const eventAtCrossing = events.some(
            (event) => event.occurredAt === transition.at,
          );
          if (!eventAtCrossing) {
            const before = scoreFromScratch(events, transition.at - 1);
            expect(roundCents(before.score)).toBeGreaterThanOrEqual(
              recycleBelow,
            );
          }
        });
      }),
      { numRuns: 200 },
    );
  });
});

/** Returns the kind of the event at `position`, read back from its fields. */
function kindOf(events: TrackingEvent[], position: number): Kind {
  const event = events[position] as TrackingEvent;
  if (event.type === 'page') return 'pricing';
  if (event.type === 'identify') {
    return event.traits.title === 'CFO' ? 'cfo' : 'student';
  }
  return event.name === 'Demo Requested' ? 'demo' : 'unsubscribe';
}
