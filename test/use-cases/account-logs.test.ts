import { describe, expect, it, vi } from 'vitest';
import { ConcurrencyError } from '../../functions/domain/errors.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { VersionConflictError } from '../../functions/ports/lead-repository.js';
import { checkAccounts } from '../../functions/use-cases/check-accounts.js';
import type { ScoringDependencies } from '../../functions/use-cases/dependencies.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { engagedMember } from '../fixtures/messages.js';
import { accountModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import {
  type EntryFault,
  FAULTS,
  faultyDependencies,
} from '../support/fault-injection.js';

/**
 * A family's domain, which names people. Lead ids are opaque, so the
 * domain can reach a log line only through an account id.
 */
const DOMAIN = 'zorquil-family.example';

/** Ingests a committee that qualifies the account `domain:<DOMAIN>`. */
async function qualifyAccount(deps: ScoringDependencies, now: number) {
  for (const [userId, title] of [
    ['lead-ann', 'Chief Procurement Officer'],
    ['lead-carl', 'CFO'],
    ['lead-dora', 'VP Finance'],
  ] as const) {
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: engagedMember(userId, title, {
        email: `${userId}@${DOMAIN}`,
      }),
      receivedAt: now,
    });
  }
}

/** A sole trader's company name, which names a person. */
const COMPANY = 'Zorquil Bakery';

/** Ingests a committee without email that qualifies `company:<COMPANY>`. */
async function qualifyCompanyAccount(deps: ScoringDependencies, now: number) {
  for (const [userId, title] of [
    ['lead-ann', 'Chief Procurement Officer'],
    ['lead-carl', 'CFO'],
    ['lead-dora', 'VP Finance'],
  ] as const) {
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: engagedMember(userId, title, {
        company: { name: COMPANY, employee_count: 5000 },
      }),
      receivedAt: now,
    });
  }
}

/**
 * Returns every recorded log call as one JSON text, with the message and
 * stack of each error, as the Powertools Logger writes them.
 */
function logText(entries: readonly unknown[]): string {
  return JSON.stringify(entries, (_key, value) =>
    value instanceof Error
      ? { message: value.message, stack: value.stack }
      : value,
  );
}

describe('account ids in logs', () => {
  it('hashes a domain account of published events', async () => {
    const { deps, log, clock, published } = await realDependencies({
      model: accountModel(),
    });

    await qualifyAccount(deps, clock.now);

    const accountEvents = published.filter(
      (event) => event.detailType === 'Account Qualified',
    );
    expect(accountEvents).toHaveLength(1);
    const publishedLines = log.entries.filter(
      (entry) =>
        entry.message === 'event published' &&
        entry.fields?.detailType === 'Account Qualified',
    );
    expect(publishedLines).toHaveLength(1);
    expect(publishedLines[0]?.fields?.accountId).toMatch(
      /^domain sha256:[0-9a-f]{64}$/,
    );
    expect(logText(log.entries)).not.toContain(DOMAIN);
  });

  it('hashes a company account of published events', async () => {
    const { deps, log, clock, published } = await realDependencies({
      model: accountModel(),
    });

    await qualifyCompanyAccount(deps, clock.now);

    const accountEvents = published.filter(
      (event) => event.detailType === 'Account Qualified',
    );
    expect(accountEvents).toHaveLength(1);
    expect(accountEvents[0]?.detail.accountId).toBe('company:zorquil bakery');
    const changed = log.entries.filter(
      (entry) => entry.message === 'account status changed',
    );
    expect(changed).toHaveLength(1);
    expect(changed[0]?.fields?.accountId).toMatch(
      /^company sha256:[0-9a-f]{64}$/,
    );
    expect(logText(log.entries).toLowerCase()).not.toContain('zorquil');
  });

  it.each([
    ['event rejected by the bus', FAULTS.invalid],
    ['event not accepted by the bus', FAULTS.throttled],
  ])('hashes a domain account in %s', async (message, failure) => {
    const fault: { current: EntryFault } = {
      current: (_eventId, _call, detail) =>
        typeof detail.accountId === 'string' ? failure : undefined,
    };
    const context = await faultyDependencies(fault);
    const deps = { ...context.deps, model: accountModel() };

    await qualifyAccount(deps, context.clock.now);

    const lines = context.log.entries.filter(
      (entry) => entry.message === message,
    );
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]?.fields?.accountId).toMatch(/^domain sha256:[0-9a-f]{64}$/);
    expect(logText(context.log.entries)).not.toContain(DOMAIN);
  });

  it('hashes a domain account of a failed sweep item', async () => {
    const { deps, log, clock, repository } = await realDependencies({
      model: accountModel(),
    });
    await qualifyAccount(deps, clock.now);
    // Reading the account fails, so the sweep logs its due account item.
    vi.spyOn(repository, 'getAccount').mockRejectedValue(
      new Error('account read failed'),
    );

    const result = await runSweep(deps, {
      now: clock.now + 400 * DAY_MS,
      deadline: Number.POSITIVE_INFINITY,
    });

    expect(result.incomplete).toBe(true);
    const failed = log.entries.filter(
      (entry) =>
        entry.message === 'sweep item failed' &&
        entry.fields?.kind === 'account',
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]?.fields?.accountId).toMatch(
      /^domain sha256:[0-9a-f]{64}$/,
    );
    expect(logText(log.entries)).not.toContain(DOMAIN);
  });

  it('names no domain in an account conflict error', async () => {
    const { deps, clock, repository } = await realDependencies({
      model: accountModel(),
    });
    await qualifyAccount(deps, clock.now);
    vi.spyOn(repository, 'saveAccountChange').mockRejectedValue(
      new VersionConflictError(`domain:${DOMAIN}`),
    );

    const error = await checkAccounts(
      deps,
      [`domain:${DOMAIN}`],
      clock.now + 400 * DAY_MS,
    ).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(String(error)).not.toContain(DOMAIN);
  });
});
