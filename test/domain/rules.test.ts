import { describe, expect, it } from 'vitest';
import { applyEvents, newLead } from '../../functions/domain/lead.js';
import { MAX_MATCHED_LENGTH } from '../../functions/domain/matched-part.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import { evaluateLead } from '../../functions/domain/qualification.js';
import { DAY_MS, QUARTER_MS } from '../../functions/domain/time.js';
import { identify, T0, trackingEvent } from '../fixtures/events.js';
import { type ModelParts, modelWith } from '../fixtures/models.js';

/** Every row: a model, the lead's events and whether it qualifies. */
interface RuleCase {
  kind: string;
  case: string;
  parts: ModelParts;
  events: TrackingEvent[];
  at?: number;
  qualifies: boolean;
}

const track = (name: string, properties = {}, days = 0) =>
  trackingEvent({ type: 'track', name, properties, days });
const page = (fields: Partial<TrackingEvent>, days = 0) =>
  trackingEvent({ type: 'page', days, ...fields });
const fitRule = (rule: Record<string, unknown>) => ({ fit: [rule] });
/** Returns `length` characters that no rule of these cases matches. */
const padding = (length: number) => '/x'.repeat(length).slice(0, length);
const intentRule = (rule: Record<string, unknown>) => ({ intent: [rule] });
const demoRule = { when: { events: ['Demo Requested'] }, points: 60 };

const titleRule = fitRule({
  traits: ['title', 'job_title'],
  pattern: '\\b(vp|vice president)\\b.*\\bprocurement\\b',
  points: 50,
});
const industryRule = fitRule({
  traits: ['company.industry'],
  oneOf: ['Manufacturing', 'Café & Restaurants'],
  points: 50,
});
const sizeRule = fitRule({
  traits: ['company.employee_count'],
  range: { min: 1000 },
  points: 50,
});
const spendRule = fitRule({
  traits: ['company.annual_spend'],
  range: { min: 500_000_000 },
  points: 50,
});
const constructorRule = fitRule({
  traits: ['constructor'],
  pattern: '.',
  points: 50,
});
const competitorRule = {
  fit: [{ traits: ['email'], domains: ['coupa.com'], points: -50 }],
  intent: [demoRule],
};
const personalRule = {
  fit: [{ traits: ['email'], domains: ['gmail.com'], points: 50 }],
};
const groupedTitles = (group: string | undefined) => ({
  fit: [
    { traits: ['title'], pattern: 'procurement', points: 30, group },
    { traits: ['title'], pattern: 'chief', points: 25, group },
  ],
});
const minimumFit = {
  fit: [{ traits: ['title'], pattern: 'buyer', points: 10 }],
  intent: [demoRule],
  qualification: { minimumFit: 10 },
};
const cappedBlog = intentRule({
  when: { path: '^/blog/' },
  points: 20,
  cap: { max: 2, windowDays: 30 },
});
const unsubscribe = {
  intent: [demoRule, { when: { events: ['Unsubscribed'] }, points: -20 }],
};
const slowDecay = intentRule({ ...demoRule, retentionPerQuarter: 0.9 });

const cases: RuleCase[] = [
  {
    kind: 'fit pattern',
    case: 'a VP of procurement',
    parts: titleRule,
    events: [identify({ title: 'VP, Global Procurement' })],
    qualifies: true,
  },
  {
    kind: 'fit pattern',
    case: 'a VP of marketing',
    parts: titleRule,
    events: [identify({ title: 'VP Marketing' })],
    qualifies: false,
  },
  {
    kind: 'fit pattern',
    case: 'a pattern with a decomposed accent (NFD)',
    parts: fitRule({
      traits: ['title'],
      pattern: 'directeur ge\u0301ne\u0301ral',
      points: 50,
    }),
    events: [identify({ title: 'Directeur Général' })],
    qualifies: true,
  },
  {
    kind: 'fit oneOf',
    case: 'a padded, upper-case industry',
    parts: industryRule,
    events: [identify({ 'company.industry': '  MANUFACTURING ' })],
    qualifies: true,
  },
  {
    kind: 'fit oneOf',
    case: 'a decomposed accent (NFD)',
    parts: industryRule,
    events: [identify({ 'company.industry': 'Cafe\u0301 & Restaurants' })],
    qualifies: true,
  },
  {
    kind: 'fit oneOf',
    case: 'another industry',
    parts: industryRule,
    events: [identify({ 'company.industry': 'Software' })],
    qualifies: false,
  },
  {
    kind: 'fit pattern',
    case: 'a constructor trait the lead lacks',
    parts: constructorRule,
    events: [identify({ title: 'VP Procurement' })],
    qualifies: false,
  },
  {
    kind: 'fit pattern',
    case: 'a constructor trait the lead has',
    parts: constructorRule,
    events: [identify({ constructor: 'yes' })],
    qualifies: true,
  },
  {
    kind: 'fit range',
    case: '12,000 employees as text',
    parts: sizeRule,
    events: [identify({ 'company.employee_count': '12,000' })],
    qualifies: true,
  },
  {
    kind: 'fit range',
    case: '1.2e4 employees as text',
    parts: sizeRule,
    events: [identify({ 'company.employee_count': '1.2e4' })],
    qualifies: true,
  },
  {
    kind: 'fit range',
    case: 'hexadecimal text 0x2EE0',
    parts: sizeRule,
    events: [identify({ 'company.employee_count': '0x2EE0' })],
    qualifies: false,
  },
  {
    kind: 'fit range',
    case: 'binary text 0b11111010000',
    parts: sizeRule,
    events: [identify({ 'company.employee_count': '0b11111010000' })],
    qualifies: false,
  },
  {
    kind: 'fit range',
    case: 'octal text 0o3720',
    parts: sizeRule,
    events: [identify({ 'company.employee_count': '0o3720' })],
    qualifies: false,
  },
  {
    kind: 'fit range',
    case: '999 employees',
    parts: sizeRule,
    events: [identify({ 'company.employee_count': 999 })],
    qualifies: false,
  },
  {
    kind: 'fit spend band',
    case: '600M USD of spend',
    parts: spendRule,
    events: [identify({ 'company.annual_spend': 600_000_000 })],
    qualifies: true,
  },
  {
    kind: 'fit spend band',
    case: '490M USD of spend',
    parts: spendRule,
    events: [identify({ 'company.annual_spend': 490_000_000 })],
    qualifies: false,
  },
  {
    kind: 'fit domains',
    case: 'a competitor subdomain',
    parts: competitorRule,
    events: [identify({ email: 'ann@eu.COUPA.com' }), track('Demo Requested')],
    qualifies: false,
  },
  {
    kind: 'fit domains',
    case: 'a look-alike domain',
    parts: competitorRule,
    events: [identify({ email: 'ann@notcoupa.com' }), track('Demo Requested')],
    qualifies: true,
  },
  {
    kind: 'fit domains',
    case: 'a padded, upper-case address',
    parts: personalRule,
    events: [identify({ email: ' Jane@GMAIL.com ' })],
    qualifies: true,
  },
  {
    kind: 'fit domains',
    case: 'text that is no address',
    parts: personalRule,
    events: [identify({ email: 'gmail' })],
    qualifies: false,
  },
  {
    kind: 'fit group',
    case: 'two matches in one group',
    parts: groupedTitles('persona'),
    events: [identify({ title: 'Chief Procurement Officer' })],
    qualifies: false,
  },
  {
    kind: 'fit group',
    case: 'two matches without a group',
    parts: groupedTitles(undefined),
    events: [identify({ title: 'Chief Procurement Officer' })],
    qualifies: true,
  },
  {
    kind: 'minimum fit',
    case: 'a buyer with a demo request',
    parts: minimumFit,
    events: [identify({ title: 'Senior Buyer' }), track('Demo Requested')],
    qualifies: true,
  },
  {
    kind: 'minimum fit',
    case: 'a student with a demo request',
    parts: minimumFit,
    events: [identify({ title: 'Student' }), track('Demo Requested')],
    qualifies: false,
  },
  {
    kind: 'intent events',
    case: 'the named track event',
    parts: intentRule(demoRule),
    events: [track(' demo requested ')],
    qualifies: true,
  },
  {
    kind: 'intent events',
    case: 'another track event',
    parts: intentRule(demoRule),
    events: [track('Demo Viewed')],
    qualifies: false,
  },
  {
    kind: 'intent names',
    case: 'a page with the name',
    parts: intentRule({ when: { names: ['Pricing'] }, points: 60 }),
    events: [page({ name: 'Pricing' })],
    qualifies: true,
  },
  {
    kind: 'intent names',
    case: 'a track event with the name',
    parts: intentRule({ when: { names: ['Pricing'] }, points: 60 }),
    events: [track('Pricing')],
    qualifies: false,
  },
  {
    kind: 'intent categories',
    case: 'a page in the category',
    parts: intentRule({ when: { categories: ['Docs'] }, points: 60 }),
    events: [page({ category: 'docs' })],
    qualifies: true,
  },
  {
    kind: 'intent categories',
    case: 'a page in another category',
    parts: intentRule({ when: { categories: ['Docs'] }, points: 60 }),
    events: [page({ category: 'Blog' })],
    qualifies: false,
  },
  {
    kind: 'intent path',
    case: 'a page under the path',
    parts: intentRule({ when: { path: '^/pricing(/|$)' }, points: 60 }),
    events: [page({ path: '/pricing/enterprise' })],
    qualifies: true,
  },
  {
    kind: 'intent path',
    case: 'a page with a longer segment',
    parts: intentRule({ when: { path: '^/pricing(/|$)' }, points: 60 }),
    events: [page({ path: '/pricingless' })],
    qualifies: false,
  },
  {
    kind: 'intent path',
    case: `a match that ends at character ${MAX_MATCHED_LENGTH}`,
    parts: intentRule({ when: { path: '/pricing$' }, points: 60 }),
    events: [page({ path: `${padding(MAX_MATCHED_LENGTH - 8)}/pricing` })],
    qualifies: true,
  },
  {
    kind: 'intent path',
    case: `a match after character ${MAX_MATCHED_LENGTH}`,
    parts: intentRule({ when: { path: '/pricing$' }, points: 60 }),
    events: [page({ path: `${padding(MAX_MATCHED_LENGTH - 7)}/pricing` })],
    qualifies: false,
  },
  {
    kind: 'intent types',
    case: 'a screen view',
    parts: intentRule({ when: { types: ['screen'] }, points: 60 }),
    events: [trackingEvent({ type: 'screen', name: 'Home' })],
    qualifies: true,
  },
  {
    kind: 'intent types',
    case: 'a page view',
    parts: intentRule({ when: { types: ['screen'] }, points: 60 }),
    events: [page({ name: 'Home' })],
    qualifies: false,
  },
  {
    kind: 'intent property list',
    case: 'a listed value',
    parts: intentRule({
      when: { properties: { asset: ['Gartner Magic Quadrant'] } },
      points: 60,
    }),
    events: [track('Downloaded', { asset: 'gartner magic quadrant ' })],
    qualifies: true,
  },
  {
    kind: 'intent property list',
    case: 'a missing property',
    parts: intentRule({
      when: { properties: { asset: ['Gartner Magic Quadrant'] } },
      points: 60,
    }),
    events: [track('Downloaded', { title: 'Gartner Magic Quadrant' })],
    qualifies: false,
  },
  {
    kind: 'intent property pattern',
    case: 'a matching value',
    parts: intentRule({
      when: { properties: { asset: { pattern: 'forrester wave' } } },
      points: 60,
    }),
    events: [track('Downloaded', { asset: 'The Forrester Wave 2026' })],
    qualifies: true,
  },
  {
    kind: 'intent property pattern',
    case: 'a pattern with a decomposed accent (NFD)',
    parts: intentRule({
      when: { properties: { asset: { pattern: '^e\u0301tude de cas' } } },
      points: 60,
    }),
    events: [track('Downloaded', { asset: 'Étude de cas Acme' })],
    qualifies: true,
  },
  {
    kind: 'intent property pattern',
    case: `a match after character ${MAX_MATCHED_LENGTH}`,
    parts: intentRule({
      when: { properties: { asset: { pattern: 'forrester wave' } } },
      points: 60,
    }),
    events: [
      track('Downloaded', {
        asset: `${padding(MAX_MATCHED_LENGTH)} forrester wave`,
      }),
    ],
    qualifies: false,
  },
  {
    kind: 'intent property pattern',
    case: 'an object value',
    parts: intentRule({
      when: { properties: { asset: { pattern: 'forrester wave' } } },
      points: 60,
    }),
    events: [track('Downloaded', { asset: { name: 'Forrester Wave' } })],
    qualifies: false,
  },
  {
    kind: 'intent property range',
    case: '15 minutes on site',
    parts: intentRule({
      when: { properties: { seconds: { range: { min: 600 } } } },
      points: 60,
    }),
    events: [page({ properties: { seconds: 900 } })],
    qualifies: true,
  },
  {
    kind: 'intent property range',
    case: '5 minutes on site',
    parts: intentRule({
      when: { properties: { seconds: { range: { min: 600 } } } },
      points: 60,
    }),
    events: [page({ properties: { seconds: '300' } })],
    qualifies: false,
  },
  {
    kind: 'intent cap',
    case: 'three reads in two windows',
    parts: cappedBlog,
    events: [0, 1, 40].map((days) => page({ path: '/blog/a' }, days)),
    at: T0 + 40 * DAY_MS,
    qualifies: true,
  },
  {
    kind: 'intent cap',
    case: 'three reads in one window',
    parts: cappedBlog,
    events: [0, 1, 2].map((days) => page({ path: '/blog/a' }, days)),
    at: T0 + 2 * DAY_MS,
    qualifies: false,
  },
  {
    kind: 'negative intent',
    case: 'a demo request alone',
    parts: unsubscribe,
    events: [track('Demo Requested')],
    qualifies: true,
  },
  {
    kind: 'negative intent',
    case: 'a demo request and an unsubscribe',
    parts: unsubscribe,
    events: [track('Demo Requested'), track('Unsubscribed')],
    qualifies: false,
  },
  {
    kind: 'rule retention',
    case: 'a quarter at 0.9',
    parts: slowDecay,
    events: [track('Demo Requested')],
    at: T0 + QUARTER_MS,
    qualifies: true,
  },
  {
    kind: 'rule retention',
    case: 'a quarter at the default 0.75',
    parts: intentRule(demoRule),
    events: [track('Demo Requested')],
    at: T0 + QUARTER_MS,
    qualifies: false,
  },
  {
    kind: 'model retention',
    case: 'a quarter at 0.9',
    parts: { ...intentRule(demoRule), retentionPerQuarter: 0.9 },
    events: [track('Demo Requested')],
    at: T0 + QUARTER_MS,
    qualifies: true,
  },
  {
    kind: 'model retention',
    case: 'a quarter at 0.5',
    parts: { ...intentRule(demoRule), retentionPerQuarter: 0.5 },
    events: [track('Demo Requested')],
    at: T0 + QUARTER_MS,
    qualifies: false,
  },
];

describe('scoring rules', () => {
  it.each(cases)(
    '$kind: $case qualifies: $qualifies',
    ({ parts, events, at = T0, qualifies }) => {
      const model = modelWith(parts);
      const applied = applyEvents(newLead('lead', model, T0), events, model);

      const { state } = evaluateLead(applied.state, model, at);

      expect(state.status).toBe(qualifies ? 'mql' : 'engaged');
    },
  );

  it('covers every rule kind both ways', () => {
    const byKind = new Map<string, Set<boolean>>();
    for (const row of cases) {
      const seen = byKind.get(row.kind) ?? new Set<boolean>();
      seen.add(row.qualifies);
      byKind.set(row.kind, seen);
    }
    const oneSided = [...byKind]
      .filter(([, seen]) => seen.size < 2)
      .map(([kind]) => kind);

    expect(oneSided).toEqual([]);
  });
});
