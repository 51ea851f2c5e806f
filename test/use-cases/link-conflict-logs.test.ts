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

  it('logs a repeated conflict once an hour', async () => {
    const { deps, clock, log } = await realDependencies();
    const from = 'anon:shared-browser';
    await linkIdentity(deps, { from, to: 'first-user' }, clock.now);
    const claim = (at: number) =>
      linkIdentity(deps, { from, to: 'second-user' }, at);
    const logged = () =>
      log.entries.filter(
        (entry) =>
          entry.message === 'identity link conflict' &&
          entry.fields?.sourceLeadId === from,
      ).length;

    await claim(clock.now);
    await claim(clock.now + 1_000);
    await claim(clock.now + 59 * 60_000);
    expect(logged()).toBe(1);

    const later = await claim(clock.now + 61 * 60_000);
    expect(later.status).toBe('conflict');
    expect(logged()).toBe(2);
  });
});
