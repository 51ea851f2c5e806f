import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  explainScore,
  roundCents,
} from '../../functions/domain/explanation.js';
import {
  applyEvents,
  type LeadState,
  newLead,
} from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import {
  evaluateLead,
  nextReviewAt,
  recycleBySales,
  type Transition,
} from '../../functions/domain/qualification.js';
import { scoreLead } from '../../functions/domain/score.js';
import { DAY_MS } from '../../functions/domain/time.js';
import {
  blog,
  cfoIdentify,
  demo,
  identify,
  pricing,
  T0,
  trackingEvent,
} from '../fixtures/events.js';
import { modelWith, testModel } from '../fixtures/models.js';

const model = testModel();

function evaluateAfter(
  events: TrackingEvent[],
  now: number,
  state: LeadState = newLead('lead-1', model, T0),
) {
  const applied = applyEvents(state, events, model).state;
  return evaluateLead(applied, model, now);
}

/** Returns the score of `state` at `at` as the API shows it, in cents. */
function shownScore(state: LeadState, at: number): number {
  return roundCents(scoreLead(state, model, at).score);
}

/**
 * Returns the first millisecond after T0 at which `isBelow` holds for the
 * decayed score of `state`, by bisection over ten years of scores.
 */
function firstTimeBelow(
  state: LeadState,
  isBelow: (score: number) => boolean,
): number {
  let above = T0;
  let below = T0 + 3650 * DAY_MS;
  while (below - above > 1) {
    const middle = Math.floor((above + below) / 2);
    if (isBelow(scoreLead(state, model, middle).score)) below = middle;
    else above = middle;
  }
  return below;
}

/** CFO fit 50 + demo 40 + pricing 25 = 115 at T0. */
function qualified() {
  return evaluateAfter([cfoIdentify(), demo(), pricing()], T0);
}

describe('evaluateLead', () => {
  it('qualifies when fit and intent clear the threshold', () => {
    const { state, transitions } = qualified();

    expect(state.status).toBe('mql');
    expect(state.episode).toBe(1);
    expect(transitions.map((t) => t.kind)).toEqual(['qualified']);
  });

  it.each([
    { threshold: 115, qualifies: true },
    { threshold: 115.01, qualifies: false },
  ])('qualifies at $threshold: $qualifies', ({ threshold, qualifies }) => {
    const strict = testModel({ threshold });
    const events = [cfoIdentify(), demo(), pricing()];
    const state = applyEvents(newLead('l', strict, T0), events, strict).state;
    const { state: evaluated, transitions } = evaluateLead(state, strict, T0);

    expect(evaluated.status).toBe(qualifies ? 'mql' : 'engaged');
    expect(transitions).toHaveLength(qualifies ? 1 : 0);
  });

  it('qualifies when the shown score equals the threshold', () => {
    // CFO fit 50 plus one demo request of 40 points, evaluated at the
    // event time or a few seconds later, when decay has taken a few
    // millionths of a point that the shown score, in cents, does not show.
    const exact = testModel({ threshold: 90 });
    const cases = Array.from({ length: 48 }, (_, hour) => hour).flatMap(
      (hour) => [0, 5_000].map((delayMs) => ({ days: hour / 24, delayMs })),
    );
    const statuses = cases.map(({ days, delayMs }) => {
      const lead = newLead('l', exact, T0);
      const events = [cfoIdentify(), demo(days)];
      const state = applyEvents(lead, events, exact).state;
      const now = T0 + days * DAY_MS + delayMs;
      return evaluateLead(state, exact, now).state.status;
    });

    expect(statuses.filter((status) => status !== 'mql')).toEqual([]);
  });

  it.each([
    { fitPoints: 12.496, intentPoints: 0.004 },
    { fitPoints: 12.496, intentPoints: 0.009 },
    { fitPoints: 12.5, intentPoints: 0.004 },
    { fitPoints: 12.494, intentPoints: 0.014 },
  ])(
    'qualifies by the shown fit ($fitPoints, $intentPoints)',
    ({ fitPoints, intentPoints }) => {
      // Two fit rules of fractional points and one intent rule that does
      // not decay, so the score is fixed whatever the evaluation time.
      const fractional = modelWith({
        fit: [
          { traits: ['title'], group: 'persona', pattern: 'buyer' },
          {
            traits: ['company.industry'],
            group: 'industry',
            oneOf: ['Retail'],
          },
        ].map((rule) => ({ ...rule, points: fitPoints })),
        intent: [
          {
            when: { events: ['Tiny Signal'] },
            points: intentPoints,
            retentionPerQuarter: 1,
          },
        ],
        qualification: { threshold: 25, recycleBelow: 10, minimumFit: 25 },
      });
      const events = [
        identify({ title: 'Buyer', 'company.industry': 'Retail' }),
        trackingEvent({ type: 'track', name: 'Tiny Signal' }),
      ];
      const lead = newLead('l', fractional, T0);
      const applied = applyEvents(lead, events, fractional).state;
      const { state, score } = evaluateLead(applied, fractional, T0);
      const explanation = explainScore(score);
      const qualifies = explanation.score >= 25 && explanation.fit >= 25;

      expect(state.status).toBe(qualifies ? 'mql' : 'engaged');
      expect(explanation.fit).toBe(roundCents(score.fit));
      expect(explanation.score).toBe(roundCents(score.score));
    },
  );

  it('does not qualify a lead below the minimum fit', () => {
    const events = [
      identify({ title: 'Finance Manager' }),
      demo(),
      demo(),
      pricing(),
    ].map((event, index) => ({ ...event, messageId: `min-fit-${index}` }));
    const { state, score } = evaluateAfter(events, T0);

    expect(score.score).toBeGreaterThanOrEqual(100);
    expect(score.fit).toBeLessThan(20);
    expect(state.status).toBe('engaged');
  });

  it('stays an MQL between the recycle level and the threshold', () => {
    const mql = qualified().state;
    const later = evaluateLead(mql, model, T0 + 120 * DAY_MS);
    const score = scoreLead(mql, model, T0 + 120 * DAY_MS).score;

    expect(score).toBeLessThan(100);
    expect(score).toBeGreaterThanOrEqual(60);
    expect(later.state.status).toBe('mql');
    expect(later.transitions).toHaveLength(0);
  });

  it('recycles at the exact time the decayed score crossed the level', () => {
    const mql = qualified().state;
    const crossing = nextReviewAt(mql, model, T0) ?? 0;
    const { state, transitions } = evaluateLead(
      mql,
      model,
      crossing + 90 * DAY_MS,
    );

    expect(state.status).toBe('recycled');
    expect(transitions[0]?.kind).toBe('recycled');
    expect(transitions[0]?.at).toBe(crossing);
    expect(shownScore(mql, crossing)).toBeLessThan(60);
    expect(shownScore(mql, crossing - 1)).toBe(60);
  });

  it('reviews at the first millisecond the shown score is below', () => {
    const mql = qualified().state;
    const shownBelow = firstTimeBelow(mql, (score) => roundCents(score) < 60);

    expect(nextReviewAt(mql, model, T0)).toBe(shownBelow);
    expect(mql.nextReviewAt).toBe(shownBelow);
  });

  it.each([
    { centsBelow: 0.3, status: 'mql' },
    { centsBelow: 0.6, status: 'recycled' },
  ])('is $status $centsBelow cents below the level', (row) => {
    const mql = qualified().state;
    const exact = 60 - row.centsBelow / 100;
    const at = firstTimeBelow(mql, (score) => score < exact);
    const { state } = evaluateLead(mql, model, at);

    expect(scoreLead(mql, model, at).score).toBeLessThan(exact);
    expect(scoreLead(mql, model, at).score).toBeGreaterThan(exact - 1e-6);
    expect(state.status).toBe(row.status);
  });

  it('gives the same recycle time whether the sweep runs late or twice', () => {
    const mql = qualified().state;
    const crossing = nextReviewAt(mql, model, T0) ?? 0;
    const onTime = evaluateLead(mql, model, crossing);
    const late = evaluateLead(mql, model, crossing + 7 * DAY_MS);
    const twice = evaluateLead(onTime.state, model, crossing + DAY_MS);

    expect(onTime.state.recycledAt).toBe(crossing);
    expect(late.state.recycledAt).toBe(crossing);
    expect(twice.transitions).toHaveLength(0);
  });

  it.each([
    {
      cause: 'a penalty',
      event: trackingEvent({ name: 'Unsubscribed', days: 10 }),
    },
    { cause: 'a lower fit', event: identify({ title: 'student' }, 10) },
  ])('recycles at the time of $cause', ({ event }) => {
    const strict = testModel({ recycleBelow: 90 });
    const mql = evaluateLead(
      applyEvents(
        newLead('lead-1', strict, T0),
        [cfoIdentify(), demo(), pricing()],
        strict,
      ).state,
      strict,
      T0,
    ).state;
    const dropped = applyEvents(mql, [event], strict).state;
    const now = T0 + 11 * DAY_MS;
    const { state, transitions } = evaluateLead(dropped, strict, now);

    expect(state.status).toBe('recycled');
    expect(transitions[0]?.at).toBe(event.occurredAt);
    expect(state.recycledAt).toBe(event.occurredAt);
    expect(transitions[0]?.score.score).toBeLessThan(90);
    expect(scoreLead(mql, strict, event.occurredAt).score).toBeGreaterThan(90);
  });

  it('requalifies only after the cooldown and new activity', () => {
    const mql = qualified().state;
    const crossing = nextReviewAt(mql, model, T0) ?? 0;
    const recycled = evaluateLead(mql, model, crossing).state;
    const inCooldown = crossing + 10 * DAY_MS;
    const afterCooldown = crossing + 31 * DAY_MS;
    const burst = (days: number) =>
      [demo(days), demo(days), pricing(days)].map((event, index) => ({
        ...event,
        messageId: `burst-${days}-${index}`,
      }));

    const early = evaluateAfter(
      burst((inCooldown - T0) / DAY_MS),
      inCooldown,
      recycled,
    );
    expect(early.state.status).toBe('recycled');
    expect(early.state.nextReviewAt).toBe(crossing + 30 * DAY_MS);

    const atCooldownEnd = evaluateLead(
      early.state,
      model,
      crossing + 30 * DAY_MS,
    );
    expect(atCooldownEnd.state.status).toBe('mql');
    expect(atCooldownEnd.state.episode).toBe(2);

    const quiet = evaluateLead(recycled, model, afterCooldown);
    expect(quiet.state.status).toBe('recycled');
  });

  it('keeps the first qualification time across episodes', () => {
    const mql = qualified().state;
    const crossing = nextReviewAt(mql, model, T0) ?? 0;
    const recycled = evaluateLead(mql, model, crossing).state;
    const later = crossing + 40 * DAY_MS;
    const days = (later - T0) / DAY_MS;
    const again = evaluateAfter(
      [demo(days), demo(days), pricing(days)].map((event, index) => ({
        ...event,
        messageId: `again-${index}`,
      })),
      later,
      recycled,
    );

    expect(again.state.episode).toBe(2);
    expect(again.state.firstQualifiedAt).toBe(T0);
    expect(again.state.qualifiedAt).toBe(later);
  });
});

describe('nextReviewAt', () => {
  it('is undefined for an engaged lead', () => {
    const { state } = evaluateAfter([demo()], T0);

    expect(nextReviewAt(state, model, T0)).toBeUndefined();
  });

  it('is undefined for an MQL whose fit alone holds the level', () => {
    const strongFit = testModel({ recycleBelow: 40 });
    const events = [cfoIdentify(), demo(), pricing()];
    const state = applyEvents(
      newLead('l', strongFit, T0),
      events,
      strongFit,
    ).state;
    const mql = evaluateLead(state, strongFit, T0).state;

    expect(mql.status).toBe('mql');
    expect(nextReviewAt(mql, strongFit, T0)).toBeUndefined();
  });
});

describe('non-decaying points', () => {
  it('keep an MQL whose fit is below the level', () => {
    const steady = modelWith({
      fit: [{ traits: ['title'], oneOf: ['CFO'], points: 45 }],
      intent: [
        {
          when: { events: ['Webinar Attended'] },
          points: 50,
          retentionPerQuarter: 1,
        },
        { when: { events: ['Demo Requested'] }, points: 60 },
      ],
      qualification: { threshold: 100, recycleBelow: 90 },
    });
    const events = [
      identify({ title: 'CFO' }),
      trackingEvent({ name: 'Webinar Attended' }),
      demo(),
    ];
    const state = applyEvents(newLead('l', steady, T0), events, steady).state;
    const mql = evaluateLead(state, steady, T0).state;
    const decadeLater = evaluateLead(mql, steady, T0 + 3650 * DAY_MS);

    expect(mql.status).toBe('mql');
    expect(mql.nextReviewAt).toBeUndefined();
    expect(decadeLater.state.status).toBe('mql');
    expect(roundCents(decadeLater.score.score)).toBe(95);
  });
});

describe('recycleBySales', () => {
  it('recycles an MQL whatever its score', () => {
    const mql = qualified().state;

    const { state, transitions } = recycleBySales(
      mql,
      model,
      T0 + DAY_MS,
      'no budget this year',
    );

    expect(state.status).toBe('recycled');
    expect(transitions.map((t) => t.kind)).toEqual(['recycled']);
    expect(transitions[0]?.reason).toBe(
      'recycled by sales: no budget this year',
    );
    expect(state.episodes[0]).toMatchObject({
      episode: 1,
      recycledAt: T0 + DAY_MS,
      recycleReason: 'recycled by sales: no budget this year',
    });
  });

  it('changes nothing for a lead that is not an MQL', () => {
    const { state } = evaluateAfter([demo()], T0);

    const result = recycleBySales(state, model, T0, 'not a fit');

    expect(result.transitions).toEqual([]);
    expect(result.state.status).toBe('engaged');
  });

  it('starts the cooldown at the sales decision', () => {
    const recycled = recycleBySales(
      qualified().state,
      model,
      T0,
      'later',
    ).state;
    const events = [demo(5), pricing(5)].map((event, index) => ({
      ...event,
      messageId: `after-sales-${index}`,
    }));

    const during = evaluateAfter(events, T0 + 5 * DAY_MS, recycled);
    const after = evaluateLead(during.state, model, T0 + 30 * DAY_MS);

    expect(during.state.status).toBe('recycled');
    expect(after.state.status).toBe('mql');
    expect(after.state.episode).toBe(2);
  });
});

describe('episodes', () => {
  it('records the model version of each qualification', () => {
    const { state } = qualified();

    expect(state.episodes).toEqual([
      { episode: 1, qualifiedAt: T0, score: 115, modelVersion: model.version },
    ]);
    expect(state.lastScore).toMatchObject({ modelVersion: model.version });
  });

  it('publishes one qualification and one recycle per episode', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            day: fc.integer({ min: 0, max: 720 }),
            kind: fc.constantFrom('demo', 'pricing', 'blog'),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (drafts) => {
          const transitions = replayTimeline(drafts);
          const byEpisode = new Map<number, string[]>();
          for (const t of transitions) {
            byEpisode.set(t.episode, [
              ...(byEpisode.get(t.episode) ?? []),
              t.kind,
            ]);
          }
          for (const kinds of byEpisode.values()) {
            expect(kinds[0]).toBe('qualified');
            expect(kinds.filter((kind) => kind === 'qualified')).toHaveLength(
              1,
            );
            expect(
              kinds.filter((kind) => kind === 'recycled').length,
            ).toBeLessThanOrEqual(1);
          }
          const episodes = [...byEpisode.keys()];
          expect(episodes).toEqual(episodes.map((_, index) => index + 1));
        },
      ),
      { numRuns: 100 },
    );
  });
});

/**
 * Applies events day by day to a CFO lead and evaluates it after each day
 * and every 10 days in between, as ingest and the sweep would.
 */
function replayTimeline(drafts: { day: number; kind: string }[]) {
  const builders: Record<string, (days: number) => TrackingEvent> = {
    demo,
    pricing,
    blog,
  };
  let state = applyEvents(
    newLead('t', model, T0),
    [cfoIdentify()],
    model,
  ).state;
  const transitions: Transition[] = [];
  for (let day = 0; day <= 900; day += 1) {
    const events = drafts
      .filter((draft) => draft.day === day)
      .map((draft) => builders[draft.kind]?.(day) as TrackingEvent);
    if (events.length === 0 && day % 10 !== 0) continue;
    state = applyEvents(state, events, model).state;
    const evaluation = evaluateLead(state, model, T0 + day * DAY_MS);
    state = evaluation.state;
    transitions.push(...evaluation.transitions);
  }
  const first = state.firstQualifiedAt;
  if (transitions.length > 0) {
    expect(first).toBe(transitions[0]?.at);
  }
  return transitions;
}
