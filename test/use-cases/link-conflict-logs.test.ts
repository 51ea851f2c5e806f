import { describe, expect, it } from 'vitest';
import { linkIdentity } from '../../functions/use-cases/link-identities.js';
import { realDependencies } from '../support/dependencies.js';

describe('identity link conflict log', () => {
  it.each([
    ['a user id', 'old-login-7'],
    ['an anonymous id', 'anon:device-7'],
  ])('names the source lead when it is %s', async (_kind, from) => {
    const { deps, clock, log } = await realDependencies();
    await linkIdentity(deps, { from, to: 'user-first' }, clock.now);

    const outcome = await linkIdentity(
      deps,
      { from, to: 'user-second' },
      clock.now,
    );

    expect(outcome.status).toBe('conflict');
    const conflicts = log.entries.filter(
      (entry) => entry.message === 'identity link conflict',
    );
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]?.fields).toEqual({
      sourceLeadId: from,
      linkedLeadId: 'user-first',
      requestedLeadId: 'user-second',
    });
  });
});
