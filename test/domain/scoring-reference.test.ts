import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import * as domainExplanation from '../../functions/domain/explanation.js';
import * as domainLead from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import type { ScoringModel } from '../../functions/domain/model.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import * as domainQualification from '../../functions/domain/qualification.js';
import {
  fromStoredLead,
  type StoredLeadState,
  toStoredLead,
} from '../../functions/domain/stored-lead.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { T0 } from '../fixtures/events.js';
import { modelWith } from '../fixtures/models.js';
import * as reference from '../support/reference-scoring/index.js';

/**
 * The scoring core against its frozen reference copy: every request of a
 * random event stream must give the same state, outcomes, score,
 * transitions and explanation, and must leave its input state unchanged.
 */

type LeadState = domainLead.LeadState;

/** The functions of the core that a request and a sweep call. */
interface ScoringCore {
  newLead: typeof domainLead.newLead;
  applyEvents: typeof domainLead.applyEvents;
  evaluateLead: typeof domainQualification.evaluateLead;
  catchUpReviews: typeof domainQualification.catchUpReviews;
  recycleBySales: typeof domainQualification.recycleBySales;
  explainScore: typeof domainExplanation.explainScore;
  /** Converts a state to the form it is stored in. */
  toStored(state: LeadState): StoredLeadState;
  /** Converts a stored state back, as a read from the table does. */
  fromStored(stored: StoredLeadState): LeadState;
}

/**
 * Returns a state without its fields whose value is undefined, which a
 * store drops. Copies of a state may differ in which fields they list as
 * undefined and which they leave out.
 */
function withoutUndefined(state: object): StoredLeadState {
  const fields = Object.entries(state).filter(
    ([, value]) => value !== undefined,
  );
  return Object.fromEntries(fields) as StoredLeadState;
}

const optimized: ScoringCore = {
  newLead: domainLead.newLead,
  applyEvents: domainLead.applyEvents,
  evaluateLead: domainQualification.evaluateLead,
  catchUpReviews: domainQualification.catchUpReviews,
  recycleBySales: domainQualification.recycleBySales,
  explainScore: domainExplanation.explainScore,
  toStored: toStoredLead,
  fromStored: fromStoredLead,
};

/**
 * The reference keeps its state in the stored form, so its conversions
 * only drop undefined fields.
 */
const frozen = {
  ...reference,
  toStored: (state: LeadState) => withoutUndefined(state),
  fromStored: (stored: StoredLeadState) => stored as unknown as LeadState,
} as unknown as ScoringCore;

const defaultModel = compileModel(DEFAULT_MODEL_DOCUMENT);

/**
 * A model with uncapped rules at two retentions (so review times are
 * found by bisection), a lifetime cap, a short-window email click rule, a
 * category and page-name rule, and a penalty.
 */
const mixedModel = modelWith({
  fit: [
    { traits: ['title'], group: 'persona', pattern: 'chief', points: 30 },
    { traits: ['title'], group: 'persona', pattern: 'manager', points: 10 },
    { traits: ['company.employee_count'], range: { min: 1000 }, points: 20 },
    { traits: ['email'], domains: ['gmail.com'], points: -10 },
  ],
  intent: [
    { id: 'demo', when: { events: ['Demo Requested'] }, points: 40 },
    {
      id: 'guide',
      when: { events: ['Content Downloaded'] },
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
    {
      id: 'docs',
      when: { types: ['screen', 'page'], names: ['Docs'] },
      points: 4,
      retentionPerQuarter: 0.9,
    },
    {
      id: 'video',
      when: { categories: ['Video'] },
      points: 5,
      cap: { max: 1, windowDays: 1 },
    },
    { id: 'unsubscribe', when: { events: ['Unsubscribed'] }, points: -30 },
    { id: 'careers', when: { path: '^/careers' }, points: -5 },
  ],
  qualification: { threshold: 80, recycleBelow: 50, cooldownDays: 10 },
});

const PATHS = [
  '/pricing',
  '/pricing/enterprise',
  '/blog/p2p-automation',
  '/careers',
  '/compare/coupa',
  '/integrations/sap-ariba',
  '/analyst-reports/gartner-mq',
  '/roi-calculator',
  '/csddd',
  '/customers/acme',
  '/product',
  '/filler',
  '/about',
];

const TRACK_NAMES = [
  'Demo Requested',
  ' demo requested',
  'Contact Sales',
  'Meeting Booked',
  'Content Downloaded',
  'Webinar Attended',
  'Webinar Registered',
  'Email Opened',
  'Email Link Clicked',
  'Unsubscribed',
  'ROI Calculated',
  'Signed Up',
];

const USER_AGENTS = [
  undefined,
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15',
  'Mozilla/5.0',
  'Mozilla/5.0 (compatible; bingbot/2.0)',
  'python-requests/2.31',
];

const TITLES = [
  'Chief Procurement Officer',
  'VP Procurement',
  'Procurement Manager',
  'Finance student',
  'Software Engineer',
];

/** Lead span: beyond the two years after which cap windows are folded. */
const SPAN_MS = 3 * 365 * DAY_MS;

const eventTime = fc.oneof(
  fc.integer({ min: 0, max: SPAN_MS }),
  fc.integer({ min: 0, max: 40 * DAY_MS }),
  // Clicks of a few seconds, several in one second, for bursts.
  fc
    .tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 999 }))
    .map(([second, ms]) => 100 * DAY_MS + second * 1000 + ms),
);

const properties = fc.record(
  {
    asset: fc.constantFrom('Buyers guide', 'LkSG checklist', 'Gartner MQ'),
    conference: fc.constantFrom('ProcureCon 2026', 'Other'),
    deliveredAt: fc.integer({ min: -30_000, max: 60_000 }),
    machine_open: fc.boolean(),
    category: fc.constantFrom('Video', 'video ', 'Docs'),
  },
  { requiredKeys: [] },
);

type EventDraft = Omit<TrackingEvent, 'messageId'>;

const behaviour: fc.Arbitrary<EventDraft> = fc
  .record({
    type: fc.constantFrom('track', 'track', 'page', 'page', 'screen'),
    at: eventTime,
    late: fc.constantFrom(0, 0, 0, -5000, 3 * DAY_MS),
    path: fc.constantFrom(...PATHS),
    name: fc.constantFrom(...TRACK_NAMES, 'Docs'),
    userAgent: fc.constantFrom(...USER_AGENTS),
    userId: fc.constantFrom('l', 'l', 'Jane@Acme.example', 'crm-7'),
    props: properties,
  })
  .map(({ type, at, late, path, name, userAgent, userId, props }) => {
    const occurredAt = T0 + at;
    const { category, deliveredAt, ...rest } = props;
    const draft: EventDraft = {
      type,
      occurredAt,
      receivedAt: occurredAt + late,
      userId,
      properties: {
        ...rest,
        ...(deliveredAt === undefined
          ? {}
          : { deliveredAt: occurredAt - deliveredAt }),
      },
      traits: {},
    };
    if (type === 'page') draft.path = path;
    if (type !== 'page' || name === 'Docs') draft.name = name;
    if (category !== undefined) draft.category = category;
    if (userAgent !== undefined) draft.userAgent = userAgent;
    return draft;
  });

const traitEvent: fc.Arbitrary<EventDraft> = fc
  .record({
    type: fc.constantFrom('identify', 'group', 'alias'),
    at: eventTime,
    title: fc.constantFrom(...TITLES),
    employees: fc.constantFrom(30, 800, 2500, '12,000'),
    email: fc.constantFrom('jane@acme.example', 'j@gmail.com', 'x@tu-b.de'),
    groupId: fc.constantFrom(' acme ', 'beta', ''),
  })
  .map(
    ({ type, at, title, employees, email, groupId }): EventDraft => ({
      type,
      occurredAt: T0 + at,
      receivedAt: T0 + at,
      userId: 'l',
      properties: {},
      traits:
        type === 'alias'
          ? {}
          : { title, 'company.employee_count': employees, email },
      ...(type === 'group' ? { groupId } : {}),
      ...(type === 'alias' ? { previousId: 'anon-1' } : {}),
    }),
  );

/**
 * Email clicks, many in shared seconds (bursts), some spread over more
 * than the day that click seconds stay open.
 */
const clicks: fc.Arbitrary<EventDraft[]> = fc.array(
  fc
    .record({
      second: fc.integer({ min: 0, max: 4 }),
      ms: fc.integer({ min: 0, max: 999 }),
      spreadMs: fc.constantFrom(
        0,
        0,
        3_600_000,
        3_600_000,
        2 * DAY_MS,
        9 * DAY_MS,
      ),
      bot: fc.constantFrom(false, false, true),
      deliveredMsBefore: fc.constantFrom(undefined, 2000, 60_000),
      name: fc.constantFrom('Email Link Clicked', 'Email Clicked'),
    })
    .map(({ second, ms, spreadMs, bot, deliveredMsBefore, name }) => {
      const occurredAt = T0 + 200 * DAY_MS + spreadMs + second * 1000 + ms;
      const draft: EventDraft = {
        type: 'track',
        name,
        occurredAt,
        receivedAt: occurredAt,
        userId: 'l',
        properties:
          deliveredMsBefore === undefined
            ? {}
            : { deliveredAt: occurredAt - deliveredMsBefore },
        traits: {},
      };
      if (bot) draft.userAgent = 'Mozilla/5.0 (compatible; bingbot/2.0)';
      return draft;
    }),
  { maxLength: 24 },
);

/** One request or sweep of a lead's history. */
type Step =
  | { kind: 'request'; events: TrackingEvent[]; delayMs: number }
  | { kind: 'sweep'; afterMs: number }
  | { kind: 'sales-recycle' };

const steps: fc.Arbitrary<Step[]> = fc
  .tuple(
    fc.array(fc.oneof({ weight: 6, arbitrary: behaviour }, traitEvent), {
      minLength: 1,
      maxLength: 80,
    }),
    clicks,
    fc.integer({ min: 0, max: 1_000_000 }),
    fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 }),
    fc.array(
      fc.oneof(
        fc.constant(0),
        fc.integer({ min: 0, max: 90 * DAY_MS }),
        fc.constant(-1),
        fc.constant(-2),
      ),
      { minLength: 1, maxLength: 6 },
    ),
    fc.boolean(),
  )
  .map(([drafts, clickDrafts, seed, sizes, extras, sorted]) => {
    const mixed = interleave(drafts, clickDrafts, seed);
    const events = mixed.map(
      (draft, index): TrackingEvent => ({ ...draft, messageId: `m-${index}` }),
    );
    if (sorted) events.sort((a, b) => a.receivedAt - b.receivedAt);
    const result: Step[] = [];
    let start = 0;
    for (let index = 0; start < events.length; index += 1) {
      const size = sizes[index % sizes.length] as number;
      const extra = extras[index % extras.length] as number;
      const batch = events.slice(start, start + size);
      start += size;
      if (extra === -1) result.push({ kind: 'sweep', afterMs: 60 * DAY_MS });
      if (extra === -2) result.push({ kind: 'sales-recycle' });
      result.push({ kind: 'request', events: batch, delayMs: extra });
    }
    result.push({ kind: 'sweep', afterMs: 400 * DAY_MS });
    return result;
  });

/** Merges two lists, keeping the order within each, by a seeded draw. */
function interleave<T>(a: readonly T[], b: readonly T[], seed: number): T[] {
  const merged: T[] = [];
  let i = 0;
  let j = 0;
  let bits = seed;
  while (i < a.length || j < b.length) {
    const takeA = j >= b.length || (i < a.length && bits % 2 === 0);
    bits = (bits * 31 + 7) % 1_000_003;
    if (takeA) merged.push(a[i++] as T);
    else merged.push(b[j++] as T);
  }
  return merged;
}

/** Everything a step returns. Outputs hold states in stored form. */
interface StepResult {
  state: LeadState;
  outputs: unknown[];
}

/**
 * Runs one step as the ingest handler, the sweep or a sales recycle
 * calls the core, and checks that the input state did not change.
 */
function runStep(
  core: ScoringCore,
  model: ScoringModel,
  state: LeadState,
  step: Step,
  clock: number,
): StepResult {
  const before = structuredClone(state);
  const result = runStepUnchecked(core, model, state, step, clock);
  expect(state).toStrictEqual(before);
  return result;
}

function runStepUnchecked(
  core: ScoringCore,
  model: ScoringModel,
  state: LeadState,
  step: Step,
  clock: number,
): StepResult {
  if (step.kind === 'sweep') {
    const caughtUp = core.catchUpReviews(state, model, clock);
    const evaluation = core.evaluateLead(caughtUp.state, model, clock);
    return {
      state: evaluation.state,
      outputs: [
        caughtUp.transitions,
        evaluation.transitions,
        evaluation.score,
        core.explainScore(evaluation.score),
      ],
    };
  }
  if (step.kind === 'sales-recycle') {
    const evaluation = core.recycleBySales(state, model, clock, 'no budget');
    return {
      state: evaluation.state,
      outputs: [evaluation.transitions, evaluation.score],
    };
  }
  const firstSeenAt = Math.min(
    clock,
    ...step.events.map((event) => event.occurredAt),
  );
  const caughtUp = core.catchUpReviews(state, model, firstSeenAt);
  const applied = core.applyEvents(caughtUp.state, step.events, model);
  const evaluation = core.evaluateLead(applied.state, model, clock);
  return {
    state: evaluation.state,
    outputs: [
      caughtUp.transitions,
      core.toStored(applied.state),
      applied.outcomes,
      evaluation.transitions,
      evaluation.score,
      core.explainScore(evaluation.score),
    ],
  };
}

/** Returns the time of a step: after its events and the previous step. */
function clockOf(step: Step, previous: number): number {
  if (step.kind === 'sweep') return previous + step.afterMs;
  if (step.kind === 'sales-recycle') return previous + 1000;
  const latest = Math.max(...step.events.map((event) => event.receivedAt));
  return Math.max(previous, latest) + Math.max(0, step.delayMs);
}

/**
 * Converts a state to its stored form and back, dropping undefined fields
 * as a store does, so the next step reads a state shaped like one loaded
 * from DynamoDB.
 */
function asStored(core: ScoringCore, state: LeadState): LeadState {
  const stored = JSON.stringify(core.toStored(state));
  return core.fromStored(JSON.parse(stored) as StoredLeadState);
}

function checkHistory(model: ScoringModel, history: Step[], store: boolean) {
  let actual = optimized.newLead('l', model, T0, T0);
  let expected = frozen.newLead('l', model, T0, T0);
  let clock = T0;
  for (const step of history) {
    clock = clockOf(step, clock);
    const got = runStep(optimized, model, actual, step, clock);
    const want = runStep(frozen, model, expected, step, clock);
    expect(got.outputs).toStrictEqual(want.outputs);
    expect(optimized.toStored(got.state)).toStrictEqual(
      frozen.toStored(want.state),
    );
    actual = store ? asStored(optimized, got.state) : got.state;
    expected = store ? asStored(frozen, want.state) : want.state;
  }
}

const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);

describe('scoring core against its reference', () => {
  it.each([
    ['default model', defaultModel],
    ['mixed model', mixedModel],
  ])('matches on random histories with the %s', (_name, model) => {
    fc.assert(
      fc.property(steps, fc.boolean(), (history, store) => {
        checkHistory(model, history, store);
      }),
      { numRuns: RUNS },
    );
  });

  it('matches on the benchmark workload', () => {
    // The core benchmark's mix: an identify, then page views and track
    // events of the default model over 90 days, in requests of 10.
    const events = benchmarkEvents();
    const history: Step[] = [];
    for (let start = 0; start < events.length; start += 10) {
      history.push({
        kind: 'request',
        events: events.slice(start, start + 10),
        delayMs: 0,
      });
    }
    checkHistory(defaultModel, history, false);
  });
});

/** Builds 200 events of one lead in the benchmark's mix. */
function benchmarkEvents(): TrackingEvent[] {
  const random = fc.sample(
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
      minLength: 600,
      maxLength: 600,
    }),
    { numRuns: 1, seed: 7 },
  )[0] as number[];
  let next = 0;
  const draw = () => random[next++ % random.length] as number;
  const events: TrackingEvent[] = [];
  let at = T0;
  for (let index = 0; index < 200; index += 1) {
    const base = {
      messageId: `b-${index}`,
      userId: 'l',
      occurredAt: at,
      receivedAt: at,
      properties: {},
      traits: {},
    };
    if (index === 0) {
      events.push({
        ...base,
        type: 'identify',
        traits: { title: 'VP Procurement', 'company.employee_count': 9000 },
      });
    } else if (draw() < 0.6) {
      const path = PATHS[Math.floor(draw() * PATHS.length)] as string;
      events.push({ ...base, type: 'page', path, properties: { path } });
    } else {
      const name = TRACK_NAMES[Math.floor(draw() * TRACK_NAMES.length)];
      events.push({ ...base, type: 'track', name: name as string });
    }
    at += Math.floor(draw() * ((90 * DAY_MS) / 40));
  }
  return events;
}
