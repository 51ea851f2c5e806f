import { describe, expect, it } from 'vitest';
import { YEAR_MS } from '../../functions/domain/intent-tally.js';
import {
  applyEvents,
  MAX_OTHER_TRAITS,
  newLead,
} from '../../functions/domain/lead.js';
import { MIN_RETENTION_PER_QUARTER } from '../../functions/domain/model-schema.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import { scoreLead } from '../../functions/domain/score.js';
import { DAY_MS, QUARTER_MS } from '../../functions/domain/time.js';
import {
  blog,
  cfoIdentify,
  demo,
  identify,
  pricing,
  T0,
  trackingEvent,
} from '../fixtures/events.js';
import { testModel, testModelDocument } from '../fixtures/models.js';

const model = testModel();

function scoreAfter(events: Parameters<typeof applyEvents>[1], at: number) {
  const { state } = applyEvents(newLead('lead-1', model, T0), events, model);
  return scoreLead(state, model, at);
}

describe('scoreLead fit', () => {
  it.each([
    { title: 'CFO', points: 30, rule: 'title-cfo' },
    { title: 'Chief Financial Officer', points: 30, rule: 'title-cfo' },
    { title: 'Finance Manager', points: 10, rule: 'title-finance' },
    { title: 'Finance student', points: -30, rule: 'title-student' },
  ])('scores title "$title" once in its group', ({ title, points, rule }) => {
    const score = scoreAfter([identify({ title })], T0);

    expect(score.fit).toBe(points);
    expect(score.fitContributions.map((c) => c.ruleId)).toEqual([rule]);
  });

  it('keeps the same traits past the limit in any order', () => {
    const names = (from: number) =>
      Object.fromEntries(
        Array.from({ length: MAX_OTHER_TRAITS }, (_, index) => [
          `extra_${String(from + index).padStart(4, '0')}`,
          'x',
        ]),
      );
    const first = identify({ ...names(0), title: 'CFO' });
    const second = identify(names(MAX_OTHER_TRAITS / 2));
    const lead = () => newLead('lead-1', model, T0);

    const forward = applyEvents(lead(), [first, second], model).state;
    const backward = applyEvents(lead(), [second, first], model).state;

    const kept = Object.keys(forward.traits).sort();
    expect(kept).toEqual(Object.keys(backward.traits).sort());
    expect(kept).toHaveLength(MAX_OTHER_TRAITS + 1);
    expect(kept).toContain('title');
    expect(kept).toContain('extra_0000');
    expect(kept).not.toContain(`extra_${MAX_OTHER_TRAITS + 10}`);
    expect(scoreLead(forward, model, T0).fit).toBe(30);
  });

  it('takes the first trait present among the candidates', () => {
    const score = scoreAfter([identify({ job_title: 'CFO' })], T0);

    expect(score.fitContributions[0]?.trait).toBe('job_title');
  });

  it('compares categories trimmed and case-insensitively', () => {
    const score = scoreAfter([cfoIdentify()], T0);

    expect(score.fit).toBe(50);
  });

  it.each([
    { employees: 999, points: 0 },
    { employees: 1000, points: 10 },
    { employees: '25000', points: 10 },
  ])('applies the range to $employees employees', ({ employees, points }) => {
    const score = scoreAfter(
      [identify({ 'company.employee_count': employees })],
      T0,
    );

    expect(score.fit).toBe(points);
  });

  it('rescores fit after new traits, leaving the old state', () => {
    const before = applyEvents(
      newLead('lead-1', model, T0),
      [identify({ title: 'Finance Manager' })],
      model,
    ).state;
    expect(scoreLead(before, model, T0).fit).toBe(10);

    const after = applyEvents(before, [identify({ title: 'CFO' }, 1)], model);

    expect(scoreLead(after.state, model, T0 + DAY_MS).fit).toBe(30);
    expect(scoreLead(before, model, T0).fit).toBe(10);
    expect(before.traits.title?.value).toBe('Finance Manager');
  });

  it('keeps the newest trait value whatever the arrival order', () => {
    const newer = identify({ title: 'CFO' }, 2);
    const older = identify({ title: 'Finance student' }, 1);

    expect(scoreAfter([newer, older], T0 + 3 * DAY_MS).fit).toBe(30);
    expect(scoreAfter([older, newer], T0 + 3 * DAY_MS).fit).toBe(30);
  });
});

describe('scoreLead intent', () => {
  it('counts an event at the minimum retention', () => {
    const document = testModelDocument();
    (document.intent as Record<string, unknown>).retentionPerQuarter =
      MIN_RETENTION_PER_QUARTER;
    const fastDecay = compileModel(document);
    // The first millisecond of a decay year has the smallest stored weight.
    const at = 57 * YEAR_MS;
    const event = trackingEvent({ name: 'Demo Requested', occurredAt: at });
    const lead = newLead('lead-1', fastDecay, at);

    const { state } = applyEvents(lead, [event], fastDecay);

    expect(scoreLead(state, fastDecay, at).intent).toBeCloseTo(40, 4);
  });

  it('lists only rules the model still has', () => {
    const { state } = applyEvents(
      newLead('lead-1', model, T0),
      [demo(), pricing()],
      model,
    );
    const document = testModelDocument();
    const intent = document.intent as { rules: Array<{ id: string }> };
    intent.rules = intent.rules.filter((rule) => rule.id !== 'demo-request');
    const withoutDemo = compileModel(document);

    const score = scoreLead(state, withoutDemo, T0);

    expect(score.intentContributions).toHaveLength(1);
    expect(Object.keys(score.intentContributions)).toEqual(['0']);
    expect(score.intentContributions[0]?.ruleId).toBe('pricing-page');
  });

  it('scores an event under its first matching rule only', () => {
    const score = scoreAfter([demo(), pricing(), blog()], T0);

    expect(score.intent).toBe(67);
  });

  it('matches properties against patterns', () => {
    const download = trackingEvent({
      name: 'Content Downloaded',
      properties: { asset: 'Strategic Sourcing Playbook' },
    });
    const other = trackingEvent({
      name: 'Content Downloaded',
      properties: { asset: 'Company brochure' },
    });

    expect(scoreAfter([download, other], T0).intent).toBe(15);
  });

  it('decays positive intent by a quarter per quarter', () => {
    const score = scoreAfter([demo()], T0 + QUARTER_MS);

    expect(score.intent).toBeCloseTo(30, 9);
  });

  it('decays each rule at its own retention', () => {
    const download = trackingEvent({
      name: 'Content Downloaded',
      properties: { asset: 'sourcing guide' },
    });
    const score = scoreAfter([download, demo()], T0 + QUARTER_MS);

    expect(score.intent).toBeCloseTo(7.5 + 30, 9);
  });

  it('never decays a negative contribution towards zero', () => {
    const unsubscribe = trackingEvent({ name: 'Unsubscribed' });
    const score = scoreAfter([unsubscribe, demo()], T0 + 4 * QUARTER_MS);

    const negative = score.intentContributions.find(
      (c) => c.ruleId === 'unsubscribed',
    );
    expect(negative?.points).toBe(-30);
  });

  it('scores a late event as if it had arrived on time', () => {
    const inOrder = scoreAfter([demo(0), pricing(30)], T0 + 60 * DAY_MS);
    const late = scoreAfter([pricing(30), demo(0)], T0 + 60 * DAY_MS);
    const { state: first } = applyEvents(
      newLead('lead-1', model, T0),
      [pricing(30)],
      model,
    );
    const { state: second } = applyEvents(first, [demo(0)], model);
    const split = scoreLead(second, model, T0 + 60 * DAY_MS);

    expect(late.score).toBeCloseTo(inOrder.score, 9);
    expect(split.score).toBeCloseTo(inOrder.score, 9);
  });

  it('gives the same score for every order of the same events', () => {
    const events = [
      cfoIdentify(0),
      demo(3),
      pricing(10),
      blog(11),
      blog(40),
      pricing(70),
      trackingEvent({ name: 'Unsubscribed', days: 50 }),
    ];
    const at = T0 + 100 * DAY_MS;
    const expected = scoreAfter(events, at).score;

    for (let seed = 1; seed <= 20; seed += 1) {
      const shuffled = shuffle(events, seed);
      const { state } = applyEvents(newLead('lead-1', model, T0), [], model);
      let current = state;
      for (const event of shuffled) {
        current = applyEvents(current, [event], model).state;
      }
      expect(scoreLead(current, model, at).score).toBeCloseTo(expected, 9);
    }
  });
});

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i -= 1) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
