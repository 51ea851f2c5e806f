import { DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoLeadRepository } from '../../functions/adapters/dynamodb/lead-repository.js';
import { TABLE_LAYOUT } from '../../functions/adapters/dynamodb/table-layout.js';
import { NotFoundError } from '../../functions/domain/errors.js';
import {
  ERASURE_HOLD_MS,
  eraseLead,
} from '../../functions/use-cases/erase-lead.js';
import { getAccount } from '../../functions/use-cases/get-account.js';
import { engagedMember } from '../fixtures/messages.js';
import { accountItems, accountSetup } from '../support/account-setup.js';

const DOMAIN = 'domain:acme.example';

/** Returns an engaged committee member's messages, with the id as email. */
function memberWithEmail(userId: string, title: string) {
  return engagedMember(userId, title, { email: userId });
}

/** Returns an engaged committee member's messages and a group call. */
function groupedMember(userId: string, title: string, groupId: string) {
  return [...memberWithEmail(userId, title), groupCall(userId, groupId)];
}

function groupCall(userId: string, groupId: string) {
  return {
    type: 'group',
    messageId: `${userId}-group-${groupId}`,
    userId,
    groupId,
  };
}

async function setup() {
  const context = await accountSetup();
  // Each ingest comes one second after the one before.
  const ingest = async (messages: unknown[]) => {
    context.clock.now += 1_000;
    return context.ingest(messages);
  };
  const qualifiedAccounts = () =>
    context.published
      .filter((event) => event.detailType === 'Account Qualified')
      .map((event) => event.detail.accountId);
  /** Returns every item stored under the domain's account. */
  const domainItems = () => accountItems(context.table, DOMAIN);
  return { ...context, ingest, qualifiedAccounts, domainItems };
}

async function leadIdsOf(
  deps: Awaited<ReturnType<typeof setup>>['deps'],
  accountId: string,
) {
  const view = await getAccount(deps, accountId);
  return {
    accountId: view.accountId,
    leads: view.leads.map((lead) => lead.leadId).sort(),
  };
}

type Repository = DynamoLeadRepository;

/** Returns the groups of the domain's link records, sorted. */
function linkerGroups(items: readonly Record<string, unknown>[]): string[] {
  return items
    .filter((item) => item.entity === 'account-linker')
    .map((item) => String(item.groupAccountId))
    .sort();
}

describe('erasure of a lead that links a domain', () => {
  it('keeps the link while its group still links', async () => {
    const { deps, ingest } = await setup();
    await ingest(groupedMember('ann@acme.example', 'CPO', 'g-7'));
    await ingest(groupedMember('bob@acme.example', 'CTO', 'g-7'));
    await ingest(memberWithEmail('carl@acme.example', 'CFO'));

    await eraseLead(deps, 'ann@acme.example');

    expect(await leadIdsOf(deps, DOMAIN)).toEqual({
      accountId: 'group:g-7',
      leads: ['bob@acme.example', 'carl@acme.example'],
    });
    await ingest(memberWithEmail('dora@acme.example', 'VP Finance'));
    expect((await leadIdsOf(deps, 'group:g-7')).leads).toContain(
      'dora@acme.example',
    );
  });

  it('moves the link to another group that links', async () => {
    const { deps, ingest, qualifiedAccounts } = await setup();
    await ingest(groupedMember('ben@acme.example', 'CTO', 'g-8'));
    // Ann's group call is the domain's latest, so the domain links to g-7.
    await ingest(groupedMember('ann@acme.example', 'CPO', 'g-7'));
    await ingest(
      memberWithEmail('carl@acme.example', 'Chief Procurement Officer'),
    );
    await ingest(memberWithEmail('dora@acme.example', 'VP Finance'));
    expect(await leadIdsOf(deps, DOMAIN)).toEqual({
      accountId: 'group:g-7',
      leads: ['ann@acme.example', 'carl@acme.example', 'dora@acme.example'],
    });
    expect(qualifiedAccounts()).toEqual(['group:g-7']);

    await eraseLead(deps, 'ann@acme.example');

    expect(await leadIdsOf(deps, DOMAIN)).toEqual({
      accountId: 'group:g-8',
      leads: ['ben@acme.example', 'carl@acme.example', 'dora@acme.example'],
    });
    // The erasure evaluates the group that the domain's leads now count in.
    expect(qualifiedAccounts()).toEqual(['group:g-7', 'group:g-8']);
    await ingest(memberWithEmail('eve@acme.example', 'CFO'));
    expect((await leadIdsOf(deps, 'group:g-8')).leads).toContain(
      'eve@acme.example',
    );
  });

  it('removes a link that only the erased lead made', async () => {
    const { deps, ingest, qualifiedAccounts, domainItems } = await setup();
    await ingest(groupedMember('ann@acme.example', 'CTO', 'g-7'));
    await ingest(
      memberWithEmail('carl@acme.example', 'Chief Procurement Officer'),
    );
    await ingest(memberWithEmail('dora@acme.example', 'VP Finance'));
    expect(qualifiedAccounts()).toEqual(['group:g-7']);
    expect((await domainItems()).map((item) => item.entity)).toContain(
      'account-link',
    );

    await eraseLead(deps, 'ann@acme.example');

    expect(await leadIdsOf(deps, DOMAIN)).toEqual({
      accountId: DOMAIN,
      leads: ['carl@acme.example', 'dora@acme.example'],
    });
    const stored = await domainItems();
    expect(JSON.stringify(stored)).not.toContain('g-7');
    expect(stored.map((item) => item.entity).sort()).toEqual([
      'account',
      'member',
      'member',
    ]);
    // The domain's leads count in the domain's own account again, and the
    // erasure evaluates it.
    expect(qualifiedAccounts()).toEqual(['group:g-7', DOMAIN]);
    await ingest(memberWithEmail('eve@acme.example', 'CFO'));
    expect(await leadIdsOf(deps, DOMAIN)).toEqual({
      accountId: DOMAIN,
      leads: ['carl@acme.example', 'dora@acme.example', 'eve@acme.example'],
    });
  });

  it('removes the record of a group without leads left', async () => {
    const { deps, ingest, domainItems } = await setup();
    await ingest(groupedMember('ann@acme.example', 'CTO', 'g-7'));
    // Ben's group call is the domain's latest, so the link stays on g-8.
    await ingest(groupedMember('ben@acme.example', 'CFO', 'g-8'));

    await eraseLead(deps, 'ann@acme.example');

    const stored = await domainItems();
    expect(JSON.stringify(stored)).not.toContain('g-7');
    expect(linkerGroups(stored)).toEqual(['group:g-8']);
    const link = await deps.repository.getAccountLink(DOMAIN);
    expect(link?.linkedTo).toBe('group:g-8');
    expect(link?.groups).toEqual(['group:g-8']);
    expect(await leadIdsOf(deps, DOMAIN)).toEqual({
      accountId: 'group:g-8',
      leads: ['ben@acme.example'],
    });
  });

  it('keeps the record of a group with a lead left', async () => {
    const { deps, ingest, domainItems } = await setup();
    await ingest(groupedMember('ann@acme.example', 'CTO', 'g-7'));
    await ingest(groupedMember('bob@acme.example', 'CPO', 'g-7'));
    await ingest(groupedMember('ben@acme.example', 'CFO', 'g-8'));

    await eraseLead(deps, 'ann@acme.example');

    expect(linkerGroups(await domainItems())).toEqual([
      'group:g-7',
      'group:g-8',
    ]);
    expect((await deps.repository.getAccountLink(DOMAIN))?.linkedTo).toBe(
      'group:g-8',
    );
  });

  it('removes the record while another group links', async () => {
    const { deps, ingest, domainItems } = await setup();
    await ingest(groupedMember('ann@acme.example', 'CTO', 'g-7'));
    await ingest(groupedMember('ben@acme.example', 'CFO', 'g-8'));

    // Dora's group call writes the link and her group's record while the
    // erasure reads and settles the link.
    await Promise.all([
      eraseLead(deps, 'ann@acme.example'),
      ingest(groupedMember('dora@acme.example', 'VP Finance', 'g-9')),
    ]);

    const stored = await domainItems();
    expect(JSON.stringify(stored)).not.toContain('g-7');
    expect(linkerGroups(stored)).toEqual(['group:g-8', 'group:g-9']);
    const link = await deps.repository.getAccountLink(DOMAIN);
    expect(link?.linkedTo).toBe('group:g-9');
  });

  it('removes a link stored without link records', async () => {
    const { deps, ingest, table, domainItems } = await setup();
    await ingest(groupedMember('ann@acme.example', 'CTO', 'g-7'));
    await ingest(memberWithEmail('carl@acme.example', 'CFO'));
    // A link written before links had an id and group records.
    for (const item of await domainItems()) {
      const key = marshall({
        [TABLE_LAYOUT.partitionKey]: item[TABLE_LAYOUT.partitionKey],
        [TABLE_LAYOUT.sortKey]: item[TABLE_LAYOUT.sortKey],
      });
      if (item.entity === 'account-linker') {
        await table.client.send(
          new DeleteItemCommand({ TableName: table.tableName, Key: key }),
        );
      }
      if (item.entity === 'account-link') {
        await table.client.send(
          new UpdateItemCommand({
            TableName: table.tableName,
            Key: key,
            UpdateExpression: 'REMOVE linkId',
          }),
        );
      }
    }

    await eraseLead(deps, 'ann@acme.example');

    const entities = (await domainItems()).map((item) => item.entity);
    expect(entities).not.toContain('account-link');
    expect(await leadIdsOf(deps, DOMAIN)).toEqual({
      accountId: DOMAIN,
      leads: ['carl@acme.example'],
    });
  });

  it('leaves a link written after it was read', async () => {
    const { deps, ingest } = await setup();
    await ingest(groupedMember('ann@acme.example', 'CTO', 'g-7'));
    const read = await deps.repository.getAccountLink(DOMAIN);
    expect(read).toMatchObject({
      linkedTo: 'group:g-7',
      groups: ['group:g-7'],
    });
    // Another lead of the same group writes the same link again.
    await ingest(groupedMember('ben@acme.example', 'CFO', 'g-7'));

    const replaced = await deps.repository.replaceAccountLink(
      DOMAIN,
      read as NonNullable<typeof read>,
      undefined,
      ['group:g-7'],
    );

    expect(replaced).toBe(false);
    const link = await deps.repository.getAccountLink(DOMAIN);
    expect(link?.linkedTo).toBe('group:g-7');
    expect(link?.linkId).not.toBe(read?.linkId);
    expect(link?.groups).toEqual(['group:g-7']);
  });
});

/** Raised in place of a call, as when the function stops at it. */
class StoppedError extends Error {
  constructor() {
    super('The function stopped at this call.');
  }
}

describe('erasure stopped and repeated', () => {
  it.each([
    {
      stop: 'after the state delete',
      repeated: 'not found',
      stopAt: (repository: Repository) => {
        const original = repository.deleteErasedLead.bind(repository);
        repository.deleteErasedLead = async (...args) => {
          repository.deleteErasedLead = original;
          await original(...args);
          throw new StoppedError();
        };
      },
    },
    {
      stop: 'before the link settles',
      repeated: 'erased',
      stopAt: (repository: Repository) => {
        const original = repository.replaceAccountLink.bind(repository);
        repository.replaceAccountLink = async () => {
          repository.replaceAccountLink = original;
          throw new StoppedError();
        };
      },
    },
  ])(
    'removes the group record when stopped $stop',
    async ({ stopAt, repeated }) => {
      const { deps, clock, table, ingest, domainItems } = await setup();
      // Erasure holds end by the test's clock.
      const repository = new DynamoLeadRepository(table.client, {
        tableName: table.tableName,
        reviewShards: deps.repository.reviewShards,
        clock: () => clock.now,
      });
      deps.repository = repository;
      await ingest(groupedMember('ann@acme.example', 'CTO', 'g-7'));
      // Ben's group call is the domain's latest, so the link stays on g-8.
      await ingest(groupedMember('ben@acme.example', 'CFO', 'g-8'));
      stopAt(repository);

      await expect(eraseLead(deps, 'ann@acme.example')).rejects.toBeInstanceOf(
        StoppedError,
      );
      // The caller repeats the request once the stopped erasure's hold ends.
      clock.advance(ERASURE_HOLD_MS + 1);
      const outcome = await eraseLead(deps, 'ann@acme.example').then(
        () => 'erased',
        (error: unknown) => {
          if (error instanceof NotFoundError) return 'not found';
          throw error;
        },
      );

      expect(outcome).toBe(repeated);
      expect(await deps.repository.getLead('ann@acme.example')).toBeUndefined();
      const stored = await domainItems();
      expect(JSON.stringify(stored)).not.toContain('g-7');
      expect(linkerGroups(stored)).toEqual(['group:g-8']);
      const link = await deps.repository.getAccountLink(DOMAIN);
      expect(link?.linkedTo).toBe('group:g-8');
      expect(link?.groups).toEqual(['group:g-8']);
    },
  );
});

describe('a lead that stops linking its domain', () => {
  /** Returns an identify that gives the lead a new email address. */
  function newEmail(userId: string, email: string) {
    return {
      type: 'identify',
      messageId: `${userId}-email-${email}`,
      userId,
      traits: { email },
    };
  }

  it('removes the link and evaluates the domain account', async () => {
    const { deps, ingest, qualifiedAccounts, domainItems } = await setup();
    await ingest(groupedMember('ann@acme.example', 'CTO', 'g-7'));
    await ingest(
      memberWithEmail('carl@acme.example', 'Chief Procurement Officer'),
    );
    await ingest(memberWithEmail('dora@acme.example', 'VP Finance'));
    expect(qualifiedAccounts()).toEqual(['group:g-7']);

    await ingest([newEmail('ann@acme.example', 'ann@other.example')]);

    expect(await leadIdsOf(deps, DOMAIN)).toEqual({
      accountId: DOMAIN,
      leads: ['carl@acme.example', 'dora@acme.example'],
    });
    const entities = (await domainItems()).map((item) => item.entity);
    expect(entities).not.toContain('account-link');
    expect(qualifiedAccounts()).toEqual(['group:g-7', DOMAIN]);
  });

  it('moves the link to another group that links', async () => {
    const { deps, ingest, qualifiedAccounts } = await setup();
    await ingest(groupedMember('ben@acme.example', 'CTO', 'g-8'));
    await ingest(groupedMember('ann@acme.example', 'CPO', 'g-7'));
    await ingest(
      memberWithEmail('carl@acme.example', 'Chief Procurement Officer'),
    );
    await ingest(memberWithEmail('dora@acme.example', 'VP Finance'));
    expect(qualifiedAccounts()).toEqual(['group:g-7']);

    await ingest([newEmail('ann@acme.example', 'ann@other.example')]);

    expect(await leadIdsOf(deps, DOMAIN)).toEqual({
      accountId: 'group:g-8',
      leads: ['ben@acme.example', 'carl@acme.example', 'dora@acme.example'],
    });
    expect(qualifiedAccounts()).toEqual(['group:g-7', 'group:g-8']);
    const link = await deps.repository.getAccountLink(DOMAIN);
    expect(link?.linkedTo).toBe('group:g-8');
  });

  it('keeps the link while another lead of its group links', async () => {
    const { deps, ingest } = await setup();
    await ingest(groupedMember('ann@acme.example', 'CPO', 'g-7'));
    await ingest(groupedMember('bob@acme.example', 'CTO', 'g-7'));
    await ingest(memberWithEmail('carl@acme.example', 'CFO'));

    await ingest([newEmail('ann@acme.example', 'ann@other.example')]);

    // Ann stays in her group's account with her new address.
    expect(await leadIdsOf(deps, DOMAIN)).toEqual({
      accountId: 'group:g-7',
      leads: ['ann@acme.example', 'bob@acme.example', 'carl@acme.example'],
    });
    const link = await deps.repository.getAccountLink(DOMAIN);
    expect(link?.linkedTo).toBe('group:g-7');
  });
});

describe('a domain link moving to another group', () => {
  it('ends the episode of the group left behind', async () => {
    const { deps, ingest, qualifiedAccounts } = await setup();
    await ingest(groupedMember('ben@acme.example', 'CTO', 'g-7'));
    await ingest(
      memberWithEmail('carl@acme.example', 'Chief Procurement Officer'),
    );
    await ingest(memberWithEmail('dora@acme.example', 'VP Finance'));
    expect(qualifiedAccounts()).toEqual(['group:g-7']);

    await ingest(groupedMember('eve@acme.example', 'CIO', 'g-8'));

    // The domain's leads, the CPO among them, now count in group g-8.
    const link = await deps.repository.getAccountLink(DOMAIN);
    expect(link?.linkedTo).toBe('group:g-8');
    expect(qualifiedAccounts()).toEqual(['group:g-7', 'group:g-8']);
    const left = await getAccount(deps, 'group:g-7');
    expect(left.coverage.missingRequired).toEqual(['procurement']);
    expect(left.status).toBe('engaged');
  });

  it('ends the episode the link returns from', async () => {
    const { deps, ingest, qualifiedAccounts } = await setup();
    await ingest(groupedMember('ben@acme.example', 'CTO', 'g-7'));
    await ingest(groupedMember('eve@acme.example', 'CIO', 'g-8'));
    await ingest(
      memberWithEmail('carl@acme.example', 'Chief Procurement Officer'),
    );
    await ingest(memberWithEmail('dora@acme.example', 'VP Finance'));
    expect(qualifiedAccounts()).toEqual(['group:g-8']);

    // A second demo request raises Ben's intent by a step, so his
    // membership write puts the domain's link back to his group.
    await ingest([
      {
        type: 'track',
        messageId: 'ben-demo-2',
        userId: 'ben@acme.example',
        event: 'Demo Requested',
      },
    ]);

    const link = await deps.repository.getAccountLink(DOMAIN);
    expect(link?.linkedTo).toBe('group:g-7');
    const left = await getAccount(deps, 'group:g-8');
    expect(left.coverage.missingRequired).toEqual(['procurement']);
    expect(left.status).toBe('engaged');
  });
});
