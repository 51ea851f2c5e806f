import { describe, expect, it, vi } from 'vitest';
import { NotFoundError } from '../../functions/domain/errors.js';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { getAccount } from '../../functions/use-cases/get-account.js';
import { engagedMember } from '../fixtures/messages.js';
import { accountItems, accountSetup } from '../support/account-setup.js';

/** A family's domain, which names the people who use it. */
const DOMAIN = 'zorquil-family.example';
const ACCOUNT_ID = `domain:${DOMAIN}`;

async function setup() {
  const context = await accountSetup();
  const { ingest } = context;
  const qualify = async (prefix: string) => {
    const ids = [`${prefix}-cpo@${DOMAIN}`, `${prefix}-cfo@${DOMAIN}`];
    await ingest(engagedMember(ids[0] ?? '', 'Chief Procurement Officer'));
    await ingest(engagedMember(ids[1] ?? '', 'CFO'));
    return ids;
  };
  /** Returns every item stored under the account's partition. */
  const storedItems = () => accountItems(context.table, ACCOUNT_ID);
  const qualifiedEvents = () =>
    context.published.filter(
      (event) => event.detailType === 'Account Qualified',
    );
  return { ...context, qualify, storedItems, qualifiedEvents };
}

describe('account of erased leads', () => {
  it('deletes the state when the last lead is erased', async () => {
    const { deps, qualify, storedItems, qualifiedEvents } = await setup();
    const leadIds = await qualify('a');
    expect(qualifiedEvents()).toHaveLength(1);
    expect((await getAccount(deps, ACCOUNT_ID)).status).toBe('mqa');

    for (const leadId of leadIds) await eraseLead(deps, leadId);

    expect(await storedItems()).toEqual([]);
    await expect(getAccount(deps, ACCOUNT_ID)).rejects.toThrow(NotFoundError);
  });

  it('keeps the state while a lead remains', async () => {
    const { deps, qualify, storedItems } = await setup();
    const [first] = await qualify('a');

    await eraseLead(deps, first ?? '');

    const kinds = (await storedItems()).map((item) => item.entity).sort();
    expect(kinds).toEqual(['account', 'member']);
  });

  it('keeps a lead that joins while the state is deleted', async () => {
    const { deps, ingest, qualify, repository, storedItems } = await setup();
    const leadIds = await qualify('a');
    const joiner = `joiner@${DOMAIN}`;
    const deleteState = repository.deleteAccountState.bind(repository);
    // The joining lead's write and its own account check run after the
    // erasure's check read no members, before its delete.
    const spy = vi
      .spyOn(repository, 'deleteAccountState')
      .mockImplementationOnce(async (accountId, version) => {
        await ingest(engagedMember(joiner, 'Chief Procurement Officer'));
        await deleteState(accountId, version);
      });

    for (const leadId of leadIds) await eraseLead(deps, leadId);

    expect(spy).toHaveBeenCalled();
    const account = await getAccount(deps, ACCOUNT_ID);
    expect(account.leads.map((lead) => lead.leadId)).toEqual([joiner]);
    const members = (await storedItems()).filter(
      (item) => item.entity === 'member',
    );
    expect(members.map((item) => item.leadId)).toEqual([joiner]);
  });

  it('gives a new episode new event ids after the deletion', async () => {
    const { deps, qualify, qualifiedEvents } = await setup();
    const first = await qualify('a');
    for (const leadId of first) await eraseLead(deps, leadId);

    await qualify('b');

    const events = qualifiedEvents();
    expect(events.map((event) => event.detail.episode)).toEqual([1, 1]);
    expect(new Set(events.map((event) => event.eventId)).size).toBe(2);
  });
});
