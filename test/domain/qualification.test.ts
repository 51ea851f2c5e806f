import { describe, expect, it } from 'vitest';
import {
  applyEvents,
  type LeadState,
  newLead,
} from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import {
  evaluateLead,
  nextReviewAt,
} from '../../functions/domain/qualification.js';
import { scoreLead } from '../../functions/domain/score.js';
import { DAY_MS } from '../../functions/domain/time.js';
import {
  cfoIdentify,
  demo,
  identify,
  pricing,
  T0,
} from '../fixtures/events.js';
import { testModel } from '../fixtures/models.js';

const model = testModel();

function evaluateAfter(
  events: TrackingEvent[],
  now: number,
  state: LeadState = newLead('lead-1', model, T0),
) {
  const applied = applyEvents(state, events, model).state;
  return evaluateLead(applied, model, now);
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
    expect(scoreLead(mql, model, crossing).score).toBeLessThan(60);
    expect(scoreLead(mql, model, crossing - 1000).score).toBeGreaterThanOrEqual(
      60,
    );
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
