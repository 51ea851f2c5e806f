import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../functions/domain/canonical-json.js';
import { ConcurrencyError } from '../../functions/domain/errors.js';
import type { AccountQualifiedDetail } from '../../functions/domain/outgoing-events.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { VersionConflictError } from '../../functions/ports/lead-repository.js';
import { getAccount } from '../../functions/use-cases/get-account.js';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { engagedMember } from '../fixtures/messages.js';
import { accountSetup } from '../support/account-setup.js';

function blogRead(userId: string, n: number) {
  return {
    type: 'page',
    messageId: `${userId}-blog-${n}`,
    userId,
    properties: { path: '/blog/post' },
  };
}

async function setup() {
  const context = await accountSetup();
  const accountEvents = () =>
    context.published.filter((e) => e.detailType === 'Account Qualified');
  return { ...context, accountEvents };
}

describe('accounts', () => {
  it('qualifies an account with a qualifying committee once', async () => {
    const { deps, ingest, accountEvents } = await setup();

    await ingest(
      engagedMember('ann@acme.example', 'Chief Procurement Officer'),
    );
    await ingest(engagedMember('carl@acme.example', 'CFO'));
    await ingest([blogRead('ann@acme.example', 1)]);
    await ingest(engagedMember('dora@acme.example', 'VP Finance'));

    const events = accountEvents();
    expect(events).toHaveLength(1);
    const detail = events[0]?.detail as AccountQualifiedDetail;
    expect(detail.accountId).toBe('domain:acme.example');
    expect(detail.episode).toBe(1);
    expect(detail.rolesCovered).toEqual(['procurement', 'finance']);
    expect(detail.rolesMissing).toEqual(['it']);
    expect(JSON.stringify(detail)).not.toContain('@');
    const view = await getAccount(deps, 'domain:acme.example');
    expect(view.status).toBe('mqa');
    expect(view.leadCount).toBe(3);
    expect(view.fit).toBe(10);
    expect(view.coverage.covered).toEqual(['procurement', 'finance']);
    expect(view.leads.map((lead) => lead.leadId).sort()).toEqual([
      'ann@acme.example',
      'carl@acme.example',
      'dora@acme.example',
    ]);
  });

  it('logs a domain account id as its hash', async () => {
    const { log, ingest } = await setup();

    await ingest(
      engagedMember('ann@acme.example', 'Chief Procurement Officer'),
    );
    await ingest(engagedMember('carl@acme.example', 'CFO'));

    const changed = log.entries.filter(
      (entry) => entry.message === 'account status changed',
    );
    expect(changed).toHaveLength(1);
    expect(changed[0]?.fields?.accountId).toBe(
      `domain sha256:${sha256Hex('domain:acme.example')}`,
    );
    expect(JSON.stringify(changed)).not.toContain('acme.example');
  });

  it('checks the account again on a retried request', async () => {
    const { deps, ingest, accountEvents } = await setup();
    await ingest(
      engagedMember('ann@acme.example', 'Chief Procurement Officer'),
    );
    const original = deps.repository.saveAccountChange.bind(deps.repository);
    // Every account write loses to a concurrent writer, so the request
    // fails after its lead was stored.
    deps.repository.saveAccountChange = async (change) => {
      throw new VersionConflictError(change.state.accountId);
    };
    const carl = engagedMember('carl@acme.example', 'CFO');
    await expect(ingest(carl)).rejects.toThrow(ConcurrencyError);
    deps.repository.saveAccountChange = original;

    const retried = await ingest(carl);

    expect(retried.counts.duplicate).toBe(carl.length);
    expect(accountEvents()).toHaveLength(1);
    const view = await getAccount(deps, 'domain:acme.example');
    expect(view.status).toBe('mqa');
  });

  it('publishes lead events before a failing account check', async () => {
    const { deps, ingest, published } = await setup();
    deps.repository.getAccount = async () => {
      throw new Error('account read failed');
    };

    const request = ingest(engagedMember('eve@acme.example', 'CFO'));

    await expect(request).rejects.toThrow('account read failed');
    const qualified = published.filter(
      (event) => event.detailType === 'Lead Qualified',
    );
    expect(qualified).toHaveLength(1);
    expect(await deps.repository.listOutbox('eve@acme.example')).toEqual([]);
  });

  it('leaves a committee without procurement unqualified', async () => {
    const { deps, ingest, accountEvents } = await setup();

    await ingest(engagedMember('carl@beta.example', 'CFO'));
    await ingest(engagedMember('ivan@beta.example', 'CIO'));

    expect(accountEvents()).toHaveLength(0);
    const view = await getAccount(deps, 'domain:beta.example');
    expect(view.status).toBe('engaged');
    expect(view.meetsRule).toBe(false);
    expect(view.score).toBeGreaterThanOrEqual(80);
    expect(view.coverage.missingRequired).toEqual(['procurement']);
  });

  it('rolls up leads by group call and company trait', async () => {
    const { deps, ingest } = await setup();

    await ingest([
      { type: 'group', messageId: 'g-1', userId: 'u-1', groupId: 'acct-9' },
      {
        type: 'identify',
        messageId: 'i-2',
        userId: 'u-2',
        traits: { company: 'Gamma Ltd' },
      },
      {
        type: 'identify',
        messageId: 'i-3',
        userId: 'u-3',
        traits: { email: 'zed@gmail.com' },
      },
    ]);

    const group = await getAccount(deps, 'group:acct-9');
    const company = await getAccount(deps, 'company:gamma');
    const spelled = await getAccount(deps, 'company: Gamma  LTD. ');
    expect(spelled.accountId).toBe('company:gamma');
    expect(group.leads.map((lead) => lead.leadId)).toEqual(['u-1']);
    expect(company.leads.map((lead) => lead.leadId)).toEqual(['u-2']);
    await expect(getAccount(deps, 'domain:gmail.com')).rejects.toThrow(
      'not found',
    );
    const personal = await deps.repository.getLead('u-3');
    expect(personal?.membership).toBeUndefined();
  });

  it('counts email-domain leads in the group account', async () => {
    const { deps, ingest, accountEvents } = await setup();
    const groupCall = {
      type: 'group',
      messageId: 'ann-group',
      userId: 'ann@acme.example',
      groupId: 'acct-7',
    };

    await ingest([
      ...engagedMember('ann@acme.example', 'Chief Procurement Officer'),
      groupCall,
    ]);
    await ingest(engagedMember('carl@acme.example', 'CFO'));
    await ingest(engagedMember('dora@acme.example', 'VP Finance'));

    const events = accountEvents();
    expect(events).toHaveLength(1);
    const detail = events[0]?.detail as AccountQualifiedDetail;
    expect(detail.accountId).toBe('group:acct-7');
    expect(detail.rolesCovered).toEqual(['procurement', 'finance']);
    const view = await getAccount(deps, 'group:acct-7');
    expect(view.status).toBe('mqa');
    expect(view.leads.map((lead) => lead.leadId).sort()).toEqual([
      'ann@acme.example',
      'carl@acme.example',
      'dora@acme.example',
    ]);
    expect(view.requestedAccountId).toBeUndefined();
    const byDomain = await getAccount(deps, 'domain:acme.example');
    const upper = await getAccount(deps, 'domain:ACME.Example.');
    expect(upper.accountId).toBe('group:acct-7');
    expect(upper.requestedAccountId).toBe('domain:acme.example');
    expect(byDomain.accountId).toBe('group:acct-7');
    expect(byDomain.requestedAccountId).toBe('domain:acme.example');
    expect(byDomain.leadCount).toBe(3);
  });

  it('ends the domain episode when a group call links it', async () => {
    const { deps, ingest, accountEvents } = await setup();

    await ingest(
      engagedMember('ann@acme.example', 'Chief Procurement Officer'),
    );
    await ingest(engagedMember('carl@acme.example', 'CFO'));
    await ingest(engagedMember('dora@acme.example', 'VP Finance'));
    expect(accountEvents().map((e) => e.detail.accountId)).toEqual([
      'domain:acme.example',
    ]);

    // The CPO's group call moves her to the group's account, which then
    // counts the domain's remaining leads too.
    await ingest([
      {
        type: 'group',
        messageId: 'ann-group',
        userId: 'ann@acme.example',
        groupId: 'acct-7',
      },
    ]);

    expect(accountEvents().map((e) => e.detail.accountId)).toEqual([
      'domain:acme.example',
      'group:acct-7',
    ]);
    const domain = await deps.repository.getAccount('domain:acme.example');
    expect(domain.state?.status).toBe('engaged');
    expect(domain.linkedTo).toBe('group:acct-7');
    const group = await getAccount(deps, 'group:acct-7');
    expect(group.status).toBe('mqa');
    expect(group.leadCount).toBe(3);
  });

  it('ends the episode an identified lead leaves', async () => {
    const { deps, ingest, accountEvents } = await setup();
    const anonymous = (anonymousId: string, title: string) =>
      engagedMember('placeholder', title, { company: 'Hooli' }).map(
        ({ userId: _userId, ...message }) => ({
          ...message,
          messageId: `${anonymousId}-${message.messageId}`,
          anonymousId,
        }),
      );
    await ingest(anonymous('a-cpo', 'Chief Procurement Officer'));
    await ingest(anonymous('a-cfo', 'CFO'));
    expect(accountEvents().map((e) => e.detail.accountId)).toEqual([
      'company:hooli',
    ]);

    // The CPO turns out to be a user with a business email, so her lead
    // moves to the domain's account and the company's loses its only
    // procurement lead.
    await ingest([
      {
        type: 'identify',
        messageId: 'cpo-identified',
        anonymousId: 'a-cpo',
        userId: 'pat@hooli.example',
      },
    ]);

    const company = await getAccount(deps, 'company:hooli');
    expect(company.leads.map((lead) => lead.leadId)).toEqual(['anon:a-cfo']);
    expect(company.coverage.missingRequired).toEqual(['procurement']);
    expect(company.status).toBe('engaged');
    const domain = await getAccount(deps, 'domain:hooli.example');
    expect(domain.leads.map((lead) => lead.leadId)).toEqual([
      'pat@hooli.example',
    ]);
  });

  it('keeps domain leads apart once no group lead links them', async () => {
    const { deps, ingest } = await setup();

    await ingest([
      {
        type: 'identify',
        messageId: 'ann-identify',
        userId: 'ann',
        traits: { email: 'ann@acme.example', title: 'CPO' },
      },
      { type: 'group', messageId: 'ann-group', userId: 'ann', groupId: 'g-7' },
    ]);
    await ingest(engagedMember('carl@acme.example', 'CFO'));
    expect((await getAccount(deps, 'group:g-7')).leadCount).toBe(2);

    // Ann's new address is at another company, so the link ends.
    await ingest([
      {
        type: 'identify',
        messageId: 'ann-moved',
        userId: 'ann',
        traits: { email: 'ann@beta.example' },
      },
    ]);

    const group = await getAccount(deps, 'group:g-7');
    expect(group.leads.map((lead) => lead.leadId)).toEqual(['ann']);
    const domain = await getAccount(deps, 'domain:acme.example');
    expect(domain.accountId).toBe('domain:acme.example');
    expect(domain.leads.map((lead) => lead.leadId)).toEqual([
      'carl@acme.example',
    ]);
  });

  it('lets the sweep end an MQA episode once decay does', async () => {
    const { deps, ingest, clock, accountEvents } = await setup();
    await ingest(engagedMember('pat@eta.example', 'Procurement Director'));
    await ingest(engagedMember('ivy@eta.example', 'CIO'));
    const qualified = await getAccount(deps, 'domain:eta.example');
    const early = clock.now + 300 * DAY_MS;
    const late = clock.now + 400 * DAY_MS;

    const before = await runSweep(deps, { now: early, deadline: Infinity });
    clock.now = late;
    const after = await runSweep(deps, { now: late, deadline: Infinity });

    expect(accountEvents()).toHaveLength(1);
    expect(qualified.status).toBe('mqa');
    expect(before.read).toBe(0);
    expect(after.read).toBe(1);
    const view = await getAccount(deps, 'domain:eta.example');
    expect(view.status).toBe('engaged');
    expect(view.coverage.covered).toEqual([]);
  });

  it('shows a penalized lead as the lead shows it', async () => {
    const { deps, ingest, clock } = await setup();
    const userId = 'pia@theta.example';
    await ingest([
      ...engagedMember(userId, 'CPO', { email: userId }),
      { type: 'track', messageId: 'pia-unsub', userId, event: 'Unsubscribed' },
    ]);
    clock.advance(150 * DAY_MS);

    const lead = await getLead(deps, userId);
    const account = await getAccount(deps, 'domain:theta.example');

    expect(lead.intent).toBeCloseTo(10.53, 1);
    expect(account.leads[0]?.intent).toBe(lead.intent);
    expect(account.leads[0]?.engaged).toBe(false);
    expect(account.coverage.covered).toEqual([]);
  });

  it('qualifies a committee whatever order it engages in', async () => {
    const { deps, ingest, clock, accountEvents } = await setup();
    // Ten blog reads give exactly the engaged level of 20 intent points,
    // which decay brings below 20 a millisecond later but shows as 20.00
    // for hours.
    const blogReads = (userId: string) =>
      Array.from({ length: 10 }, (_, n) => blogRead(userId, n));
    const cpo = 'Chief Procurement Officer';
    await ingest(engagedMember('ann@first.example', cpo));
    await ingest(blogReads('carl@first.example'));
    await ingest([
      {
        type: 'identify',
        messageId: 'carl-first-title',
        userId: 'carl@first.example',
        traits: { title: 'CFO' },
      },
    ]);
    await ingest([
      {
        type: 'identify',
        messageId: 'carl-second-title',
        userId: 'carl@second.example',
        traits: { title: 'CFO' },
      },
      ...blogReads('carl@second.example'),
    ]);
    clock.advance(60_000);
    await ingest(engagedMember('ann@second.example', cpo));

    const first = await getAccount(deps, 'domain:first.example');
    const second = await getAccount(deps, 'domain:second.example');
    const qualified = accountEvents().map(
      (event) => (event.detail as AccountQualifiedDetail).accountId,
    );
    expect(qualified.sort()).toEqual([
      'domain:first.example',
      'domain:second.example',
    ]);
    expect(first.status).toBe('mqa');
    expect(second.status).toBe('mqa');
    expect(second.coverage.covered).toEqual(['procurement', 'finance']);
    const carl = second.leads.find(
      (lead) => lead.leadId === 'carl@second.example',
    );
    expect(carl?.intent).toBe(20);
    expect(carl?.engaged).toBe(true);
  });

  it('qualifies when a lead below engagement adds fit', async () => {
    const { deps, ingest, accountEvents } = await setup();
    // Demo, pricing and five blog reads make 75 points of engagement,
    // below the threshold of 80 while the account has no fit.
    await ingest([
      {
        type: 'identify',
        messageId: 'pia-title',
        userId: 'pia@theta.example',
        traits: { title: 'CPO' },
      },
      {
        type: 'track',
        messageId: 'pia-demo',
        userId: 'pia@theta.example',
        event: 'Demo Requested',
      },
      {
        type: 'identify',
        messageId: 'cal-title',
        userId: 'cal@theta.example',
        traits: { title: 'CFO' },
      },
      {
        type: 'page',
        messageId: 'cal-pricing',
        userId: 'cal@theta.example',
        properties: { path: '/pricing' },
      },
      ...Array.from({ length: 5 }, (_, n) => blogRead('cal@theta.example', n)),
    ]);
    const before = await getAccount(deps, 'domain:theta.example');

    // An office manager with no activity brings the account's fit.
    await ingest([
      {
        type: 'identify',
        messageId: 'oma-title',
        userId: 'oma@theta.example',
        traits: { title: 'Office Manager', company: { employee_count: 5000 } },
      },
    ]);

    const after = await getAccount(deps, 'domain:theta.example');
    expect(before.score).toBe(75);
    expect(before.status).toBe('engaged');
    expect(after.fit).toBe(10);
    expect(after.score).toBe(85);
    expect(after.meetsRule).toBe(true);
    expect(after.status).toBe('mqa');
    expect(accountEvents()).toHaveLength(1);
  });

  it('qualifies when a lead below engagement adds intent', async () => {
    const { deps, ingest, accountEvents } = await setup();
    const identify = (userId: string, title: string) => ({
      type: 'identify',
      messageId: `${userId}-title`,
      userId,
      traits: { title },
    });
    await ingest([
      identify('pia@iota.example', 'CPO'),
      {
        type: 'track',
        messageId: 'pia-demo',
        userId: 'pia@iota.example',
        event: 'Demo Requested',
      },
      identify('cal@iota.example', 'CFO'),
      {
        type: 'page',
        messageId: 'cal-pricing',
        userId: 'cal@iota.example',
        properties: { path: '/pricing' },
      },
    ]);
    const before = await getAccount(deps, 'domain:iota.example');

    // Nine blog reads make 18 points, below the engaged level of 20, and
    // the most engaged leads count whether or not they are engaged.
    await ingest(
      Array.from({ length: 9 }, (_, n) => blogRead('rea@iota.example', n)),
    );

    const after = await getAccount(deps, 'domain:iota.example');
    const reader = after.leads.find(
      (lead) => lead.leadId === 'rea@iota.example',
    );
    expect(before.score).toBe(65);
    expect(reader?.engaged).toBe(false);
    expect(after.score).toBe(83);
    expect(after.meetsRule).toBe(true);
    expect(after.status).toBe('mqa');
    expect(accountEvents()).toHaveLength(1);
  });

  it('writes membership on engagement steps, not page views', async () => {
    const { deps, ingest, clock } = await setup();
    await ingest(engagedMember('ann@delta.example', 'CPO'));
    const before = await deps.repository.getAccount('domain:delta.example');
    clock.advance(60_000);

    await ingest([blogRead('ann@delta.example', 1)]);
    const after = await deps.repository.getAccount('domain:delta.example');

    expect(before.members).toHaveLength(1);
    expect(after.members).toEqual(before.members);
  });
});
