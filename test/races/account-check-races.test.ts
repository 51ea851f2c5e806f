import { describe, expect, it } from 'vitest';
import type { AccountChange } from '../../functions/ports/lead-repository.js';
import { getAccount } from '../../functions/use-cases/get-account.js';
import { demoRequestingMember } from '../fixtures/messages.js';
import { accountModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import { holdNextCall } from '../support/held-call.js';
import { ingestFromWeb, type RaceSetup } from './support/table-check.js';

function ingestMember(setup: RaceSetup, userId: string, title: string) {
  return ingestFromWeb(setup, demoRequestingMember(userId, title));
}

describe('account checks of one account from two leads', () => {
  it('qualify account once under concurrent writes', async () => {
    const setup = await realDependencies({ model: accountModel() });
    await ingestMember(setup, 'cpo@two.example', 'CPO');
    // The CFO's request has read the account and is about to store its
    // qualification when a CIO's request checks the same account.
    const firstWrite = holdNextCall(setup.repository, 'saveAccountChange', {
      when: 'before',
      matches: (change: AccountChange) => change.outgoing.length > 0,
    });

    const cfo = ingestMember(setup, 'cfo@two.example', 'CFO');
    await firstWrite.reached;
    await ingestMember(setup, 'cio@two.example', 'CIO');
    firstWrite.release();
    await cfo;

    const account = await getAccount(setup.deps, 'domain:two.example');
    expect(account.status).toBe('mqa');
    expect(account.episode).toBe(1);
    expect(account.leadCount).toBe(3);
    expect(account.coverage.covered).toEqual(['procurement', 'finance', 'it']);
    const qualified = setup.published.filter(
      (event) => event.detailType === 'Account Qualified',
    );
    expect(qualified).toHaveLength(1);
    expect(qualified[0]?.detail.leads).toBe(3);
  });
});
