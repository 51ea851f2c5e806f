import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_RESUME_WINDOW_MS,
  type AccountMember,
  accountOf,
  accountReviewAt,
  accountsToCheck,
  boundedAccountId,
  decayedIntent,
  evaluateAccount,
  membersBehindRule,
  membershipOf,
  newAccount,
  roleOf,
  scoreAccount,
  storedAccountId,
} from '../../functions/domain/account.js';
import { applyEvents, newLead } from '../../functions/domain/lead.js';
import {
  flattenTraits,
  type TrackingEvent,
} from '../../functions/domain/messages.js';
import type { AccountPolicy } from '../../functions/domain/model.js';
import { scoreLead } from '../../functions/domain/score.js';
import { DAY_MS, QUARTER_MS } from '../../functions/domain/time.js';
import { T0, trackingEvent } from '../fixtures/events.js';
import { accountModel } from '../fixtures/models.js';

const model = accountModel();
const policy = model.accounts as AccountPolicy;

function leadWith(
  leadId: string,
  traits: TrackingEvent['traits'],
  groupId?: string,
) {
  const events = [
    trackingEvent({ userId: leadId, type: 'identify', traits }),
    ...(groupId === undefined
      ? []
      : [trackingEvent({ userId: leadId, type: 'group', groupId })]),
  ];
  return applyEvents(newLead(leadId, model, T0), events, model).state;
}

function member(
  leadId: string,
  role: string | undefined,
  intent: number,
): AccountMember {
  return {
    accountId: 'domain:acme.example',
    leadId,
    role,
    fit: 10,
    intent,
    intentAt: T0,
    status: 'engaged',
  };
}

describe('storedAccountId', () => {
  it.each([
    { groupId: ' G1 ', requested: 'group: G1 ' },
    { groupId: 'G1', requested: ' group:G1' },
    { groupId: 'acct-42', requested: 'group:acct-42' },
  ])('finds the group $groupId as $requested', ({ groupId, requested }) => {
    const lead = leadWith('ann@acme.example', {}, groupId);
    const stored = accountOf(lead, policy)?.accountId;

    expect(storedAccountId(requested)).toBe(stored);
  });

  it.each([
    { company: ' Initech  Corp ', requested: ' company:initech corp ' },
    { company: 'Initech', requested: 'company: INITECH' },
    { company: 'ACME, Inc', requested: 'company:Acme Inc.' },
    { company: 'Acme Inc.', requested: 'company:acme' },
    { company: 'AG Barr plc', requested: 'company:ag barr' },
  ])('finds the company $company as $requested', ({ company, requested }) => {
    const lead = leadWith('bob', { company });
    const stored = accountOf(lead, policy)?.accountId;

    expect(storedAccountId(requested)).toBe(stored);
  });

  it('finds a shortened company id as it is', () => {
    const lead = leadWith('bob', { company: `${'Acme '.repeat(150)}Inc.` });
    const stored = accountOf(lead, policy)?.accountId ?? '';

    expect(stored).toMatch(/~[0-9a-f]{16}$/);
    expect(storedAccountId(stored)).toBe(stored);
    expect(storedAccountId(` ${stored} `)).toBe(stored);
  });
});

describe('accountOf', () => {
  it('rolls up by the group call groupId first', () => {
    const lead = leadWith(
      'ann@acme.example',
      { company: 'Acme Corp' },
      'acct-42',
    );
    expect(accountOf(lead, policy)).toEqual({
      accountId: 'group:acct-42',
      source: 'group',
      linkedAccountId: 'domain:acme.example',
    });
  });

  it('links no domain for a group lead with a personal email', () => {
    const lead = leadWith('ann@gmail.com', {}, 'acct-42');
    expect(accountOf(lead, policy)).toEqual({
      accountId: 'group:acct-42',
      source: 'group',
    });
  });

  it('rolls up by the company trait without a business email', () => {
    const lead = leadWith('ann@gmail.com', { company: '  Acme  Corp ' });
    expect(accountOf(lead, policy)).toEqual({
      accountId: 'company:acme',
      source: 'company',
    });
  });

  it('rolls up three spellings of a company into one account', () => {
    const spellings = ['Acme Inc.', 'ACME, Inc', 'acme inc'];
    const accounts = spellings.map(
      (company, index) =>
        accountOf(leadWith(`lead-${index}`, { company }), policy)?.accountId,
    );
    expect(accounts).toEqual(['company:acme', 'company:acme', 'company:acme']);
  });

  it.each([
    { traits: { company: 12345 }, accountId: 'company:12345' },
    { traits: flattenTraits({ company: { name: 5 } }), accountId: 'company:5' },
    { traits: { company: 0 }, accountId: 'company:0' },
    { traits: { company: 1e21 }, accountId: 'company:1000000000000000000000' },
  ])('rolls up the numeric company $traits', ({ traits, accountId }) => {
    const lead = leadWith('ann@gmail.com', traits);
    expect(accountOf(lead, policy)).toEqual({ accountId, source: 'company' });
  });

  it('forms no account from a company name without letters', () => {
    const lead = leadWith('ann@gmail.com', { company: ' — ' });
    expect(accountOf(lead, policy)).toBeUndefined();
  });

  it('prefers the business email domain to the company trait', () => {
    const lead = leadWith('ann@acme.example', { company: 'ACME Corp.' });
    expect(accountOf(lead, policy)).toEqual({
      accountId: 'domain:acme.example',
      source: 'email-domain',
    });
  });

  it('rolls up by the business email domain', () => {
    const lead = leadWith('lead-7', { email: 'Ann@Acme.Example' });
    expect(accountOf(lead, policy)).toEqual({
      accountId: 'domain:acme.example',
      source: 'email-domain',
    });
  });

  it('reads the domain of an email-shaped lead id', () => {
    const lead = leadWith('bob@acme.example', {});
    expect(accountOf(lead, policy)?.accountId).toBe('domain:acme.example');
  });

  it('falls back to the company when the email domain is malformed', () => {
    const lead = leadWith('lead-9', {
      email: 'ann@\u202eelpmaxe.acme',
      company: 'Acme Corp',
    });
    expect(accountOf(lead, policy)).toEqual({
      accountId: 'company:acme',
      source: 'company',
    });
  });

  it.each([
    'ann@[10.0.0.1]',
    'ann@10.0.0.1',
    'ann@-.example',
    'ann@acme-.example',
    'ann@xn--zz.example',
    'ann@acme_corp.example',
    // node:url would decode the escape to acme.example.
    'ann@%61cme.example',
  ])('forms no domain account from %s', (email) => {
    const lead = leadWith('lead-7', { email, company: 'Acme Corp' });
    expect(accountOf(lead, policy)).toEqual({
      accountId: 'company:acme',
      source: 'company',
    });
  });

  it.each([
    ['ann@Bücher.example', 'domain:xn--bcher-kva.example'],
    ['ann@xn--bcher-kva.example', 'domain:xn--bcher-kva.example'],
    ['ann@mail.acme-corp.example.', 'domain:mail.acme-corp.example'],
    ['ann@9to5.example', 'domain:9to5.example'],
  ])('rolls %s up by its host name', (email, accountId) => {
    const lead = leadWith('lead-6', { email });
    expect(accountOf(lead, policy)?.accountId).toBe(accountId);
  });

  it.each(['ann@gmail.com', 'ann@mail.yahoo.co.uk', 'ann@web.de'])(
    'forms no account from the personal address %s',
    (email) => {
      const lead = leadWith('lead-8', { email });
      expect(accountOf(lead, policy)).toBeUndefined();
    },
  );
});

describe('roleOf', () => {
  it.each([
    ['Chief Procurement Officer', 'procurement'],
    ['CFO', 'finance'],
    ['VP Finance', 'finance'],
    ['CIO', 'it'],
    ['Marketing Manager', undefined],
  ])('gives %s the role %s', (title, role) => {
    expect(roleOf(leadWith('x', { title }), policy)).toBe(role);
  });
});

describe('evaluateAccount', () => {
  const start = newAccount('domain:acme.example', model, T0);

  it('qualifies a committee with the required role and enough roles', () => {
    const members = [
      member('cpo', 'procurement', 40),
      member('cfo', 'finance', 40),
    ];

    const result = evaluateAccount(start, members, model, T0);

    expect(result.transition?.kind).toBe('qualified');
    expect(result.state.status).toBe('mqa');
    expect(result.state.episode).toBe(1);
    expect(result.score.score).toBe(90);
    expect(result.score.covered).toEqual(['procurement', 'finance']);
    expect(result.score.missing).toEqual(['it']);
  });

  it('leaves a committee without procurement unqualified', () => {
    const members = [member('cfo', 'finance', 60), member('cio', 'it', 60)];

    const result = evaluateAccount(start, members, model, T0);

    expect(result.transition).toBeUndefined();
    expect(result.state.status).toBe('engaged');
    expect(result.score.score).toBe(130);
    expect(result.score.missingRequired).toEqual(['procurement']);
  });

  it('counts only the most engaged leads toward engagement', () => {
    const crowd = Array.from({ length: 30 }, (_, i) =>
      member(`reader-${i}`, undefined, 5),
    );
    const members = [member('cpo', 'procurement', 40), ...crowd];
    const limit = policy.engagementLeads;

    const now = evaluateAccount(start, members, model, T0).score;
    const later = evaluateAccount(start, members, model, T0 + QUARTER_MS);

    expect(limit).toBe(10);
    expect(now.engagement).toBe(40 + 5 * (limit - 1));
    expect(now.leads).toBe(31);
    // The counted sum decays as one mass, as the review time assumes.
    expect(later.score.engagement).toBeCloseTo(
      now.engagement * model.retentionPerQuarter,
      2,
    );
  });

  it('leaves a single engaged role unqualified', () => {
    const members = [member('cpo', 'procurement', 100)];

    const result = evaluateAccount(start, members, model, T0);

    expect(result.transition).toBeUndefined();
    expect(result.score.covered).toEqual(['procurement']);
  });

  it('does not count leads below the engaged level as coverage', () => {
    const members = [
      member('cpo', 'procurement', 70),
      member('cfo', 'finance', 19),
    ];

    const result = evaluateAccount(start, members, model, T0);

    expect(result.score.covered).toEqual(['procurement']);
    expect(result.transition).toBeUndefined();
  });

  it('covers a role at the engaged level in cents', () => {
    const members = [
      member('cpo', 'procurement', 70),
      member('cfo', 'finance', policy.engagedIntent),
    ];

    const result = evaluateAccount(start, members, model, T0 + 60_000);

    expect(result.score.covered).toEqual(['procurement', 'finance']);
    expect(result.score.engagedLeads).toBe(2);
    expect(result.transition?.kind).toBe('qualified');
  });

  it('ends the episode once decay drops the score below the level', () => {
    const members = [
      member('cpo', 'procurement', 40),
      member('cfo', 'finance', 40),
    ];
    const qualified = evaluateAccount(start, members, model, T0).state;

    const later = evaluateAccount(qualified, members, model, T0 + 365 * DAY_MS);
    const again = evaluateAccount(qualified, members, model, T0 + DAY_MS);

    expect(later.transition?.kind).toBe('recycled');
    expect(later.state.status).toBe('engaged');
    expect(again.transition).toBeUndefined();
  });

  describe('after an episode ends', () => {
    const qualifying = [
      member('cpo', 'procurement', 40),
      member('cfo', 'finance', 40),
    ];
    const qualified = evaluateAccount(start, qualifying, model, T0).state;
    const endedAt = T0 + 1_000;
    const ended = evaluateAccount(
      qualified,
      [member('cfo', 'finance', 40)],
      model,
      endedAt,
    );
    // Above the recycle level (50) and below the threshold (80).
    const holding = [
      member('cpo', 'procurement', 25),
      member('cfo', 'finance', 30),
    ];

    it('ends when the required role has no engaged lead', () => {
      expect(ended.transition?.kind).toBe('recycled');
      expect(ended.state.status).toBe('engaged');
    });

    it('resumes the episode within the window', () => {
      const at = endedAt + ACCOUNT_RESUME_WINDOW_MS - 1;

      const result = evaluateAccount(ended.state, holding, model, at);

      expect(result.transition?.kind).toBe('resumed');
      expect(result.state.status).toBe('mqa');
      expect(result.state.episode).toBe(1);
      expect(result.state.qualifiedAt).toBe(T0);
      expect(result.state.statusChangedAt).toBe(at);
      expect(result.state.nextReviewAt).toBeGreaterThan(at);
    });

    it('stays ended after the window below the threshold', () => {
      const at = endedAt + ACCOUNT_RESUME_WINDOW_MS;

      const result = evaluateAccount(ended.state, holding, model, at);

      expect(result.transition).toBeUndefined();
      expect(result.state.status).toBe('engaged');
    });

    it('starts a new episode after the window', () => {
      const at = endedAt + ACCOUNT_RESUME_WINDOW_MS;

      const result = evaluateAccount(ended.state, qualifying, model, at);

      expect(result.transition?.kind).toBe('qualified');
      expect(result.state.episode).toBe(2);
      expect(result.state.qualifiedAt).toBe(at);
    });

    it('stays ended within the window without the required role', () => {
      const members = [member('cfo', 'finance', 60), member('cio', 'it', 60)];

      const result = evaluateAccount(ended.state, members, model, endedAt + 1);

      expect(result.transition).toBeUndefined();
      expect(result.state.status).toBe('engaged');
    });
  });

  it('never resumes an account that was not qualified', () => {
    const holding = [
      member('cpo', 'procurement', 25),
      member('cfo', 'finance', 30),
    ];

    const result = evaluateAccount(start, holding, model, T0 + 1);

    expect(result.transition).toBeUndefined();
    expect(result.state.episode).toBe(0);
  });
});

describe('accountReviewAt', () => {
  const levelModel = accountModel({
    qualification: {
      threshold: 80,
      recycleBelow: 70,
      requiredRoles: ['procurement'],
      minimumRoles: 2,
    },
  });
  const members = [
    member('cpo', 'procurement', 60),
    member('cfo', 'finance', 60),
  ];
  const start = newAccount('domain:acme.example', levelModel, T0);

  it('is the first millisecond the shown score is below', () => {
    const qualified = evaluateAccount(start, members, levelModel, T0);
    const reviewAt = qualified.state.nextReviewAt ?? 0;

    const before = evaluateAccount(
      qualified.state,
      members,
      levelModel,
      reviewAt - 1,
    );
    const at = evaluateAccount(qualified.state, members, levelModel, reviewAt);

    expect(qualified.transition?.kind).toBe('qualified');
    expect(before.transition).toBeUndefined();
    expect(before.score.score).toBe(70);
    expect(at.transition?.kind).toBe('recycled');
    expect(at.score.score).toBe(69.99);
  });

  it('ends coverage when the shown intent is below the level', () => {
    // The CFO at exactly the engaged level keeps the second role until
    // the intent shows 19.99, long before the score falls below 70.
    const committee = [
      member('cpo', 'procurement', 60),
      member('cfo', 'finance', policy.engagedIntent),
    ];
    const qualified = evaluateAccount(start, committee, levelModel, T0);

    const reviewAt = accountReviewAt(
      committee,
      levelModel,
      qualified.score,
      T0,
    );
    const lapse = reviewAt ?? 0;
    const before = scoreAccount(committee, levelModel, lapse - 1);
    const at = scoreAccount(committee, levelModel, lapse);

    expect(qualified.transition?.kind).toBe('qualified');
    expect(lapse).toBeGreaterThan(T0 + 60 * 60_000);
    expect(lapse).toBeLessThan(T0 + DAY_MS);
    expect(before.covered).toEqual(['procurement', 'finance']);
    expect(at.covered).toEqual(['procurement']);
  });

  it('stays ahead once fewer roles than the minimum are covered', () => {
    const committee = [
      member('cpo', 'procurement', 60),
      member('cfo', 'finance', policy.engagedIntent),
    ];
    const qualified = evaluateAccount(start, committee, levelModel, T0);
    const lapse = accountReviewAt(
      committee,
      levelModel,
      qualified.score,
      T0,
    ) as number;

    const atLapse = evaluateAccount(
      qualified.state,
      committee,
      levelModel,
      lapse,
    );
    const next = accountReviewAt(committee, levelModel, atLapse.score, lapse);

    expect(atLapse.transition).toBeUndefined();
    expect(atLapse.state.status).toBe('mqa');
    expect(atLapse.score.covered).toEqual(['procurement']);
    expect(next).toBeGreaterThan(lapse + DAY_MS);
  });

  it('matches the review time computed after the qualification', () => {
    const qualified = evaluateAccount(start, members, levelModel, T0);

    const reviewAt = accountReviewAt(members, levelModel, qualified.score, T0);

    expect(reviewAt).toBe(qualified.state.nextReviewAt);
  });
});

describe('member intent decay', () => {
  /** Returns a CPO of acme.example after `events`. */
  function cpoAfter(events: TrackingEvent[]) {
    const identify = trackingEvent({
      userId: 'cpo',
      type: 'identify',
      traits: { title: 'CPO', email: 'cpo@acme.example' },
    });
    const lead = newLead('cpo', model, T0);
    return applyEvents(lead, [identify, ...events], model).state;
  }

  function snapshotOf(state: ReturnType<typeof cpoAfter>) {
    const score = scoreLead(state, model, T0);
    const snapshot = membershipOf(state, score, model, T0);
    if (snapshot === undefined) throw new Error('The lead has no account.');
    return snapshot.member;
  }

  const demo = trackingEvent({ userId: 'cpo', name: 'Demo Requested' });
  const pricing = trackingEvent({
    userId: 'cpo',
    type: 'page',
    path: '/pricing',
  });
  const unsubscribed = trackingEvent({ userId: 'cpo', name: 'Unsubscribed' });
  const whitepaper = trackingEvent({
    userId: 'cpo',
    name: 'Content Downloaded',
    properties: { asset: 'Sourcing guide' },
  });

  it.each([{ days: 30 }, { days: 120 }, { days: 300 }])(
    'keeps a penalty whole after $days days',
    ({ days }) => {
      const state = cpoAfter([demo, pricing, unsubscribed]);
      const snapshot = snapshotOf(state);
      const later = T0 + days * DAY_MS;

      const leadIntent = Math.max(0, scoreLead(state, model, later).intent);

      expect(snapshot.intent).toBe(35);
      expect(decayedIntent(snapshot, model, later)).toBeCloseTo(leadIntent, 6);
    },
  );

  it('decays each retention at its own rate', () => {
    const state = cpoAfter([demo, whitepaper]);
    const snapshot = snapshotOf(state);
    const later = T0 + 2 * QUARTER_MS;

    const leadIntent = scoreLead(state, model, later).intent;

    expect(snapshot.intentTerms).toHaveLength(2);
    expect(decayedIntent(snapshot, model, later)).toBeCloseTo(leadIntent, 6);
  });

  it('ends coverage when a penalized lead falls below', () => {
    const state = cpoAfter([demo, pricing, unsubscribed]);
    const cpo = snapshotOf(state);
    const cfo = { ...member('cfo', 'finance', 60), fit: 0 };
    const committee = [cpo, cfo];
    const leadLapse = lapseOfLead(state);

    const score = scoreAccount(committee, model, T0);
    const reviewAt = accountReviewAt(committee, model, score, T0);
    const after = scoreAccount(committee, model, leadLapse);

    expect(score.covered).toEqual(['procurement', 'finance']);
    expect(after.covered).toEqual(['finance']);
    expect(reviewAt).toBeLessThanOrEqual(leadLapse);
  });

  /** Returns the first day at which the lead's own intent is below 20. */
  function lapseOfLead(state: ReturnType<typeof cpoAfter>): number {
    for (let day = 0; day < 3650; day += 1) {
      const at = T0 + day * DAY_MS;
      if (scoreLead(state, model, at).intent < policy.engagedIntent) {
        return at;
      }
    }
    throw new Error('The lead stays engaged.');
  }

  it('reads a snapshot without terms as one decaying mass', () => {
    const snapshot = member('cpo', 'procurement', 40);
    const later = T0 + QUARTER_MS;

    expect(decayedIntent(snapshot, model, later)).toBeCloseTo(30, 9);
  });
});

describe('accountsToCheck', () => {
  const base = {
    accountId: 'domain:a.example',
    role: 'finance',
    fit: 0,
    intentStep: 0,
    engaged: false,
    status: 'engaged' as const,
  };

  it('checks the account when a lead below engagement steps', () => {
    const stepped = { ...base, intentStep: 1 };

    expect(accountsToCheck(base, stepped)).toEqual(['domain:a.example']);
    expect(accountsToCheck(stepped, base)).toEqual(['domain:a.example']);
    expect(accountsToCheck(undefined, stepped)).toEqual(['domain:a.example']);
  });

  it('skips a role change of a lead below engagement', () => {
    expect(accountsToCheck(base, { ...base, role: 'it' })).toEqual([]);
  });

  it('checks the account when a lead becomes engaged', () => {
    const engaged = { ...base, intentStep: 2, engaged: true };
    expect(accountsToCheck(base, engaged)).toEqual(['domain:a.example']);
  });

  it('checks both accounts when an engaged lead moves', () => {
    const before = { ...base, engaged: true };
    const after = { ...before, accountId: 'group:g1' };
    expect(accountsToCheck(before, after)).toEqual([
      'domain:a.example',
      'group:g1',
    ]);
  });

  it('checks both accounts when a lead below engagement moves', () => {
    const before = { ...base, accountId: 'company:acme inc' };
    const after = { ...base, accountId: 'company:acme' };
    expect(accountsToCheck(before, after)).toEqual([
      'company:acme inc',
      'company:acme',
    ]);
  });

  it('skips a lead below engagement joining its first account', () => {
    expect(accountsToCheck(undefined, base)).toEqual([]);
  });

  it('checks the account when a lead below engagement changes fit', () => {
    const fitting = { ...base, fit: 10 };

    expect(accountsToCheck(undefined, fitting)).toEqual(['domain:a.example']);
    expect(accountsToCheck(base, fitting)).toEqual(['domain:a.example']);
    expect(accountsToCheck(fitting, base)).toEqual(['domain:a.example']);
  });

  it('skips a fit change that stays at or below zero', () => {
    const small = { ...base, fit: -10 };

    expect(accountsToCheck(undefined, small)).toEqual([]);
    expect(accountsToCheck(small, base)).toEqual([]);
  });

  it('checks both accounts when a lead links a domain', () => {
    const grouped = { ...base, accountId: 'group:g1' };
    const linked = { ...grouped, linkedAccountId: 'domain:a.example' };
    expect(accountsToCheck(grouped, linked)).toEqual([
      'group:g1',
      'domain:a.example',
    ]);
  });

  it('checks the linked domain on each link write', () => {
    const grouped = { ...base, accountId: 'group:g1' };
    const linked = { ...grouped, linkedAccountId: 'domain:a.example' };
    const stepped = { ...linked, intentStep: 1 };
    expect(accountsToCheck(linked, stepped)).toEqual([
      'group:g1',
      'domain:a.example',
    ]);
    expect(accountsToCheck(linked, linked)).toEqual([]);
  });

  it('checks the domain account whose link a lead drops', () => {
    const grouped = { ...base, accountId: 'group:g1' };
    const linked = { ...grouped, linkedAccountId: 'domain:a.example' };
    const relinked = { ...grouped, linkedAccountId: 'domain:b.example' };
    expect(accountsToCheck(linked, grouped)).toEqual([
      'group:g1',
      'domain:a.example',
    ]);
    expect(accountsToCheck(linked, relinked)).toEqual([
      'group:g1',
      'domain:a.example',
      'domain:b.example',
    ]);
  });
});

describe('boundedAccountId', () => {
  const bytesOf = (text: string) => Buffer.byteLength(text, 'utf8');

  it('keeps an id within 512 bytes unchanged', () => {
    expect(boundedAccountId('company', 'acme corp')).toBe('company:acme corp');
  });

  it('shortens a long company name to 512 bytes', () => {
    const lead = leadWith('ann@gmail.com', { company: 'a'.repeat(600) });
    const accountId = accountOf(lead, policy)?.accountId ?? '';
    expect(bytesOf(accountId)).toBe(512);
    expect(accountId).toMatch(/^company:a+~[0-9a-f]{16}$/);
  });

  it('gives the same id for the same long name', () => {
    const name = 'b'.repeat(700);
    expect(boundedAccountId('group', name)).toBe(
      boundedAccountId('group', name),
    );
  });

  it('tells apart long names that share their start', () => {
    const start = 'c'.repeat(600);
    expect(boundedAccountId('domain', `${start}x`)).not.toBe(
      boundedAccountId('domain', `${start}y`),
    );
  });

  it('cuts a multibyte name at a character boundary', () => {
    const accountId = boundedAccountId('company', '€'.repeat(300));
    expect(bytesOf(accountId)).toBeLessThanOrEqual(512);
    expect(accountId).not.toContain('\uFFFD');
    expect(accountId).toMatch(/^company:€+~[0-9a-f]{16}$/);
  });

  it('shortens a long groupId', () => {
    const lead = leadWith('ann@acme.example', {}, 'g'.repeat(2000));
    const accountId = accountOf(lead, policy)?.accountId ?? '';
    expect(bytesOf(accountId)).toBeLessThanOrEqual(512);
    expect(accountId.startsWith('group:ggg')).toBe(true);
  });
});

describe('membersBehindRule', () => {
  it('keeps the fittest, the most engaged and a lead per role', () => {
    const readers = Array.from({ length: 12 }, (_, index) =>
      member(`reader-${index}`, undefined, 30 + index),
    );
    const fittest = { ...member('owner', undefined, 1), fit: 40 };
    const cpo = member('cpo', 'procurement', 25);
    const secondCpo = member('cpo-2', 'procurement', 21);
    const cfo = member('cfo', 'finance', 22);
    const idle = member('cio', 'it', 5);

    const behind = membersBehindRule(
      [...readers, fittest, cpo, secondCpo, cfo, idle],
      model,
      T0,
    ).map((m) => m.leadId);

    expect(behind).toContain('owner');
    expect(behind).toContain('cpo');
    expect(behind).toContain('cfo');
    expect(behind).not.toContain('cpo-2');
    expect(behind).not.toContain('cio');
    expect(behind).toContain('reader-11');
    expect(behind).toContain('reader-2');
    expect(behind).not.toContain('reader-1');
    expect(behind).toHaveLength(13);
  });
});
