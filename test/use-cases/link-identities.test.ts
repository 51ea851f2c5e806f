import { describe, expect, it } from 'vitest';
import { ConcurrencyError } from '../../functions/domain/errors.js';
import { tallyOf } from '../../functions/domain/intent-tallies.js';
import { tombstoneOf } from '../../functions/domain/merge.js';
import { scoreLead } from '../../functions/domain/score.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { recycleLead } from '../../functions/use-cases/recycle-lead.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { testModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';

const model = testModel();

type Deps = Awaited<ReturnType<typeof realDependencies>>;

let sequence = 0;

/** A Segment message `daysAgo` days before the clock's time. */
function message(
  setup: Deps,
  fields: Record<string, unknown>,
  daysAgo = 0,
): Record<string, unknown> {
  sequence += 1;
  return {
    messageId: `msg-${sequence}`,
    timestamp: new Date(setup.clock.now - daysAgo * DAY_MS).toISOString(),
    ...fields,
  };
}

const pricing = (anonymousId: string) => ({
  type: 'page',
  anonymousId,
  properties: { path: '/pricing' },
});
const demo = (ids: Record<string, string>) => ({
  type: 'track',
  event: 'Demo Requested',
  ...ids,
});
const cfo = (userId: string, anonymousId?: string) => ({
  type: 'identify',
  userId,
  ...(anonymousId === undefined ? {} : { anonymousId }),
  traits: {
    title: 'CFO',
    company: { employee_count: 5000, industry: 'Manufacturing' },
  },
});

function ingest(setup: Deps, messages: Record<string, unknown>[]) {
  return ingestMessages(setup.deps, {
    sourceId: 'web',
    messages,
    receivedAt: setup.clock.now,
  });
}

/**
 * Marks `from` as merged into `to` without moving its events, as a
 * request that stopped after its first write leaves it.
 */
async function leaveMergePending(
  setup: Deps,
  from: string,
  to: string,
): Promise<void> {
  const stored = await setup.repository.getLead(from);
  const version = stored?.version ?? 0;
  const { state } = tombstoneOf(stored, from, to, model, setup.clock.now);
  await setup.repository.saveLeadChange({
    sourceId: 'identity',
    expectedVersion: version,
    state: { ...state, version: version + 1 },
    events: [],
    outgoing: [],
  });
}

/** Qualifies the CFO `jane` with a demo request and a pricing view. */
async function qualifyJane(setup: Deps): Promise<void> {
  await ingest(setup, [
    message(setup, cfo('jane')),
    message(setup, demo({ userId: 'jane' })),
    message(setup, {
      type: 'page',
      userId: 'jane',
      properties: { path: '/pricing' },
    }),
  ]);
}

/**
 * Qualifies the CFO `jane`, lets her score fall below the recycle level,
 * and a day after that crossing merges into her an anonymous pricing view
 * made after it. With `sweepOnTime` the sweep reviews her at the
 * crossing; otherwise the merge is the first write after it.
 */
async function mergeAfterRecycleTime(sweepOnTime: boolean) {
  const setup = await realDependencies({ model });
  await qualifyJane(setup);
  const qualified = await setup.repository.getLead('jane');
  expect(qualified?.status).toBe('mql');
  const crossing = qualified?.nextReviewAt ?? Number.NaN;
  if (sweepOnTime) {
    await runSweep(setup.deps, { now: crossing, deadline: Infinity });
  }
  setup.clock.advance(crossing + DAY_MS - setup.clock.now);
  await ingest(setup, [message(setup, pricing('late'))]);
  setup.clock.advance(DAY_MS);

  await ingest(setup, [message(setup, cfo('jane', 'late'))]);

  const jane = await setup.repository.getLead('jane');
  const { entries } = await setup.repository.listHistory('jane', 100);
  const published = setup.published
    .filter((event) => event.leadId === 'jane')
    .map((event) => `${event.detailType} ${event.detail.occurredAt}`);
  return { crossing, jane, history: entries.reverse(), published };
}

/**
 * Qualifies `jane`, lets sales recycle her and gives her a pricing view a
 * day later, so she qualifies again when her cooldown ends.
 */
async function recycleJaneBySales(setup: Deps): Promise<void> {
  await qualifyJane(setup);
  await recycleLead(setup.deps, { leadId: 'jane', reason: 'no budget' });
  setup.clock.advance(DAY_MS);
  await ingest(setup, [
    message(setup, {
      type: 'page',
      userId: 'jane',
      properties: { path: '/pricing' },
    }),
  ]);
}

/**
 * Sets `jane` up with `prepare` and merges her by alias into `jane-new`
 * `mergeAfterMs` after her review time, which may be negative. With
 * `sweepOnTime` the sweep reviews her at that time, if it comes before
 * the merge. Returns her review time, the merge time, her tombstone,
 * her published events and her history, oldest first.
 */
async function mergeSourceAround(
  prepare: (setup: Deps) => Promise<void>,
  mergeAfterMs: number,
  sweepOnTime: boolean,
) {
  const setup = await realDependencies({ model });
  await prepare(setup);
  const reviewAt =
    (await setup.repository.getLead('jane'))?.nextReviewAt ?? Number.NaN;
  if (sweepOnTime && mergeAfterMs > 0) {
    await runSweep(setup.deps, { now: reviewAt, deadline: Infinity });
  }
  setup.clock.advance(reviewAt + mergeAfterMs - setup.clock.now);

  await ingest(setup, [
    message(setup, { type: 'alias', userId: 'jane-new', previousId: 'jane' }),
  ]);

  const { entries } = await setup.repository.listHistory('jane', 100);
  const published = setup.published
    .filter((event) => event.leadId === 'jane')
    .map((event) => ({
      type: event.detailType,
      occurredAt: event.detail.occurredAt,
      reason: 'reason' in event.detail ? event.detail.reason : undefined,
    }));
  return {
    reviewAt,
    mergedAt: setup.clock.now,
    jane: await setup.repository.getLead('jane'),
    published,
    history: entries.reverse(),
  };
}

async function scoreOf(setup: Deps, leadId: string): Promise<number> {
  const state = await setup.repository.getLead(leadId);
  if (state === undefined) throw new Error(`lead ${leadId} is missing`);
  return scoreLead(state, model, setup.clock.now).score;
}

describe('identity links', () => {
  it('keeps a user id that starts with anon: apart from the anonymous lead', async () => {
    const setup = await realDependencies({ model });

    await ingest(setup, [
      message(setup, pricing('a1')),
      message(setup, demo({ userId: 'anon:a1' })),
    ]);

    const anonymous = await getLead(setup.deps, 'anon:a1');
    const user = await getLead(setup.deps, '~anon:a1');
    const signals = (lead: typeof user) =>
      lead.explanation.map((entry) => entry.ruleId);
    expect(anonymous.leadId).toBe('anon:a1');
    expect(user).toMatchObject({ leadId: '~anon:a1', displayId: 'anon:a1' });
    expect(anonymous.score).toBeGreaterThan(0);
    expect(user.score).toBeGreaterThan(anonymous.score);
    expect(signals(anonymous)).not.toEqual(signals(user));
  });

  it('counts earlier anonymous events for the identified lead', async () => {
    const setup = await realDependencies({ model });
    await ingest(setup, [
      message(setup, pricing('a1'), 20),
      message(setup, demo({ anonymousId: 'a1' }), 10),
    ]);

    const result = await ingest(setup, [message(setup, cfo('jane', 'a1'))]);

    const jane = await setup.repository.getLead('jane');
    const tombstone = await setup.repository.getLead('anon:a1');
    expect(result.leads[0]).toMatchObject({ leadId: 'jane', status: 'mql' });
    expect(jane?.eventCount).toBe(3);
    expect(tombstone).toMatchObject({
      mergedInto: 'jane',
      mergePending: false,
    });
    const decayed =
      50 + 25 * 0.75 ** (20 / 91.3125) + 40 * 0.75 ** (10 / 91.3125);
    expect(await scoreOf(setup, 'jane')).toBeCloseTo(decayed, 6);
    const { events } = await setup.repository.listEvents('anon:a1', 10);
    expect(events).toEqual([]);
  });

  it('routes anonymous events of the same batch to the user', async () => {
    const setup = await realDependencies({ model });

    const result = await ingest(setup, [
      message(setup, pricing('a2'), 1),
      message(setup, cfo('omar', 'a2')),
      message(setup, demo({ anonymousId: 'a2' })),
    ]);

    expect(result.results.map((r) => 'leadId' in r && r.leadId)).toEqual([
      'omar',
      'omar',
      'omar',
    ]);
    expect(result.leads.map((lead) => lead.leadId)).toEqual(['omar']);
    expect(await setup.repository.getLead('anon:a2')).toMatchObject({
      mergedInto: 'omar',
    });
  });

  it('sends later anonymous events to the user', async () => {
    const setup = await realDependencies({ model });
    await ingest(setup, [message(setup, cfo('lina', 'a3'))]);

    const result = await ingest(setup, [message(setup, pricing('a3'))]);

    expect(result.results[0]).toMatchObject({ leadId: 'lina' });
    expect((await setup.repository.getLead('lina'))?.eventCount).toBe(2);
  });

  it('changes nothing when the link is stated again', async () => {
    const setup = await realDependencies({ model });
    await ingest(setup, [
      message(setup, pricing('a4'), 3),
      message(setup, cfo('ravi', 'a4')),
    ]);
    const before = await scoreOf(setup, 'ravi');

    await ingest(setup, [message(setup, cfo('ravi', 'a4'))]);
    await ingest(setup, [
      message(setup, demo({ userId: 'ravi', anonymousId: 'a4' })),
    ]);

    expect(await scoreOf(setup, 'ravi')).toBeCloseTo(before + 40, 6);
    expect((await setup.repository.getLead('ravi'))?.eventCount).toBe(4);
  });

  it('keeps the first user of an anonymous id', async () => {
    const setup = await realDependencies({ model });
    await ingest(setup, [
      message(setup, pricing('shared'), 2),
      message(setup, cfo('first', 'shared'), 1),
    ]);

    await ingest(setup, [message(setup, cfo('second', 'shared'))]);
    const later = await ingest(setup, [message(setup, pricing('shared'))]);

    expect(later.results[0]).toMatchObject({ leadId: 'first' });
    expect((await setup.repository.getLead('first'))?.eventCount).toBe(3);
    expect((await setup.repository.getLead('second'))?.eventCount).toBe(1);
    expect(setup.log.entries.map((entry) => entry.message)).toContain(
      'identity link conflict',
    );
  });

  it('merges once under concurrent requests', async () => {
    const setup = await realDependencies({ model });
    await ingest(
      setup,
      Array.from({ length: 12 }, (_, day) =>
        message(setup, pricing('a5'), day + 1),
      ),
    );

    await Promise.all([
      ingest(setup, [message(setup, cfo('mia', 'a5'))]),
      ingest(setup, [message(setup, cfo('mia', 'a5'))]),
      ingest(setup, [message(setup, pricing('a5'))]),
      ingest(setup, [message(setup, demo({ anonymousId: 'a5' }))]),
    ]);

    const mia = await setup.repository.getLead('mia');
    expect(mia?.eventCount).toBe(16);
    const pricingTally = mia && tallyOf(mia.intent, 'pricing-page');
    expect(pricingTally?.matched).toBe(13);
    expect((await setup.repository.listEvents('anon:a5', 50)).events).toEqual(
      [],
    );
  });

  it('keeps one live lead under crossing aliases', async () => {
    const setup = await realDependencies({ model });
    const ids = ['ann', 'ben', 'cat', 'dan'];
    await ingest(
      setup,
      ids.map((userId) => message(setup, demo({ userId }))),
    );
    const aliases = ids.flatMap((previousId) =>
      ids
        .filter((userId) => userId !== previousId)
        .map((userId) => message(setup, { type: 'alias', userId, previousId })),
    );

    const outcomes = await Promise.allSettled(
      aliases.map((alias) => ingest(setup, [alias])),
    );

    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect(outcome.reason).toBeInstanceOf(ConcurrencyError);
      }
    }
    const states = await Promise.all(
      ids.map((id) => setup.repository.getLead(id)),
    );
    const live = states.filter((state) => state?.mergedInto === undefined);
    expect(live).toHaveLength(1);
    await ingest(setup, aliases);
    const merged = await setup.repository.getLead(live[0]?.leadId ?? '');
    const demoTally = merged && tallyOf(merged.intent, 'demo-request');
    expect(demoTally?.matched).toBe(4);
  });

  it('follows a chain of ten aliases', async () => {
    const setup = await realDependencies({ model });
    const ids = Array.from({ length: 11 }, (_, index) => `renamed-${index}`);
    await ingest(setup, [message(setup, demo({ userId: ids[0] as string }))]);
    for (let index = 0; index + 1 < ids.length; index += 1) {
      await ingest(setup, [
        message(setup, {
          type: 'alias',
          previousId: ids[index],
          userId: ids[index + 1],
        }),
      ]);
    }

    const result = await ingest(setup, [
      message(setup, demo({ userId: 'renamed-0' })),
    ]);

    expect(result.results[0]).toMatchObject({
      status: 'scored',
      leadId: 'renamed-10',
    });
    const view = await getLead(setup.deps, 'renamed-0');
    expect(view.leadId).toBe('renamed-10');
    expect(view.requestedLeadId).toBe('renamed-0');
  });

  it('merges an earlier user id named by an alias', async () => {
    const setup = await realDependencies({ model });
    await ingest(setup, [message(setup, cfo('old-id'), 2)]);

    await ingest(setup, [
      message(setup, { type: 'alias', userId: 'new-id', previousId: 'old-id' }),
      message(setup, demo({ userId: 'old-id' })),
    ]);

    const merged = await setup.repository.getLead('new-id');
    expect(merged?.eventCount).toBe(3);
    expect(merged?.traits.title?.value).toBe('CFO');
  });

  it('logs both ids of a merge of user ids', async () => {
    const setup = await realDependencies({ model });
    await ingest(setup, [message(setup, cfo('first-id'), 2)]);

    await ingest(setup, [
      message(setup, {
        type: 'alias',
        userId: 'second-id',
        previousId: 'first-id',
      }),
    ]);

    const linked = setup.log.entries.find(
      (entry) => entry.message === 'identity linked',
    );
    expect(linked?.fields).toEqual({
      sourceLeadId: 'first-id',
      targetLeadId: 'second-id',
    });
  });

  it('treats email user ids in any case as one lead', async () => {
    const setup = await realDependencies({ model });

    const result = await ingest(setup, [
      message(setup, cfo('Jane.Doe@Acme.example ')),
      message(setup, demo({ userId: 'jane.doe@ACME.example' })),
    ]);

    expect(result.leads.map((lead) => lead.leadId)).toEqual([
      'jane.doe@acme.example',
    ]);
    const view = await getLead(setup.deps, 'JANE.DOE@acme.example');
    expect(view.leadId).toBe('jane.doe@acme.example');
    expect(view.displayId).toBe('Jane.Doe@Acme.example');
  });

  it('shows the merged lead for an anonymous id', async () => {
    const setup = await realDependencies({ model });
    await ingest(setup, [
      message(setup, pricing('a6'), 1),
      message(setup, cfo('noor', 'a6')),
    ]);

    const view = await getLead(setup.deps, 'anon:a6');

    expect(view).toMatchObject({ leadId: 'noor', requestedLeadId: 'anon:a6' });
  });

  it('ends the episode of an anonymous MQL that merges', async () => {
    const lenient = testModel({
      minimumFit: 0,
      threshold: 60,
      recycleBelow: 30,
    });
    const setup = await realDependencies({ model: lenient });
    await ingest(setup, [
      message(setup, pricing('a7'), 1),
      message(setup, demo({ anonymousId: 'a7' }), 1),
    ]);
    expect((await setup.repository.getLead('anon:a7'))?.status).toBe('mql');

    const result = await ingest(setup, [message(setup, cfo('zoe', 'a7'))]);

    const tombstone = await setup.repository.getLead('anon:a7');
    expect(tombstone?.status).toBe('recycled');
    expect(tombstone?.episodes[0]?.recycleReason).toBe('merged into lead zoe');
    expect(result.leads[0]).toMatchObject({ leadId: 'zoe', status: 'mql' });
  });

  it('counts the events a merge publishes', async () => {
    const lenient = testModel({
      minimumFit: 0,
      threshold: 60,
      recycleBelow: 30,
    });
    const setup = await realDependencies({ model: lenient });
    await ingest(setup, [
      message(setup, pricing('a8'), 1),
      message(setup, demo({ anonymousId: 'a8' }), 1),
    ]);

    const result = await ingest(setup, [message(setup, cfo('yan', 'a8'))]);

    const published = setup.published.map(
      (event) => `${event.detailType} ${event.leadId}`,
    );
    expect(published).toEqual([
      'Lead Qualified anon:a8',
      'Lead Recycled anon:a8',
      'Lead Qualified yan',
    ]);
    expect(result.events).toEqual({ published: 2, pending: 0, failed: 0 });
    expect(result.transitions).toEqual({ qualified: 1, recycled: 1 });
  });

  it('recycles a due lead before merging into it', async () => {
    const late = await mergeAfterRecycleTime(false);
    const onTime = await mergeAfterRecycleTime(true);

    const recycledAt = new Date(late.crossing).toISOString();
    expect(late.jane?.status).toBe('recycled');
    expect(late.jane?.recycledAt).toBe(late.crossing);
    expect(late.jane?.eventCount).toBe(5);
    expect(late.published).toEqual([
      expect.stringMatching(/^Lead Qualified /),
      `Lead Recycled ${recycledAt}`,
    ]);
    expect(late.history.map((entry) => entry.cause)).toEqual([
      'event',
      'sweep',
      'event',
    ]);
    expect(late.history.map((entry) => entry.after.status)).toEqual([
      'mql',
      'recycled',
      'recycled',
    ]);
    expect(onTime.history).toEqual(late.history);
    expect(onTime.crossing).toBe(late.crossing);
    expect(onTime.published).toEqual(late.published);
    expect(onTime.jane).toMatchObject({
      status: late.jane?.status,
      episode: late.jane?.episode,
      recycledAt: late.jane?.recycledAt,
      eventCount: late.jane?.eventCount,
      nextReviewAt: late.jane?.nextReviewAt,
      lastScore: late.jane?.lastScore,
    });
    expect(onTime.history.at(-1)?.after).toEqual(late.history.at(-1)?.after);
  });

  it('recycles a due merging MQL on time', async () => {
    const late = await mergeSourceAround(qualifyJane, DAY_MS, false);
    const onTime = await mergeSourceAround(qualifyJane, DAY_MS, true);

    expect(onTime.reviewAt).toBe(late.reviewAt);
    expect(late.published).toEqual([
      {
        type: 'Lead Qualified',
        occurredAt: expect.any(String),
        reason: 'score reached the threshold 100',
      },
      {
        type: 'Lead Recycled',
        occurredAt: new Date(late.reviewAt).toISOString(),
        reason: 'score fell below the recycle level 60',
      },
    ]);
    expect(late.history.map((entry) => entry.after.status)).toEqual([
      'mql',
      'recycled',
    ]);
    expect(late.history.at(-1)).toMatchObject({
      at: late.reviewAt,
      cause: 'sweep',
    });
    expect(onTime.published).toEqual(late.published);
    expect(onTime.history).toEqual(late.history);
  });

  it('requalifies a merging lead after cooldown', async () => {
    const late = await mergeSourceAround(recycleJaneBySales, DAY_MS, false);
    const onTime = await mergeSourceAround(recycleJaneBySales, DAY_MS, true);

    expect(onTime.reviewAt).toBe(late.reviewAt);
    expect(late.published.map((event) => event.type)).toEqual([
      'Lead Qualified',
      'Lead Recycled',
      'Lead Disposition Changed',
      'Lead Qualified',
      'Lead Recycled',
    ]);
    expect(late.published.slice(3)).toEqual([
      {
        type: 'Lead Qualified',
        occurredAt: new Date(late.reviewAt).toISOString(),
        reason: 'score reached the threshold 100',
      },
      {
        type: 'Lead Recycled',
        occurredAt: new Date(late.mergedAt).toISOString(),
        reason: 'merged into lead jane-new',
      },
    ]);
    expect(late.history.at(-1)).toMatchObject({
      at: late.reviewAt,
      cause: 'sweep',
      after: { status: 'mql' },
    });
    expect(onTime.published).toEqual(late.published);
    expect(onTime.history).toEqual(late.history);
  });

  it('ends a merging MQL before its review', async () => {
    const merged = await mergeSourceAround(qualifyJane, -DAY_MS, false);

    expect(merged.published).toEqual([
      {
        type: 'Lead Qualified',
        occurredAt: expect.any(String),
        reason: 'score reached the threshold 100',
      },
      {
        type: 'Lead Recycled',
        occurredAt: new Date(merged.mergedAt).toISOString(),
        reason: 'merged into lead jane-new',
      },
    ]);
    expect(merged.history.map((entry) => entry.cause)).toEqual(['event']);
    expect(merged.jane).toMatchObject({
      status: 'recycled',
      recycledAt: merged.mergedAt,
      mergedInto: 'jane-new',
    });
  });

  it('lets the sweep finish a merge a request left', async () => {
    const setup = await realDependencies({ model });
    await ingest(setup, [
      message(setup, pricing('a8'), 2),
      message(setup, demo({ anonymousId: 'a8' }), 1),
    ]);
    await leaveMergePending(setup, 'anon:a8', 'kai');

    setup.clock.advance(10 * 60_000);
    await runSweep(setup.deps, { now: setup.clock.now, deadline: Infinity });

    expect((await setup.repository.getLead('kai'))?.eventCount).toBe(2);
    expect(await setup.repository.getLead('anon:a8')).toMatchObject({
      mergePending: false,
    });
  });

  it('counts the events of a merge the sweep finishes', async () => {
    const setup = await realDependencies({ model });
    await ingest(setup, [message(setup, cfo('lia'), 2)]);
    await ingest(setup, [
      message(setup, pricing('a9'), 2),
      message(setup, demo({ anonymousId: 'a9' }), 1),
    ]);
    expect((await setup.repository.getLead('lia'))?.status).toBe('engaged');
    await leaveMergePending(setup, 'anon:a9', 'lia');

    setup.clock.advance(10 * 60_000);
    const result = await runSweep(setup.deps, {
      now: setup.clock.now,
      deadline: Infinity,
    });

    expect((await setup.repository.getLead('lia'))?.status).toBe('mql');
    expect(setup.published.map((event) => event.detailType)).toEqual([
      'Lead Qualified',
    ]);
    expect(result).toMatchObject({
      leadsChanged: 1,
      transitions: 1,
      qualified: 1,
      published: 1,
      pending: 0,
      failed: 0,
    });
  });
});
