import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { accountStateKey } from '../../functions/adapters/dynamodb/account-items.js';
import type { ScoringModel } from '../../functions/domain/model.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { markLeadsForRescore } from '../../scripts/model/rescore.js';
import { markAccountState } from '../../scripts/model/rescore-accounts.js';
import { engagedMember, qualifyingBatch } from '../fixtures/messages.js';
import { accountModel, defaultModelDocumentWith } from '../fixtures/models.js';
import { accountItems } from '../support/account-setup.js';
import { realDependencies } from '../support/dependencies.js';

async function modelFile(document: unknown): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'rescore-'));
  const file = join(directory, 'model.json');
  await writeFile(file, JSON.stringify(document));
  return file;
}

/**
 * Stores qualifyingBatch(leadId), a lead of 125 points, under the model
 * `before`, then changes the model to `after` and marks the leads for
 * the sweep as `npm run model -- rescore` does.
 */
async function changeModel(
  leadId: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
) {
  const setup = await realDependencies({ model: compileModel(before) });
  const stored = await ingestMessages(setup.deps, {
    sourceId: 'default',
    messages: qualifyingBatch(leadId),
    receivedAt: setup.clock.now,
  });
  setup.clock.advance(DAY_MS);
  setup.deps.model = compileModel(after);
  const rescore = () =>
    markLeadsForRescore({
      model: setup.deps.model,
      tableName: setup.table.tableName,
      endpoint: inject('dynamoDbEndpoint'),
      now: setup.clock.now,
    });
  return { ...setup, stored, rescore };
}

describe('markLeadsForRescore', () => {
  it('lets the sweep qualify a lead under a new model', async () => {
    const { deps, clock, stored, published, rescore } = await changeModel(
      'newly-qualified',
      defaultModelDocumentWith(200, 150),
      defaultModelDocumentWith(100, 90),
    );

    const marked = await rescore();
    const sweep = await runSweep(deps, { now: clock.now, deadline: Infinity });
    const again = await rescore();

    expect(stored.leads[0]?.status).toBe('engaged');
    expect(marked).toEqual({
      leads: 1,
      marked: 1,
      accounts: 1,
      accountsMarked: 0,
    });
    expect(sweep.qualified).toBe(1);
    const lead = await deps.repository.getLead('newly-qualified');
    expect(lead?.status).toBe('mql');
    expect(lead?.qualifiedAt).toBe(clock.now);
    expect(lead?.nextReviewAt).toBeGreaterThan(clock.now);
    expect(published.map((event) => event.detailType)).toEqual([
      'Lead Qualified',
    ]);
    expect(published[0]?.detail).toMatchObject({
      episode: 1,
      threshold: 100,
      modelVersion: deps.model.version,
    });
    expect(again).toEqual({
      leads: 1,
      marked: 0,
      accounts: 1,
      accountsMarked: 0,
    });
  });

  it('lets the sweep recycle an MQL under a new model', async () => {
    const { deps, clock, stored, published, rescore } = await changeModel(
      'newly-recycled',
      defaultModelDocumentWith(100, 90),
      defaultModelDocumentWith(200, 150),
    );

    const marked = await rescore();
    const sweep = await runSweep(deps, { now: clock.now, deadline: Infinity });

    expect(stored.leads[0]?.status).toBe('mql');
    expect(marked).toEqual({
      leads: 1,
      marked: 1,
      accounts: 1,
      accountsMarked: 0,
    });
    expect(sweep.recycled).toBe(1);
    const lead = await deps.repository.getLead('newly-recycled');
    expect(lead?.status).toBe('recycled');
    // The new model puts the lead below its recycle level from its last
    // write on, so the review recycles it at that time.
    expect(lead?.recycledAt).toBe(clock.now - DAY_MS);
    expect(published.map((event) => event.detailType)).toEqual([
      'Lead Qualified',
      'Lead Recycled',
    ]);
    expect(published[1]?.detail).toMatchObject({
      episode: 1,
      recycleBelow: 150,
      reason: 'score fell below the recycle level 150',
    });
  });

  it('leaves leads of the same model out of the index', async () => {
    const { deps, clock, rescore } = await changeModel(
      'same-model',
      defaultModelDocumentWith(100, 90),
      defaultModelDocumentWith(100, 90),
    );

    const marked = await rescore();
    const sweep = await runSweep(deps, { now: clock.now, deadline: Infinity });

    expect(marked).toEqual({
      leads: 1,
      marked: 0,
      accounts: 1,
      accountsMarked: 0,
    });
    expect(sweep.read).toBe(0);
  });
});

/**
 * Returns the account model of the fixtures with other account
 * qualification settings. Its default needs procurement and two covered
 * roles.
 */
function accountModelWith(qualification: Record<string, unknown>) {
  return accountModel({
    qualification: {
      threshold: 80,
      recycleBelow: 50,
      requiredRoles: ['procurement'],
      minimumRoles: 2,
      ...qualification,
    },
  });
}

/**
 * Stores the buying committees `committees` (account domain to member
 * titles) and then `messages` under the model `before`. The committee
 * member at index i of domain d has the user id `member-i@d`. Then
 * changes the model to `after` and returns the setup with a rescore and a
 * sweep at one day later.
 */
async function changeAccountModel(
  committees: Record<string, string[]>,
  before: ScoringModel,
  after: ScoringModel,
  messages: unknown[] = [],
) {
  const setup = await realDependencies({ model: before });
  for (const [domain, titles] of Object.entries(committees)) {
    for (const [index, title] of titles.entries()) {
      await ingestMessages(setup.deps, {
        sourceId: 'default',
        messages: engagedMember(`member-${index}@${domain}`, title),
        receivedAt: setup.clock.now,
      });
    }
  }
  if (messages.length > 0) {
    await ingestMessages(setup.deps, {
      sourceId: 'default',
      messages,
      receivedAt: setup.clock.now,
    });
  }
  setup.clock.advance(DAY_MS);
  setup.deps.model = after;
  const rescore = () =>
    markLeadsForRescore({
      model: setup.deps.model,
      tableName: setup.table.tableName,
      endpoint: inject('dynamoDbEndpoint'),
      now: setup.clock.now,
    });
  const sweep = () =>
    runSweep(setup.deps, { now: setup.clock.now, deadline: Infinity });
  const accountEvents = (accountId: string) =>
    setup.published.filter(
      (event) =>
        event.detailType === 'Account Qualified' &&
        (event.detail as { accountId?: string }).accountId === accountId,
    );
  const accountState = async (accountId: string) => {
    const items = await accountItems(setup.table, accountId);
    return items.find((item) => item.entity === 'account');
  };
  return { ...setup, rescore, sweep, accountEvents, accountState };
}

describe('markLeadsForRescore for accounts', () => {
  it('qualifies an account under a new model', async () => {
    const { deps, rescore, sweep, accountEvents, accountState } =
      await changeAccountModel(
        { 'beta.example': ['CFO', 'CIO'] },
        accountModelWith({}),
        accountModelWith({ requiredRoles: [] }),
      );
    const before = await accountState('domain:beta.example');
    const eventsBefore = accountEvents('domain:beta.example').length;

    const marked = await rescore();
    const swept = await sweep();
    const again = await rescore();
    const sweptAgain = await sweep();

    expect(before).toBeUndefined();
    expect(eventsBefore).toBe(0);
    expect(marked).toMatchObject({ accounts: 1, accountsMarked: 1 });
    expect(swept.published).toBe(1);
    const events = accountEvents('domain:beta.example');
    expect(events).toHaveLength(1);
    expect(events[0]?.detail).toMatchObject({
      episode: 1,
      modelVersion: deps.model.version,
    });
    const state = await accountState('domain:beta.example');
    expect(state?.status).toBe('mqa');
    expect(state?.modelVersion).toBe(deps.model.version);
    expect(again).toMatchObject({ accounts: 1, accountsMarked: 0 });
    expect(sweptAgain.read).toBe(0);
    expect(accountEvents('domain:beta.example')).toHaveLength(1);
  });

  it('qualifies an account at a lower threshold', async () => {
    const { rescore, sweep, accountEvents } = await changeAccountModel(
      { 'gamma.example': ['Chief Procurement Officer', 'CFO'] },
      accountModelWith({ threshold: 300 }),
      accountModelWith({ threshold: 80 }),
    );

    const marked = await rescore();
    await sweep();
    const again = await rescore();

    expect(marked).toMatchObject({ accounts: 1, accountsMarked: 1 });
    expect(accountEvents('domain:gamma.example')).toHaveLength(1);
    expect(again).toMatchObject({ accounts: 1, accountsMarked: 0 });
  });

  it('ends an episode under a new model', async () => {
    const { deps, rescore, sweep, accountEvents, accountState } =
      await changeAccountModel(
        { 'acme.example': ['Chief Procurement Officer', 'CFO'] },
        accountModelWith({}),
        accountModelWith({ requiredRoles: ['procurement', 'it'] }),
      );
    const before = await accountState('domain:acme.example');

    const marked = await rescore();
    await sweep();
    const again = await rescore();

    expect(before?.status).toBe('mqa');
    expect(marked).toMatchObject({ accounts: 1, accountsMarked: 1 });
    const state = await accountState('domain:acme.example');
    expect(state?.status).toBe('engaged');
    expect(state?.episode).toBe(1);
    expect(state?.modelVersion).toBe(deps.model.version);
    expect(state?.reviewAt).toBeUndefined();
    expect(accountEvents('domain:acme.example')).toHaveLength(1);
    expect(again).toMatchObject({ accounts: 1, accountsMarked: 0 });
  });

  it('clears the mark of an unchanged account', async () => {
    const { deps, rescore, sweep, accountState } = await changeAccountModel(
      { 'acme.example': ['Chief Procurement Officer', 'CFO'] },
      accountModelWith({}),
      accountModelWith({ requiredRoles: ['procurement', 'it'] }),
    );
    await rescore();
    await sweep();
    const ended = await accountState('domain:acme.example');
    deps.model = accountModelWith({
      requiredRoles: ['procurement', 'it'],
      threshold: 90,
    });

    const marked = await rescore();
    const swept = await sweep();
    const sweptAgain = await sweep();
    const again = await rescore();

    expect(ended?.status).toBe('engaged');
    expect(marked).toMatchObject({ accounts: 1, accountsMarked: 1 });
    expect(swept.read).toBeGreaterThanOrEqual(1);
    const state = await accountState('domain:acme.example');
    expect(state?.status).toBe('engaged');
    expect(state?.modelVersion).toBe(deps.model.version);
    expect(state?.nextReviewAt).toBeUndefined();
    expect(state?.reviewAt).toBeUndefined();
    expect(sweptAgain.read).toBe(0);
    expect(again).toMatchObject({ accounts: 1, accountsMarked: 0 });
  });

  it('clears the mark of a domain linked to a group', async () => {
    const groupCall = {
      type: 'group',
      messageId: 'member-0-group',
      userId: 'member-0@acme.example',
      groupId: 'acct-7',
    };
    const { deps, rescore, sweep, accountEvents, accountState } =
      await changeAccountModel(
        { 'acme.example': ['Chief Procurement Officer', 'CFO'] },
        accountModelWith({}),
        accountModelWith({ threshold: 90 }),
        [groupCall],
      );
    const domainBefore = await accountState('domain:acme.example');
    const groupBefore = await accountState('group:acct-7');

    const marked = await rescore();
    await sweep();
    const sweptAgain = await sweep();
    const again = await rescore();

    expect(domainBefore?.status).toBe('engaged');
    expect(groupBefore?.status).toBe('mqa');
    expect(marked).toMatchObject({ accounts: 2, accountsMarked: 2 });
    const domain = await accountState('domain:acme.example');
    expect(domain?.modelVersion).toBe(deps.model.version);
    expect(domain?.reviewAt).toBeUndefined();
    const group = await accountState('group:acct-7');
    expect(group?.status).toBe('mqa');
    expect(group?.modelVersion).toBe(deps.model.version);
    expect(sweptAgain.read).toBe(0);
    expect(again).toMatchObject({ accounts: 2, accountsMarked: 0 });
    expect(accountEvents('group:acct-7')).toHaveLength(1);
  });

  it('leaves accounts of the same model alone', async () => {
    const { rescore, sweep, accountEvents, accountState } =
      await changeAccountModel(
        {
          'acme.example': ['Chief Procurement Officer', 'CFO'],
          'beta.example': ['CFO', 'CIO'],
        },
        accountModelWith({}),
        accountModelWith({}),
      );
    const before = await accountState('domain:acme.example');

    const marked = await rescore();
    const swept = await sweep();

    expect(accountEvents('domain:acme.example')).toHaveLength(1);
    expect(marked).toEqual({
      leads: 4,
      marked: 0,
      accounts: 2,
      accountsMarked: 0,
    });
    expect(swept.read).toBe(0);
    expect(await accountState('domain:acme.example')).toEqual(before);
    expect(await accountState('domain:beta.example')).toBeUndefined();
  });

  it('marks an account state without a model version', async () => {
    const { table, rescore, sweep, accountState, deps } =
      await changeAccountModel(
        { 'acme.example': ['Chief Procurement Officer', 'CFO'] },
        accountModelWith({}),
        accountModelWith({}),
      );
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: accountStateKey('domain:acme.example'),
        UpdateExpression: 'REMOVE modelVersion',
      }),
    );

    const marked = await rescore();
    const twice = await rescore();
    await sweep();
    const again = await rescore();

    expect(marked).toMatchObject({ accountsMarked: 1 });
    expect(twice).toMatchObject({ accountsMarked: 0 });
    const state = await accountState('domain:acme.example');
    expect(state?.status).toBe('mqa');
    expect(state?.modelVersion).toBe(deps.model.version);
    expect(again).toMatchObject({ accountsMarked: 0 });
  });

  it('skips an account state that a writer changed', async () => {
    const { deps, table, clock, accountState } = await changeAccountModel(
      { 'acme.example': ['Chief Procurement Officer', 'CFO'] },
      accountModelWith({}),
      accountModelWith({ threshold: 90 }),
    );
    const before = await accountState('domain:acme.example');
    const options = {
      model: deps.model,
      tableName: table.tableName,
      now: clock.now,
    };

    // The scan read the state one version before a writer changed it.
    const marked = await markAccountState(table.client, options, {
      accountId: 'domain:acme.example',
      version: Number(before?.version) - 1,
    });

    expect(marked).toBe(false);
    expect(await accountState('domain:acme.example')).toEqual(before);
  });
});

describe('model rescore', () => {
  it('marks the leads of another model', async () => {
    const { table } = await changeModel(
      'rescored-by-command',
      defaultModelDocumentWith(200, 150),
      defaultModelDocumentWith(200, 150),
    );
    const file = await modelFile(defaultModelDocumentWith(100, 90));

    const { stdout } = await promisify(execFile)(
      'node_modules/.bin/tsx',
      [
        'scripts/model.ts',
        'rescore',
        file,
        '--table',
        table.tableName,
        '--endpoint',
        inject('dynamoDbEndpoint'),
      ],
      { cwd: process.cwd(), timeout: 60_000 },
    );

    expect(stdout).toMatch(
      /^1 of 1 leads were scored by another model than [0-9a-f]{12} and are due for the next sweep\.\n0 of 1 accounts were checked by another model, or have no stored check and meet its rule, and are due for the next sweep\.\n$/,
    );
  });
});
