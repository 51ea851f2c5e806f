import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accountOf, roleOf } from '../../functions/domain/account.js';
import { applyEvents, newLead } from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import type { AccountPolicy } from '../../functions/domain/model.js';
import { maximumFit } from '../../functions/domain/model-check.js';
import { evaluateLead } from '../../functions/domain/qualification.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { identify, T0, trackingEvent } from '../fixtures/events.js';
import { defaultModel } from '../support/dependencies.js';

const model = defaultModel();

const page = (path: string, days = 0) =>
  trackingEvent({ type: 'page', path, days });
const track = (name: string, properties = {}, days = 0) =>
  trackingEvent({ type: 'track', name, properties, days });

/** Every page of the site, read once a day for two weeks. */
function readsEverything(): TrackingEvent[] {
  const paths = [
    '/pricing',
    '/blog/p2p',
    '/compare/vendor',
    '/integrations/sap',
    '/customers/acme',
    '/products/sourcing',
    '/csddd',
    '/roi-calculator',
  ];
  return Array.from({ length: 14 }, (_, day) =>
    paths.map((path) => page(path, day)),
  ).flat();
}

function evaluate(events: TrackingEvent[], at = T0 + 14 * DAY_MS) {
  const applied = applyEvents(newLead('l', model, T0), events, model).state;
  return evaluateLead(applied, model, at);
}

describe('procurement-software model', () => {
  it('qualifies a CPO at a large manufacturer who asks for a demo', () => {
    const { state, score } = evaluate(
      [
        identify({
          title: 'Chief Procurement Officer',
          email: 'cpo@acme.example',
          'company.industry': 'Manufacturing',
          'company.employee_count': 25_000,
        }),
        page('/pricing'),
        track('Demo Requested'),
      ],
      T0,
    );

    expect(score.fit).toBe(60);
    expect(score.intent).toBe(65);
    expect(state.status).toBe('mql');
  });

  it('never qualifies a student who reads every page', () => {
    const { state, score } = evaluate([
      identify({ title: 'MBA Student', email: 'kim@stanford.edu' }),
      ...readsEverything(),
      track('Demo Requested'),
    ]);

    expect(score.score).toBeGreaterThan(100);
    expect(score.fit).toBeLessThan(model.qualification.minimumFit);
    expect(state.status).toBe('engaged');
  });

  it('keeps a competitor below the minimum fit', () => {
    const { state } = evaluate([
      identify({
        title: 'VP Procurement',
        email: 'ann@eu.coupa.com',
        'company.employee_count': 5000,
      }),
      ...readsEverything(),
    ]);

    expect(state.status).toBe('engaged');
  });

  it('counts three blog reads per 30 days', () => {
    const reads = Array.from({ length: 10 }, (_, i) => page(`/blog/${i}`, 1));

    const { score } = evaluate(reads, T0 + DAY_MS);

    expect(score.intentContributions[0]).toMatchObject({
      ruleId: 'blog-read',
      matched: 10,
      counted: 3,
    });
  });

  it('scores an analyst report and a due-diligence guide', () => {
    const { score } = evaluate(
      [
        track('Content Downloaded', {
          asset: 'Gartner Magic Quadrant for Procure-to-Pay Suites',
        }),
        track('Content Downloaded', {
          asset: 'LkSG supplier due diligence checklist',
        }),
        track('Meeting Booked', { conference: 'ProcureCon Europe' }),
      ],
      T0,
    );

    expect(score.intentContributions.map((c) => c.ruleId)).toEqual([
      'conference-meeting-booked',
      'analyst-report-download',
      'supplier-due-diligence-download',
    ]);
  });

  it.each([
    { email: 'cpo@acme.example', business: true },
    { email: 'cpo@acme.example.', business: true },
    { email: 'cpo@acme\u3002example', business: true },
    { email: 'cpo@acme.xn--p1ai', business: true },
    { email: 'cpo@\u0430\u043a\u043c\u0435.\u0440\u0444', business: true },
    { email: 'cpo@acme.example..', business: false },
    { email: 'cpo@acme.c0m', business: false },
    { email: 'cpo@ac\u200bme.example', business: false },
    { email: 'cpo@\u202eelpmaxe.acme', business: false },
    { email: 'cpo\u0000@acme.example', business: false },
  ])('reads $email as business: $business', ({ email, business }) => {
    const { score } = evaluate([identify({ email })], T0);
    const rules = score.fitContributions.map((entry) => entry.ruleId);

    expect(rules.includes('email-business')).toBe(business);
  });

  it.each([
    { title: 'AP Director', ruleId: 'title-ap-or-controller' },
    { title: 'Director of AP', ruleId: 'title-ap-or-controller' },
    { title: 'Accounts Payable Manager', ruleId: 'title-ap-or-controller' },
    { title: 'Financial Controller', ruleId: 'title-ap-or-controller' },
    {
      title: 'Purchasing Director',
      ruleId: 'title-director-strategic-sourcing',
    },
    { title: 'Category Director', ruleId: 'title-director-strategic-sourcing' },
    {
      title: 'Procurement Director',
      ruleId: 'title-director-strategic-sourcing',
    },
  ])('scores the title $title as $ruleId', ({ title, ruleId }) => {
    const { score } = evaluate([identify({ title })], T0);
    const titles = score.fitContributions
      .map((entry) => entry.ruleId)
      .filter((id) => id.startsWith('title-'));

    expect(titles).toEqual([ruleId]);
  });

  it('keeps the maximum fit below the recycle level', () => {
    expect(maximumFit(model)).toBeLessThan(model.qualification.recycleBelow);
  });

  it('scores personal mailboxes as accounts treat them', () => {
    const policy = model.accounts as AccountPolicy;
    const domains = [...policy.personalEmailDomains];
    const mismatches = domains.filter((domain) => {
      const { state } = evaluate([identify({ email: `ann@${domain}` })]);
      return state.lastScore?.fit !== -10;
    });

    expect(mismatches).toEqual([]);
  });

  it.each([
    'hotmail.de',
    'outlook.de',
    'outlook.fr',
    'live.co.uk',
    'yahoo.es',
    'gmx.at',
    'laposte.net',
    'bluewin.ch',
  ])('forms no account from %s', (domain) => {
    const events = [identify({ email: `ann@${domain}`, title: 'CPO' })];
    const { state } = evaluate(events);

    expect(state.lastScore?.fit).toBe(20);
    expect(accountOf(state, model.accounts as AccountPolicy)).toBeUndefined();
  });

  it.each([
    'Chief  Procurement Officer',
    'Chief\u00a0Procurement Officer',
    'Chief\tProcurement\nOfficer',
    ' Chief \u2003 Procurement Officer ',
  ])('reads white space in %j as one space', (title) => {
    const { state, score } = evaluate([identify({ title })]);
    const fitRules = score.fitContributions.map((c) => c.ruleId);

    expect(fitRules).toEqual(['title-chief-procurement-officer']);
    expect(roleOf(state, model.accounts as AccountPolicy)).toBe(
      'procurement-leadership',
    );
  });

  it('reads white space in a listed value as one space', () => {
    const { score } = evaluate([
      identify({ 'company.industry': 'Food  &\u00a0Beverage' }),
    ]);
    const fitRules = score.fitContributions.map((c) => c.ruleId);

    expect(fitRules).toEqual(['industry-direct-spend-heavy']);
  });

  it('shows its version in the README examples', () => {
    const readme = readFileSync(
      new URL('../../README.md', import.meta.url),
      'utf8',
    );
    const versions = [...readme.matchAll(/"modelVersion": "(\w+)"/g)].map(
      (match) => match[1],
    );

    expect(versions.length).toBeGreaterThan(0);
    expect(new Set(versions)).toEqual(new Set([model.version]));
  });

  it('is documented rule by rule in the README', () => {
    const readme = readFileSync(
      new URL('../../README.md', import.meta.url),
      'utf8',
    );
    const ids = [
      ...model.fitRules.map((rule) => rule.id),
      ...model.intentRules.map((rule) => rule.id),
    ];

    expect(ids.filter((id) => !readme.includes(`\`${id}\``))).toEqual([]);
  });
});
