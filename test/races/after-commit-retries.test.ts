import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../functions/domain/errors.js';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { getAccount } from '../../functions/use-cases/get-account.js';
import { demoRequestingMember, qualifyingBatch } from '../fixtures/messages.js';
import { accountModel } from '../fixtures/models.js';
import {
  type FaultPlan,
  failFirstCommitMentioning,
  faultyDynamoDependencies,
} from './support/faulty-dynamodb.js';
import {
  ingestFromWeb,
  retryingConflicts,
  sweepAfterGrace,
} from './support/table-check.js';

type Setup = Awaited<ReturnType<typeof faultyDynamoDependencies>>;

const PASS: FaultPlan = () => 'pass';

function publishedOf(setup: Setup, detailType: string) {
  return setup.published.filter((event) => event.detailType === detailType);
}

/**
 * Stores a qualifying batch for `leadId` while the bus is unreachable, so
 * its Lead Qualified waits in the outbox. The publisher stays failing;
 * `publisher` is the working one.
 */
async function leadWithUnsentEvent(leadId: string) {
  const plan = { current: PASS };
  const setup = await faultyDynamoDependencies(plan);
  const { publisher } = setup.deps;
  setup.deps.publisher = {
    publish: async () => {
      throw new Error('socket hang up');
    },
  };
  await ingestFromWeb(setup, qualifyingBatch(leadId));
  return { plan, setup, publisher };
}

/**
 * Makes the first outbox claim commit and lose its response, so the SDK
 * sends it again. Returns whether that happened.
 */
function loseFirstClaimResponse(plan: { current: FaultPlan }): () => boolean {
  let lost = false;
  plan.current = (command, input) => {
    const isClaim =
      command === 'UpdateItemCommand' &&
      JSON.stringify(input).includes(':retryAt');
    if (!isClaim || lost) return 'pass';
    lost = true;
    return 'lost-response';
  };
  return () => lost;
}

describe('requests retried after their commit', () => {
  it('store and publish batch once', async () => {
    const plan = { current: PASS };
    const setup = await faultyDynamoDependencies(plan);
    const failed = failFirstCommitMentioning(plan, 'same-batch-demo');

    const first = await ingestFromWeb(
      setup,
      qualifyingBatch('same-batch'),
    ).catch((error: unknown) => error);
    const retry = await ingestFromWeb(setup, qualifyingBatch('same-batch'));
    await sweepAfterGrace(setup);

    expect(failed()).toBe(true);
    expect(first).toBeInstanceOf(Error);
    expect(retry.counts.duplicate).toBe(3);
    const events = await setup.repository.listEvents('same-batch', 10);
    expect(events.events).toHaveLength(3);
    expect(publishedOf(setup, 'Lead Qualified')).toHaveLength(1);
  });

  it('publish an account qualification once', async () => {
    const plan = { current: PASS };
    const setup = await faultyDynamoDependencies(plan, {
      model: accountModel(),
    });
    const failed = failFirstCommitMentioning(plan, 'Account Qualified');
    const send = (userId: string, title: string) =>
      retryingConflicts(async () => {
        try {
          return await ingestFromWeb(
            setup,
            demoRequestingMember(userId, title),
          );
        } catch (error) {
          // A timeout after the commit reaches the client as a 503, and
          // the client sends the batch again.
          if (error instanceof Error && error.name === 'TimeoutError') {
            return ingestFromWeb(setup, demoRequestingMember(userId, title));
          }
          throw error;
        }
      });

    await Promise.all([
      send('cpo@pair.example', 'CPO'),
      send('cfo@pair.example', 'CFO'),
    ]);
    await sweepAfterGrace(setup);

    expect(failed()).toBe(true);
    const account = await getAccount(setup.deps, 'domain:pair.example');
    expect(account.status).toBe('mqa');
    expect(account.episode).toBe(1);
    const qualified = publishedOf(setup, 'Account Qualified');
    expect(qualified).toHaveLength(1);
  });

  it('announce an erasure once', async () => {
    const plan = { current: PASS };
    const setup = await faultyDynamoDependencies(plan);
    await ingestFromWeb(setup, qualifyingBatch('erased-once'));
    const failed = failFirstCommitMentioning(plan, 'Lead Erased');

    const first = await eraseLead(setup.deps, 'erased-once').catch(
      (error: unknown) => error,
    );
    const retry = await eraseLead(setup.deps, 'erased-once').catch(
      (error: unknown) => error,
    );
    await sweepAfterGrace(setup);

    expect(failed()).toBe(true);
    expect(first).toBeInstanceOf(Error);
    expect(retry).toBeInstanceOf(NotFoundError);
    expect(await setup.repository.getLead('erased-once')).toBeUndefined();
    expect(publishedOf(setup, 'Lead Erased')).toHaveLength(1);
  });

  it('erase after claim response lost', async () => {
    const { plan, setup, publisher } =
      await leadWithUnsentEvent('claimed-twice');
    setup.deps.publisher = publisher;
    const lost = loseFirstClaimResponse(plan);

    const erasure = await eraseLead(setup.deps, 'claimed-twice');

    expect(lost()).toBe(true);
    expect(erasure.result.itemsDeleted).toBeGreaterThan(0);
    expect(publishedOf(setup, 'Lead Qualified')).toHaveLength(1);
  });

  it('counts a re-sent sweep claim once', async () => {
    const { plan, setup } = await leadWithUnsentEvent('claimed-once');
    const lost = loseFirstClaimResponse(plan);

    await sweepAfterGrace(setup);

    expect(lost()).toBe(true);
    const entries = await setup.repository.listOutboxEntries('claimed-once');
    expect(entries.map((entry) => entry.attempts)).toEqual([1]);
  });
});
