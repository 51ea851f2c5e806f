import { describe, expect, it } from 'vitest';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { alias, blog, identify } from '../fixtures/erasure-leads.js';
import { accountModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import { holdNextCall } from '../support/held-call.js';
import {
  ingestRetrying,
  scanTable,
  tableViolations,
} from './support/table-check.js';

describe('probe: identify through a tombstone racing erasure', () => {
  it('leaves no link to the erased lead', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { repository } = setup.deps;
    const renamed = 'renamed@gmail.com';
    const user = 'user@gmail.com';
    const browser = 'browser-late';
    // `renamed` is merged into `user` by an alias.
    await ingestRetrying(setup, [
      blog({ userId: renamed }, 'renamed-blog'),
      blog({ userId: user }, 'user-blog'),
      alias('renamed-alias', user, renamed),
    ]);
    // The identify of the old user id resolves it to `user`, and its
    // tombstone write for the new browser waits until `user` is erased.
    const held = holdNextCall(repository, 'saveLeadChange', {
      when: 'before',
      matches: (change) => change.state.leadId === `anon:${browser}`,
    });
    const identifying = ingestRetrying(setup, [
      identify(renamed, 'CFO', browser),
    ]);
    await held.reached;
    const erasure = await eraseLead(setup.deps, user);
    held.release();
    await identifying;

    expect(erasure.leadId).toBe(user);
    const items = await scanTable(setup);
    expect(tableViolations(items)).toEqual([]);
    const left = items.filter((item) => item.PK === `LEAD#${user}`);
    expect(left.map((item) => `${item.SK} ${item.entity}`)).toEqual([]);
    // The browser's id names a stored lead, the one its identify started.
    const view = await getLead(setup.deps, `anon:${browser}`);
    expect(view.leadId).toBe(renamed);
  });
});
