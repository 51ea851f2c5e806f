import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/workload.js';
import {
  ConcurrencyError,
  NotFoundError,
} from '../../functions/domain/errors.js';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { alias, blog, demo, identify } from '../fixtures/erasure-leads.js';
import { accountModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import { holdNextCall } from '../support/held-call.js';
import {
  ingestRetrying,
  pause,
  type RaceSetup,
  raceRounds,
  retryingConflicts,
  scanTable,
  type TableItem,
  tableViolations,
} from './support/table-check.js';

const ROUNDS = raceRounds(2);

/**
 * Stores a qualified lead with an anonymous id merged into it and two
 * peers of its account, and returns the message ids it stored.
 */
async function storeCommittee(setup: RaceSetup, round: number) {
  const lead = `erin-${round}@acme.example`;
  const anonymous = `browser-${round}`;
  const peers = [`cfo-${round}@acme.example`, `cio-${round}@acme.example`];
  const messages = [
    blog({ anonymousId: anonymous }, `${round}-anonymous-blog`),
    identify(lead, 'CPO', anonymous),
    demo({ userId: lead }, `${round}-lead-demo`),
    blog({ userId: lead }, `${round}-lead-blog`),
    identify(peers[0] as string, 'CFO'),
    demo({ userId: peers[0] as string }, `${round}-cfo-demo`),
    identify(peers[1] as string, 'CIO'),
    demo({ userId: peers[1] as string }, `${round}-cio-demo`),
  ];
  await ingestRetrying(setup, messages);
  return {
    lead,
    anonymous,
    peers,
    messageIds: messages.map((m) => m.messageId),
  };
}

describe('erasure racing ingest', () => {
  it('leaves nothing of the lead or half-written', {
    timeout: ROUNDS * 20_000,
  }, async () => {
    const setup = await realDependencies({ model: accountModel() });
    for (let round = 0; round < ROUNDS; round += 1) {
      const random = seededRandom(1000 + round);
      const { lead, anonymous, peers, messageIds } = await storeCommittee(
        setup,
        round,
      );
      const writers = [
        (i: number) => blog({ userId: lead }, `${round}-lead-${i}`),
        (i: number) => blog({ anonymousId: anonymous }, `${round}-anon-${i}`),
        (i: number) => ({
          ...identify(lead, 'Head of Procurement', `${anonymous}-${i}`),
          messageId: `${round}-identify-${i}`,
        }),
        (i: number) =>
          demo({ userId: peers[i % 2] as string }, `${round}-peer-${i}`),
      ];
      const racing = writers.map(async (write, writer) => {
        for (let i = 0; i < 6; i += 1) {
          await pause(random, 15);
          await ingestRetrying(setup, [write(i * 10 + writer)]);
        }
      });
      const erasure = (async () => {
        await pause(random, 60);
        await retryingConflicts(() => eraseLead(setup.deps, lead)).catch(
          (error: unknown) => {
            if (!(error instanceof NotFoundError)) throw error;
          },
        );
      })();
      await Promise.all([...racing, erasure]);

      const items = await scanTable(setup);
      expect(tableViolations(items)).toEqual([]);
      const erasedMessages = new Set(messageIds.slice(0, 4));
      const left = items.filter((item) =>
        erasedMessages.has(String(item.messageId)),
      );
      expect(left).toEqual([]);
      const state = items.find((item) => item.PK === `LEAD#${lead}`);
      expect(JSON.stringify(state?.traits ?? {})).not.toContain('"CPO"');
    }
  });
});

describe('concurrent erasures racing ingest', () => {
  it('erase each incarnation once, under its own event ids', {
    timeout: ROUNDS * 20_000,
  }, async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { deps } = setup;
    // The clock does not move, so every incarnation of the lead is first
    // written in the same millisecond.
    for (let round = 0; round < ROUNDS; round += 1) {
      const random = seededRandom(2000 + round);
      const lead = `ids-${round}@acme.example`;
      const qualifying = (tag: string) => [
        { ...identify(lead, 'CPO'), messageId: `${round}-${tag}-identify` },
        demo({ userId: lead }, `${round}-${tag}-demo`),
        blog({ userId: lead }, `${round}-${tag}-blog`),
      ];
      await ingestRetrying(setup, qualifying('first'));
      const publishedBefore = setup.published.length;

      const erasures = Array.from({ length: 3 }, async () => {
        await pause(random, 40);
        return retryingConflicts(() => eraseLead(deps, lead));
      });
      const ingests = Array.from({ length: 8 }, async (_, i) => {
        await pause(random, 40);
        await ingestRetrying(setup, qualifying(`again-${i}`));
      });
      const outcomes = await Promise.allSettled(erasures);
      await Promise.all(ingests);

      const erased = outcomes.filter(
        (outcome) => outcome.status === 'fulfilled',
      );
      // An erasure returns 503 while a request is still publishing the
      // events it stored, and its retries can run out meanwhile.
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') {
          expect([NotFoundError, ConcurrencyError]).toContain(
            outcome.reason.constructor,
          );
        }
      }
      expect(erased.length).toBeGreaterThanOrEqual(1);
      const published = setup.published.slice(publishedBefore);
      const idsOf = (detailType: string) =>
        published
          .filter((event) => event.detailType === detailType)
          .map((event) => event.eventId);
      const erasedIds = idsOf('Lead Erased');
      expect(erasedIds).toHaveLength(erased.length);
      expect(new Set(erasedIds).size).toBe(erasedIds.length);
      const qualifiedIds = idsOf('Lead Qualified');
      expect(new Set(qualifiedIds).size).toBe(qualifiedIds.length);
      expect(tableViolations(await scanTable(setup))).toEqual([]);
    }
  });
});

/**
 * Makes the next read of the state of `leadId` wait after it returns
 * until `release` is called. `read` resolves once that read is done.
 */
function holdNextLeadRead(setup: RaceSetup, leadId: string) {
  const held = holdNextCall(setup.deps.repository, 'getLead', {
    when: 'after',
    matches: (id) => id === leadId,
  });
  return { read: held.reached, release: held.release };
}

/** Stores an anonymous lead with a demo request and a user lead. */
async function seedMerge(setup: RaceSetup, anonymous: string, lead: string) {
  await ingestRetrying(setup, [
    demo({ anonymousId: anonymous }, 'anonymous-demo'),
    blog({ userId: lead }, 'lead-blog'),
  ]);
}

/**
 * Checks that an erasure requested for `anon:<anonymous>` erased the lead
 * it merged into, and that no item of either lead is left.
 */
async function expectMergedLeadErased(
  setup: RaceSetup,
  erasure: ReturnType<typeof eraseLead>,
  lead: string,
  anonymous: string,
) {
  const { leadId, result } = await erasure;
  expect(leadId).toBe(lead);
  expect(result.requestedLeadId).toBe(`anon:${anonymous}`);
  const items = await scanTable(setup);
  expect(tableViolations(items)).toEqual([]);
  const left = items.filter(
    (item) =>
      item.PK === `LEAD#${lead}` || item.PK === `LEAD#anon:${anonymous}`,
  );
  expect(left).toEqual([]);
  const demoLeft = items.filter((item) => item.messageId === 'anonymous-demo');
  expect(demoLeft).toEqual([]);
}

describe('erasure racing a merge', () => {
  it('erases the lead merged after resolving', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const anonymous = 'browser-merging';
    const lead = 'merging@acme.example';
    await seedMerge(setup, anonymous, lead);
    // The erasure resolves the anonymous id while it is still a lead of
    // its own, and the identify merges it before the erasure reads again.
    const held = holdNextLeadRead(setup, `anon:${anonymous}`);
    const erasure = eraseLead(setup.deps, `anon:${anonymous}`);
    await held.read;
    await ingestRetrying(setup, [identify(lead, 'CFO', anonymous)]);
    held.release();

    await expectMergedLeadErased(setup, erasure, lead, anonymous);
  });

  it('erases the lead merged before the hold', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { repository } = setup.deps;
    const anonymous = 'browser-holding';
    const lead = 'holding@acme.example';
    await seedMerge(setup, anonymous, lead);
    // The erasure reads the anonymous lead before the identify merges it,
    // and places its hold only after the merge has finished.
    const held = holdNextCall(repository, 'holdForErasure', {
      when: 'before',
    });
    const erasure = eraseLead(setup.deps, `anon:${anonymous}`);
    await held.reached;
    await ingestRetrying(setup, [identify(lead, 'CFO', anonymous)]);
    held.release();

    await expectMergedLeadErased(setup, erasure, lead, anonymous);
  });

  it('links the id anew when the identify waits for the hold', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { repository } = setup.deps;
    const anonymous = 'browser-waiting';
    const lead = 'waiting@acme.example';
    await seedMerge(setup, anonymous, lead);
    const rulesOf = (view: Awaited<ReturnType<typeof getLead>>) =>
      view.explanation.flatMap((entry) =>
        entry.kind === 'intent' ? [entry.ruleId] : [],
      );
    const before = rulesOf(await getLead(setup.deps, lead));
    expect(before).not.toEqual([]);
    // The erasure places its hold before the identify arrives, so
    // the identify waits and links the id only after the erasure.
    const held = holdNextCall(repository, 'holdForErasure', {
      when: 'after',
    });
    const erasure = eraseLead(setup.deps, `anon:${anonymous}`);
    await held.reached;
    const merge = ingestRetrying(setup, [identify(lead, 'CFO', anonymous)]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    held.release();

    const { leadId, result } = await erasure;
    expect(leadId).toBe(`anon:${anonymous}`);
    expect(result.requestedLeadId).toBeUndefined();
    await merge;
    const view = await getLead(setup.deps, `anon:${anonymous}`);
    expect(view.leadId).toBe(lead);
    expect(view.requestedLeadId).toBe(`anon:${anonymous}`);
    expect(rulesOf(view)).toEqual(before);
    const items = await scanTable(setup);
    expect(tableViolations(items)).toEqual([]);
    const demoLeft = items.filter(
      (item) => item.messageId === 'anonymous-demo',
    );
    expect(demoLeft).toEqual([]);
  });

  it('relinks a restated link after erasure', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { repository } = setup.deps;
    const anonymous = 'browser-restated';
    const lead = 'restated@acme.example';
    await seedMerge(setup, anonymous, lead);
    await ingestRetrying(setup, [identify(lead, 'CFO', anonymous)]);
    // The next message restates the link, which its request finds made
    // before the erasure. Its write of the lead runs only after the
    // erasure has deleted the lead and the link.
    const writing = holdNextCall(repository, 'saveLeadChange', {
      when: 'before',
      matches: (change) => change.state.leadId === lead,
    });
    const restating = ingestRetrying(setup, [
      demo({ userId: lead, anonymousId: anonymous }, 'restated-demo'),
    ]);
    await writing.reached;
    await eraseLead(setup.deps, lead);
    writing.release();
    await restating;

    const view = await getLead(setup.deps, `anon:${anonymous}`);
    expect(view.leadId).toBe(lead);
    expect(view.requestedLeadId).toBe(`anon:${anonymous}`);
    const items = await scanTable(setup);
    expect(tableViolations(items)).toEqual([]);
  });

  it('erases a merge target before its events move', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { repository } = setup.deps;
    const anonymous = 'browser-first';
    const lead = 'first-seen@acme.example';
    await ingestRetrying(setup, [
      demo({ anonymousId: anonymous }, 'anonymous-demo'),
    ]);
    // The identify makes the anonymous lead a tombstone and creates the
    // user's lead in the same transaction. Its move of the events waits
    // until the erasure has run.
    const held = holdNextCall(repository, 'listEvents', {
      when: 'after',
      matches: (leadId) => leadId === `anon:${anonymous}`,
    });
    const merge = ingestRetrying(setup, [identify(lead, 'CFO', anonymous)]);
    await held.reached;

    const { leadId, result } = await eraseLead(setup.deps, `anon:${anonymous}`);
    held.release();
    await merge;

    expect(leadId).toBe(lead);
    expect(result.requestedLeadId).toBe(`anon:${anonymous}`);
    const items = await scanTable(setup);
    expect(tableViolations(items)).toEqual([]);
    const demoLeft = items.filter(
      (item) => item.messageId === 'anonymous-demo',
    );
    expect(demoLeft).toEqual([]);
  });
});

/**
 * Stores two events of `old` and one of `renamed`, then sends the alias
 * that merges `old` into `renamed`. The alias's move of the events of
 * `old` waits until `meanwhile` has run: the erasure of the merged lead
 * and further requests. Returns the alias request's result and the
 * table afterwards.
 */
async function aliasAroundErasure(
  setup: RaceSetup,
  old: string,
  renamed: string,
  meanwhile: () => Promise<void>,
) {
  await ingestRetrying(setup, [
    blog({ userId: old }, 'old-blog-1'),
    blog({ userId: old }, 'old-blog-2'),
    blog({ userId: renamed }, 'renamed-blog'),
  ]);
  const held = holdNextCall(setup.deps.repository, 'listEvents', {
    when: 'before',
    matches: (leadId) => leadId === old,
  });
  const aliasing = ingestRetrying(setup, [alias('alias', renamed, old)]);
  await held.reached;
  await meanwhile();
  held.release();
  const result = await aliasing;
  return { result, items: await scanTable(setup) };
}

function eventsUnder(items: readonly TableItem[], leadId: string): string[] {
  return items
    .filter((item) => item.PK === `LEAD#${leadId}` && item.entity === 'event')
    .map((item) => String(item.messageId))
    .sort();
}

describe('merge racing an erasure of its lead', () => {
  it('moves no event of the lead stored again', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const old = 'old-id@acme.example';
    const renamed = 'new-id@acme.example';

    const { result, items } = await aliasAroundErasure(
      setup,
      old,
      renamed,
      async () => {
        const { leadId } = await eraseLead(setup.deps, old);
        expect(leadId).toBe(renamed);
        await ingestRetrying(setup, [
          blog({ userId: old }, 'again-1'),
          blog({ userId: old }, 'again-2'),
        ]);
      },
    );

    expect(result.counts.scored).toBe(1);
    expect(tableViolations(items)).toEqual([]);
    expect(eventsUnder(items, old)).toEqual(['again-1', 'again-2']);
    const stored = await setup.deps.repository.getLead(old);
    expect(stored?.mergedInto).toBeUndefined();
    expect(stored?.eventCount).toBe(2);
    // The alias message and its link of the anonymous id that it had
    // not made yet are new activity after the erasure.
    expect(eventsUnder(items, renamed)).toEqual(['alias']);
    const anonymous = await setup.deps.repository.getLead(`anon:${old}`);
    expect(anonymous?.mergedInto).toBe(renamed);
  });

  it('moves no event when the target merged back', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const old = 'old-back@acme.example';
    const renamed = 'new-back@acme.example';

    const { result, items } = await aliasAroundErasure(
      setup,
      old,
      renamed,
      async () => {
        await eraseLead(setup.deps, old);
        await ingestRetrying(setup, [
          blog({ userId: old }, 'again-1'),
          alias('alias-back', old, renamed),
        ]);
      },
    );

    // The first alias now resolves its target to the id it merges.
    expect(result.counts.scored).toBe(1);
    expect(tableViolations(items)).toEqual([]);
    expect(eventsUnder(items, old)).toContain('again-1');
    expect((await setup.deps.repository.getLead(renamed))?.mergedInto).toBe(
      old,
    );
  });
});

/**
 * Stores one event of `old` and one of `renamed`, then sends the alias
 * that merges `old` into `renamed`. The alias waits once it has moved the
 * events of `old`, before it marks the merge complete, until `completing`
 * is released. Returns the alias request and that held call.
 */
async function aliasAwaitingCompletion(
  setup: RaceSetup,
  old: string,
  renamed: string,
) {
  await ingestRetrying(setup, [
    blog({ userId: old }, 'old-blog'),
    blog({ userId: renamed }, 'renamed-blog'),
  ]);
  const completing = holdNextCall(setup.deps.repository, 'saveLeadChange', {
    when: 'before',
    matches: (change) =>
      change.state.leadId === old && change.state.mergePending === false,
  });
  const aliasing = ingestRetrying(setup, [alias('alias', renamed, old)]);
  await completing.reached;
  return { aliasing, completing };
}

describe('merge completing during an erasure', () => {
  it('leaves no link to a later lead', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { repository } = setup.deps;
    const old = 'old-done@acme.example';
    const renamed = 'new-done@acme.example';
    const { aliasing, completing } = await aliasAwaitingCompletion(
      setup,
      old,
      renamed,
    );
    // The erasure waits after it has deleted the items of `renamed` and
    // before it deletes those of `old`.
    const deleting = holdNextCall(repository, 'deleteLeadData', {
      when: 'before',
      matches: (leadId) => leadId === old,
    });
    const erasure = eraseLead(setup.deps, old);
    await deleting.reached;
    // The next link of the alias writes only after the merge is complete.
    const linking = holdNextCall(repository, 'saveLeadChange', {
      when: 'before',
      matches: (change) => change.state.leadId === `anon:${old}`,
    });
    completing.release();
    await linking.reached;
    deleting.release();
    await erasure;
    linking.release();
    await aliasing;

    // `old` is stored again, and an erasure of the lead stored again
    // under `renamed` must leave it.
    await ingestRetrying(setup, [blog({ userId: old }, 'old-again')]);
    await eraseLead(setup.deps, renamed);

    const stored = await repository.getLead(old);
    expect(stored?.mergedInto).toBeUndefined();
    expect(stored?.eventCount).toBe(1);
    const items = await scanTable(setup);
    expect(eventsUnder(items, old)).toEqual(['old-again']);
    expect(tableViolations(items)).toEqual([]);
  });
});

describe('merge completing during an erasure of its target', () => {
  it('erases the tombstone written meanwhile', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { repository } = setup.deps;
    const old = 'old-late@acme.example';
    const renamed = 'new-late@acme.example';
    const { aliasing, completing } = await aliasAwaitingCompletion(
      setup,
      old,
      renamed,
    );
    // The erasure of `renamed` has deleted the items of the tombstone
    // `old` and waits after reading its version.
    const deletingData = holdNextCall(repository, 'deleteLeadData', {
      when: 'after',
      matches: (leadId) => leadId === old,
    });
    const erasure = eraseLead(setup.deps, renamed);
    await deletingData.reached;
    const reading = holdNextCall(repository, 'getLead', {
      when: 'after',
      matches: (leadId) => leadId === old,
    });
    deletingData.release();
    await reading.reached;
    // The merge completion writes the tombstone, so the erasure's delete
    // of it fails its version condition. The alias links the anonymous
    // id of `old` only after that write.
    const linking = holdNextCall(repository, 'saveLeadChange', {
      when: 'before',
      matches: (change) => change.state.leadId === `anon:${old}`,
    });
    completing.release();
    await linking.reached;
    reading.release();
    const { leadId } = await erasure;

    expect(leadId).toBe(renamed);
    expect(await repository.getLead(old)).toBeUndefined();
    const items = await scanTable(setup);
    const left = items.filter(
      (item) => item.PK === `LEAD#${old}` || item.PK === `LEAD#${renamed}`,
    );
    expect(left).toEqual([]);
    expect(tableViolations(items)).toEqual([]);
    linking.release();
    await aliasing;
  });
});
