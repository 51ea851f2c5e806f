import { describe, expect, it } from 'vitest';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { alias, blog, identify } from '../fixtures/erasure-leads.js';
import { accountModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import { holdNextCall } from '../support/held-call.js';
import {
  ingestRetrying,
  type RaceSetup,
  scanTable,
  tableViolations,
} from './support/table-check.js';

const RENAMED = 'renamed@gmail.com';
const USER = 'user@gmail.com';

/** Stores `renamed` and `user`, then merges `renamed` into `user`. */
async function storeRenamedUser(setup: RaceSetup): Promise<void> {
  await ingestRetrying(setup, [
    blog({ userId: RENAMED }, 'renamed-blog'),
    blog({ userId: USER }, 'user-blog'),
    alias('renamed-alias', USER, RENAMED),
  ]);
}

/**
 * Ingests an identify of `renamed` from `browser` once, without retries,
 * so a request that fails under the race fails the test.
 */
function identifyRenamed(setup: RaceSetup, browser: string) {
  return ingestMessages(setup.deps, {
    sourceId: 'web',
    messages: [identify(RENAMED, 'CFO', browser)],
    receivedAt: setup.clock.now,
  });
}

/** Checks that nothing of `user` is left and `browser` is `renamed`. */
async function expectUserGone(setup: RaceSetup, browser: string) {
  const items = await scanTable(setup);
  expect(tableViolations(items)).toEqual([]);
  const left = items.filter((item) => item.PK === `LEAD#${USER}`);
  expect(left.map((item) => `${item.SK} ${item.entity}`)).toEqual([]);
  const tombstone = await setup.repository.getLead(`anon:${browser}`);
  expect(tombstone?.mergedInto).toBe(RENAMED);
  // The browser's id names a stored lead, the one its identify started.
  const view = await getLead(setup.deps, `anon:${browser}`);
  expect(view.leadId).toBe(RENAMED);
}

describe('identify of a merged id racing erasure', () => {
  it('links new browser to old id', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { repository } = setup.deps;
    const browser = 'browser-new';
    await storeRenamedUser(setup);
    // The identify resolves `renamed` to `user`, and its tombstone write
    // for the browser, whose lead is not stored, waits until `user` is
    // erased.
    const held = holdNextCall(repository, 'saveLeadChange', {
      when: 'before',
      matches: (change) => change.state.leadId === `anon:${browser}`,
    });
    const identifying = identifyRenamed(setup, browser);
    await held.reached;
    const erasure = await eraseLead(setup.deps, USER);
    held.release();
    const result = await identifying;

    expect(erasure.leadId).toBe(USER);
    expect(result.counts.scored).toBe(1);
    expect(result.leads.map((lead) => lead.leadId)).toEqual([RENAMED]);
    await expectUserGone(setup, browser);
  });

  it('links stored browser to old id', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { repository } = setup.deps;
    const browser = 'browser-stored';
    await storeRenamedUser(setup);
    await ingestRetrying(setup, [
      blog({ anonymousId: browser }, 'browser-blog'),
    ]);
    // The identify resolves `renamed` to `user` and reads the browser's
    // lead, and `user` is erased before it reads `user` to merge into.
    const held = holdNextCall(repository, 'getLead', {
      when: 'after',
      matches: (leadId) => leadId === `anon:${browser}`,
    });
    const identifying = identifyRenamed(setup, browser);
    await held.reached;
    const erasure = await eraseLead(setup.deps, USER);
    held.release();
    const result = await identifying;

    expect(erasure.leadId).toBe(USER);
    expect(result.counts.scored).toBe(1);
    expect(result.leads.map((lead) => lead.leadId)).toEqual([RENAMED]);
    await expectUserGone(setup, browser);
    // The browser's page view moved to `renamed` with its identify.
    const events = await repository.listEvents(RENAMED, 10);
    expect(events.events.map((stored) => stored.event.messageId)).toEqual(
      expect.arrayContaining(['browser-blog']),
    );
  });
});
