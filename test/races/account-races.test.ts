import { describe, expect, it } from 'vitest';
import { ACCOUNT_RESUME_WINDOW_MS } from '../../functions/domain/account.js';
import {
  ConcurrencyError,
  NotFoundError,
} from '../../functions/domain/errors.js';
import { MERGE_RESUME_DELAY_MS } from '../../functions/domain/merge.js';
import { VersionConflictError } from '../../functions/ports/lead-repository.js';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { getAccount } from '../../functions/use-cases/get-account.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { accountModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import { holdNextCall } from '../support/held-call.js';
import {
  type RaceSetup,
  retryingConflicts,
  sweepAt,
} from './support/table-check.js';

function ingest(setup: RaceSetup, messages: unknown[]) {
  return ingestMessages(setup.deps, {
    sourceId: 'web',
    messages,
    receivedAt: setup.clock.now,
  });
}

function member(userId: string, title: string) {
  return {
    type: 'identify',
    messageId: `${userId}-identify`,
    userId,
    traits: { title, email: userId, company: { employee_count: 5000 } },
  };
}

function demo(userId: string, messageId = `${userId}-demo`) {
  return { type: 'track', messageId, userId, event: 'Demo Requested' };
}

function unsubscribe(userId: string) {
  return {
    type: 'track',
    messageId: `${userId}-unsubscribe`,
    userId,
    event: 'Unsubscribed',
  };
}

function accountQualified(setup: RaceSetup) {
  return setup.published.filter(
    (event) => event.detailType === 'Account Qualified',
  );
}

/**
 * Makes the next read of `accountId` wait after it returns until
 * `release` is called; `read` resolves once that read is done.
 */
function holdNextAccountRead(setup: RaceSetup, accountId: string) {
  const held = holdNextCall(setup.deps.repository, 'getAccount', {
    when: 'after',
    matches: (id) => id === accountId,
  });
  return { read: held.reached, release: held.release };
}

describe('account checks racing member changes', () => {
  it('ignores a lead erased after the read', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const cpo = 'cpo@acme.example';
    const cfo = 'cfo@acme.example';
    await ingest(setup, [member(cpo, 'CPO'), demo(cpo), member(cfo, 'CFO')]);
    // The CFO's demo completes the committee, but its account check waits
    // after its read until the CPO is erased.
    const held = holdNextAccountRead(setup, 'domain:acme.example');
    const qualifying = ingest(setup, [demo(cfo)]);
    await held.read;

    await eraseLead(setup.deps, cpo);
    held.release();
    await qualifying;

    const account = await getAccount(setup.deps, 'domain:acme.example');
    expect(account.coverage.missingRequired).toEqual(['procurement']);
    expect(account.status).toBe('engaged');
    expect(accountQualified(setup)).toEqual([]);
  });

  it('ignores a lead unsubscribed after the read', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const cpo = 'cpo@acme.example';
    const cfo = 'cfo@acme.example';
    await ingest(setup, [member(cpo, 'CPO'), demo(cpo), member(cfo, 'CFO')]);
    const held = holdNextAccountRead(setup, 'domain:acme.example');
    const qualifying = ingest(setup, [demo(cfo)]);
    await held.read;

    // The unsubscribe takes the CPO below the engaged level.
    await ingest(setup, [unsubscribe(cpo)]);
    held.release();
    await qualifying;

    const account = await getAccount(setup.deps, 'domain:acme.example');
    expect(account.coverage.missingRequired).toEqual(['procurement']);
    expect(account.status).toBe('engaged');
    expect(accountQualified(setup)).toEqual([]);
  });

  it('keeps an episode that a lead engaged after the read holds', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const cpo = 'cpo@acme.example';
    const cfo = 'cfo@acme.example';
    const vp = 'vp@acme.example';
    await ingest(setup, [member(cpo, 'CPO'), demo(cpo)]);
    await ingest(setup, [member(cfo, 'CFO'), demo(cfo)]);
    setup.clock.advance(1_000);
    // The CPO's unsubscribe leaves procurement uncovered in its check's
    // read, which waits until a VP of Procurement has engaged and that
    // lead's own check has found the account still qualified.
    const held = holdNextAccountRead(setup, 'domain:acme.example');
    const ending = ingest(setup, [unsubscribe(cpo)]);
    await held.read;
    await ingest(setup, [member(vp, 'VP Procurement'), demo(vp)]);
    held.release();
    await ending;

    const account = await getAccount(setup.deps, 'domain:acme.example');
    expect(account.coverage.missingRequired).toEqual([]);
    expect(account.status).toBe('mqa');
    expect(account.episode).toBe(1);
    expect(accountQualified(setup)).toHaveLength(1);
  });
});

describe('account episode that ended moments before', () => {
  it.each([
    { delayMs: 30_000, episode: 1, events: 1 },
    { delayMs: ACCOUNT_RESUME_WINDOW_MS, episode: 2, events: 2 },
  ])(
    'qualifies $delayMs ms after an end as episode $episode',
    async ({ delayMs, episode, events }) => {
      const setup = await realDependencies({ model: accountModel() });
      const cpo = 'cpo@acme.example';
      const cfo = 'cfo@acme.example';
      const vp = 'vp@acme.example';
      await ingest(setup, [member(cpo, 'CPO'), demo(cpo)]);
      await ingest(setup, [member(cfo, 'CFO'), demo(cfo)]);
      await ingest(setup, [unsubscribe(cpo)]);
      const ended = await getAccount(setup.deps, 'domain:acme.example');
      setup.clock.advance(delayMs);
      await ingest(setup, [member(vp, 'VP Procurement'), demo(vp)]);

      const account = await getAccount(setup.deps, 'domain:acme.example');
      expect(ended.status).toBe('engaged');
      expect(account.status).toBe('mqa');
      expect(account.episode).toBe(episode);
      expect(accountQualified(setup)).toHaveLength(events);
    },
  );
});

describe('many leads of one account crossing at once', () => {
  it('qualify the account once with full coverage', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const titles = ['CPO', 'CFO', 'CIO', 'Head of Procurement'];
    const leads = Array.from({ length: 12 }, (_, index) => ({
      userId: `lead-${index}@crowd.example`,
      title: titles[index % titles.length] as string,
    }));

    await Promise.all(
      leads.map(({ userId, title }) =>
        retryingConflicts(() =>
          ingest(setup, [member(userId, title), demo(userId)]),
        ),
      ),
    );

    const qualified = new Set(accountQualified(setup).map((e) => e.eventId));
    expect(qualified.size).toBe(1);
    const account = await getAccount(setup.deps, 'domain:crowd.example');
    expect(account.status).toBe('mqa');
    expect(account.episode).toBe(1);
    expect(account.meetsRule).toBe(true);
    expect(account.coverage.covered).toEqual(['procurement', 'finance', 'it']);
    expect(account.leadCount).toBe(12);
    expect(account.engagedLeadCount).toBe(12);
  });
});

describe('retried request of a merged anonymous id', () => {
  it('checks the account of the lead it merged into', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const cpo = 'cpo@acme.example';
    const cfo = 'cfo@acme.example';
    await ingest(setup, [
      { ...member(cpo, 'CPO'), anonymousId: 'browser-1' },
      member(cfo, 'CFO'),
      demo(cfo),
    ]);
    const { repository } = setup.deps;
    const saveAccountChange = repository.saveAccountChange.bind(repository);
    // Every account write loses to a concurrent writer, so the request
    // fails after its event was stored on the CPO.
    repository.saveAccountChange = async (change) => {
      throw new VersionConflictError(change.state.accountId);
    };
    const anonymousDemo = {
      type: 'track',
      messageId: 'browser-1-demo',
      anonymousId: 'browser-1',
      event: 'Demo Requested',
    };
    await expect(ingest(setup, [anonymousDemo])).rejects.toThrow(
      ConcurrencyError,
    );
    repository.saveAccountChange = saveAccountChange;

    const retried = await ingest(setup, [anonymousDemo]);

    expect(retried.counts.duplicate).toBe(1);
    const account = await getAccount(setup.deps, 'domain:acme.example');
    expect(account.status).toBe('mqa');
    expect(accountQualified(setup)).toHaveLength(1);
  });
});

/**
 * Qualifies the acme.example account with a CPO and a CFO, then sends an
 * alias of the CPO to a CRM id in a request that stops at its first
 * account write, after the merge and before the merge's account check.
 */
async function stopAliasBeforeAccountCheck(setup: RaceSetup) {
  const cpo = 'cpo@acme.example';
  const cfo = 'cfo@acme.example';
  // Without an email trait the CPO's account comes from the user id,
  // so the alias to a CRM id takes the lead out of the account.
  await ingest(setup, [
    {
      type: 'identify',
      messageId: `${cpo}-identify`,
      userId: cpo,
      traits: { title: 'CPO', company: { employee_count: 5000 } },
    },
    demo(cpo),
    member(cfo, 'CFO'),
    demo(cfo),
  ]);

  const before = await getAccount(setup.deps, 'domain:acme.example');
  expect(before.status).toBe('mqa');

  const { repository } = setup.deps;
  const saveAccountChange = repository.saveAccountChange.bind(repository);
  repository.saveAccountChange = async () => {
    repository.saveAccountChange = saveAccountChange;
    throw new Error('Socket timed out.');
  };

  const alias = {
    type: 'alias',
    messageId: 'cpo-alias',
    userId: 'crm-7',
    previousId: cpo,
  };
  await expect(ingest(setup, [alias])).rejects.toThrow('timed out');
  return { cpo, alias };
}

describe('merge stopped before its account check', () => {
  it.each([{ finisher: 'retry' }, { finisher: 'sweep' }])(
    'checks the account by $finisher',
    async ({ finisher }) => {
      const setup = await realDependencies({ model: accountModel() });
      const { cpo, alias } = await stopAliasBeforeAccountCheck(setup);
      const { repository } = setup.deps;
      expect((await repository.getLead(cpo))?.mergedInto).toBe('crm-7');

      if (finisher === 'retry') {
        await ingest(setup, [alias]);
      } else {
        setup.clock.advance(MERGE_RESUME_DELAY_MS);
        await sweepAt(setup);
      }

      const after = await getAccount(setup.deps, 'domain:acme.example');
      expect(after.leadCount).toBe(1);
      expect(after.status).toBe('engaged');
      expect((await repository.getLead(cpo))?.mergePending).toBe(false);
    },
  );
});

describe('erasure of a merge stopped before its account check', () => {
  it('checks the merged lead account', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { cpo } = await stopAliasBeforeAccountCheck(setup);
    const { repository } = setup.deps;
    expect((await repository.getLead(cpo))?.mergePending).toBe(true);

    // The erasure deletes the tombstone, the only item that lists the
    // account its merge still had to check.
    await eraseLead(setup.deps, 'crm-7');

    expect(await repository.getLead(cpo)).toBeUndefined();
    const after = await getAccount(setup.deps, 'domain:acme.example');
    expect(after.leadCount).toBe(1);
    expect(after.status).toBe('engaged');
  });
});

describe('erasure interrupted after its deletes', () => {
  it('leaves the account to the sweep without the lead', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const cpo = 'cpo@acme.example';
    const cfo = 'cfo@acme.example';
    await ingest(setup, [
      member(cpo, 'CPO'),
      demo(cpo),
      member(cfo, 'CFO'),
      demo(cfo),
    ]);
    const before = await getAccount(setup.deps, 'domain:acme.example');
    expect(before.status).toBe('mqa');
    const { repository } = setup.deps;
    const deleteErasedLead = repository.deleteErasedLead.bind(repository);
    // The lead's state is deleted, but the erasure times out right after.
    repository.deleteErasedLead = async (leadId, expectedVersion, erased) => {
      await deleteErasedLead(leadId, expectedVersion, erased);
      if (leadId === cpo) throw new Error('Socket timed out.');
    };

    await expect(eraseLead(setup.deps, cpo)).rejects.toThrow('timed out');
    repository.deleteErasedLead = deleteErasedLead;
    await expect(eraseLead(setup.deps, cpo)).rejects.toThrow(NotFoundError);
    setup.clock.advance(60_000);
    await sweepAt(setup);

    const after = await getAccount(setup.deps, 'domain:acme.example');
    expect(after.leadCount).toBe(1);
    expect(after.status).toBe('engaged');
  });
});
