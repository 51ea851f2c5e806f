import { describe, expect, it } from 'vitest';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import type { AccountQualifiedDetail } from '../../functions/domain/outgoing-events.js';
import { checkAccounts } from '../../functions/use-cases/check-accounts.js';
import type { ScoringDependencies } from '../../functions/use-cases/dependencies.js';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { getAccount } from '../../functions/use-cases/get-account.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { publishEvents } from '../../functions/use-cases/publish-events.js';
import { updateLead } from '../../functions/use-cases/update-lead.js';
import { trackingEvent } from '../fixtures/events.js';
import { engagedMember } from '../fixtures/messages.js';
import { accountModel } from '../fixtures/models.js';
import { accountSetup } from '../support/account-setup.js';
import { realDependencies } from '../support/dependencies.js';

/** Returns the messages of an engaged committee member at `company`. */
function companyMember(userId: string, title: string, company: string) {
  return engagedMember(userId, title, {
    company: { name: company, employee_count: 5000 },
  });
}

function blogRead(userId: string) {
  return {
    type: 'page',
    messageId: `${userId}-blog`,
    userId,
    properties: { path: '/blog/post' },
  };
}

async function setup() {
  const context = await accountSetup();
  const qualifiedAccounts = () =>
    context.published
      .filter((e) => e.detailType === 'Account Qualified')
      .map((e) => (e.detail as AccountQualifiedDetail).accountId);
  const memberIds = async (accountId: string) => {
    const account = await context.deps.repository.getAccount(accountId);
    return account.members.map((member) => member.leadId).sort();
  };
  return { ...context, qualifiedAccounts, memberIds };
}

/** Events of a lead known by company, at `now`. */
function leadEvents(
  userId: string,
  now: number,
  traits: Record<string, string | number>,
  activity: Array<keyof typeof ACTIVITY>,
): TrackingEvent[] {
  const events = [
    trackingEvent({ userId, type: 'identify', occurredAt: now, traits }),
  ];
  for (const kind of activity) {
    events.push(trackingEvent({ userId, occurredAt: now, ...ACTIVITY[kind] }));
  }
  return events;
}

/** Activity of the account test model: 25, 40 and 2 intent points. */
const ACTIVITY = {
  pricing: { type: 'page', path: '/pricing' },
  demo: { type: 'track', name: 'Demo Requested' },
  blog: { type: 'page', path: '/blog/post' },
} as const;

/** Events of an engaged lead of a large company known by its name. */
function engagedEvents(
  now: number,
  lead: { userId: string; title: string; company: string },
): TrackingEvent[] {
  const traits = {
    title: lead.title,
    'company.name': lead.company,
    'company.employee_count': 5000,
  };
  return leadEvents(lead.userId, now, traits, ['pricing', 'demo']);
}

/**
 * Stores a lead as a version that kept company names as typed did: its
 * membership and member item under `typedAccountId`, and that account
 * evaluated with it and its events published.
 */
async function storeAsTyped(
  deps: ScoringDependencies,
  now: number,
  events: TrackingEvent[],
  typedAccountId: string,
): Promise<void> {
  const userId = events[0]?.userId ?? '';
  // Stores the lead without checking its account, then moves its member
  // item to the id as typed.
  await updateLead(deps, 'default', userId, events, now);

  const state = await deps.repository.getLead(userId);
  const membership = state?.membership;
  if (state === undefined || membership === undefined) {
    throw new Error(`Lead ${userId} was stored without an account.`);
  }

  const account = await deps.repository.getAccount(membership.accountId);
  const member = account.members.find((m) => m.leadId === userId);
  if (member === undefined) {
    throw new Error(`Lead ${userId} has no member item.`);
  }

  await deps.repository.saveLeadChange({
    sourceId: 'default',
    expectedVersion: state.version,
    state: {
      ...state,
      version: state.version + 1,
      membership: { ...membership, accountId: typedAccountId },
    },
    events: [],
    outgoing: [],
    membership: {
      put: { ...member, accountId: typedAccountId },
      remove: { accountId: membership.accountId, leadId: userId },
    },
  });

  await publishEvents(deps, await checkAccounts(deps, [typedAccountId], now));
}

describe('company accounts', () => {
  it('joins three spellings into one MQA', async () => {
    const { deps, ingest, qualifiedAccounts } = await setup();

    await ingest(
      companyMember('ann', 'Chief Procurement Officer', 'Acme Inc.'),
    );
    await ingest(companyMember('carl', 'CFO', 'ACME, Inc'));
    await ingest(companyMember('ivan', 'CIO', 'acme inc'));

    expect(qualifiedAccounts()).toEqual(['company:acme']);
    const view = await getAccount(deps, 'company:Acme, Inc.');
    expect(view.accountId).toBe('company:acme');
    expect(view.status).toBe('mqa');
    expect(view.leadCount).toBe(3);
    expect(view.coverage.covered).toEqual(['procurement', 'finance', 'it']);
  });

  it('keeps AG Barr and Barr apart', async () => {
    const { deps, ingest } = await setup();

    await ingest(companyMember('ann', 'CPO', 'AG Barr plc'));
    await ingest(companyMember('carl', 'CFO', 'Barr'));

    const agBarr = await getAccount(deps, 'company:AG Barr');
    const barr = await getAccount(deps, 'company:Barr');
    expect(agBarr.leads.map((lead) => lead.leadId)).toEqual(['ann']);
    expect(barr.leads.map((lead) => lead.leadId)).toEqual(['carl']);
  });

  it('moves as-typed leads on next write', async () => {
    const { deps, clock, ingest, qualifiedAccounts, memberIds } = await setup();
    const typed = [
      'company:acme inc.',
      'company:acme, inc',
      'company:acme inc',
    ];
    const leads = [
      { userId: 'ann', title: 'CPO', company: 'Acme Inc.' },
      { userId: 'carl', title: 'CFO', company: 'ACME, Inc' },
      { userId: 'ivan', title: 'CIO', company: 'acme inc' },
    ];
    for (const [index, lead] of leads.entries()) {
      const events = engagedEvents(clock.now, lead);
      await storeAsTyped(deps, clock.now, events, typed[index] as string);
    }
    // Each as-typed account has one role, so none of them qualified.
    expect(qualifiedAccounts()).toEqual([]);
    expect(await memberIds('company:acme inc.')).toEqual(['ann']);

    clock.advance(60_000);
    for (const lead of leads) await ingest([blogRead(lead.userId)]);

    for (const accountId of typed) {
      expect(await memberIds(accountId)).toEqual([]);
    }
    expect(await memberIds('company:acme')).toEqual(['ann', 'carl', 'ivan']);
    const ann = await deps.repository.getLead('ann');
    expect(ann?.membership?.accountId).toBe('company:acme');
    expect(qualifiedAccounts()).toEqual(['company:acme']);
    const view = await getAccount(deps, 'company:acme inc.');
    expect(view.accountId).toBe('company:acme');
    expect(view.leadCount).toBe(3);
    expect(view.coverage.covered).toEqual(['procurement', 'finance', 'it']);
  });

  it('moves IP-domain leads on next write', async () => {
    const { deps, clock, ingest, memberIds } = await setup();
    // Versions that formed accounts from any email domain put this lead
    // under domain:10.0.0.1, which is no host name.
    const oldAccountId = 'domain:10.0.0.1';
    const traits = {
      title: 'CPO',
      email: 'ann@10.0.0.1',
      'company.name': 'Acme Inc.',
      'company.employee_count': 5000,
    };
    const events = leadEvents('ann', clock.now, traits, ['pricing', 'demo']);
    await storeAsTyped(deps, clock.now, events, oldAccountId);
    expect(await memberIds(oldAccountId)).toEqual(['ann']);
    clock.advance(60_000);

    await ingest([blogRead('ann')]);

    expect(await memberIds(oldAccountId)).toEqual([]);
    expect(await memberIds('company:acme')).toEqual(['ann']);
    const ann = await deps.repository.getLead('ann');
    expect(ann?.membership?.accountId).toBe('company:acme');
  });

  it('ends as-typed episode as leads move', async () => {
    const { deps, clock, ingest, qualifiedAccounts, memberIds } = await setup();
    const typed = 'company:acme inc.';
    const ann = { userId: 'ann', title: 'CPO', company: 'Acme Inc.' };
    const carl = { userId: 'carl', title: 'CFO', company: 'Acme Inc.' };
    await storeAsTyped(deps, clock.now, engagedEvents(clock.now, ann), typed);
    await storeAsTyped(deps, clock.now, engagedEvents(clock.now, carl), typed);
    expect(qualifiedAccounts()).toEqual([typed]);
    clock.advance(60_000);

    await ingest([blogRead('ann')]);

    const old = await deps.repository.getAccount(typed);
    expect(old.state?.status).toBe('engaged');
    expect(old.members.map((member) => member.leadId)).toEqual(['carl']);
    const moved = await getAccount(deps, 'company:acme');
    expect(moved.status).toBe('engaged');
    expect(moved.coverage.covered).toEqual(['procurement']);
    expect(moved.leads.map((lead) => lead.leadId)).toEqual(['ann']);

    await ingest([blogRead('carl')]);

    expect(await memberIds(typed)).toEqual([]);
    expect(qualifiedAccounts()).toEqual([typed, 'company:acme']);
    const joined = await getAccount(deps, 'company:acme');
    expect(joined.status).toBe('mqa');
    expect(joined.episode).toBe(1);
    expect(joined.coverage.covered).toEqual(['procurement', 'finance']);
  });

  it('checks as-typed account on unengaged move', async () => {
    const qualification = {
      threshold: 75,
      recycleBelow: 70,
      requiredRoles: ['procurement'],
      minimumRoles: 2,
    };
    const context = await realDependencies({
      model: accountModel({ qualification }),
    });
    const { deps, clock } = context;
    const typed = 'company:acme inc.';
    const company = { 'company.name': 'Acme Inc.' };
    // Intent 40 and 25 without fit, and fit 10 with intent 2: 77 points.
    const cpo = leadEvents('ann', clock.now, { ...company, title: 'CPO' }, [
      'demo',
    ]);
    const cfo = leadEvents('carl', clock.now, { ...company, title: 'CFO' }, [
      'pricing',
    ]);
    const owner = leadEvents(
      'olga',
      clock.now,
      { ...company, 'company.employee_count': 5000 },
      ['blog'],
    );
    for (const events of [cpo, cfo, owner]) {
      await storeAsTyped(deps, clock.now, events, typed);
    }
    expect((await deps.repository.getAccount(typed)).state?.status).toBe('mqa');
    clock.advance(60_000);

    await ingestMessages(deps, {
      sourceId: 'default',
      messages: [blogRead('olga')],
      receivedAt: clock.now,
    });

    const olga = await deps.repository.getLead('olga');
    expect(olga?.membership?.engaged).toBe(false);
    expect(olga?.membership?.accountId).toBe('company:acme');
    const old = await deps.repository.getAccount(typed);
    expect(old.members.map((member) => member.leadId).sort()).toEqual([
      'ann',
      'carl',
    ]);
    expect(old.state?.status).toBe('engaged');
  });

  it('erases a lead under its as-typed id', async () => {
    const { deps, clock, memberIds } = await setup();
    const typed = 'company:acme inc.';
    const ann = { userId: 'ann', title: 'CPO', company: 'Acme Inc.' };
    await storeAsTyped(deps, clock.now, engagedEvents(clock.now, ann), typed);

    const erased = await eraseLead(deps, 'ann');

    expect(erased.result.accountsUpdated).toBe(1);
    expect(await memberIds(typed)).toEqual([]);
    expect(await memberIds('company:acme')).toEqual([]);
  });
});
