import { describe, expect, it } from 'vitest';
import type { LeadState } from '../../functions/domain/lead.js';
import { DETAIL_TYPES } from '../../functions/domain/outgoing-events.js';
import { DAY_MS } from '../../functions/domain/time.js';
import type { EventPublisher } from '../../functions/ports/event-publisher.js';
import type { LeadRepository } from '../../functions/ports/lead-repository.js';
import type { ScoringDependencies } from '../../functions/use-cases/dependencies.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { demoRequested, qualifyingBatch } from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';

const HOUR_MS = 3_600_000;
/** Central European Summer Time ends on 2026-10-25 at 01:00 UTC. */
const DST_END = Date.parse('2026-10-25T01:00:00Z');

/**
 * Wraps a publisher and records each event the bus accepted as its detail
 * type and id, for example `Lead Recycled 5f0c…`.
 */
function recordingPublisher(publisher: EventPublisher) {
  const accepted: string[] = [];
  const recording: EventPublisher = {
    async publish(events) {
      const result = await publisher.publish(events);
      for (const event of events) {
        if (result.published.includes(event.eventId)) {
          accepted.push(`${event.detailType} ${event.eventId}`);
        }
      }
      return result;
    },
  };
  return { publisher: recording, accepted };
}

async function setUp() {
  const real = await realDependencies();
  const recording = recordingPublisher(real.deps.publisher);
  real.deps.publisher = recording.publisher;
  return { ...real, accepted: recording.accepted };
}

async function qualify(deps: ScoringDependencies, leadId: string, at: number) {
  await ingestMessages(deps, {
    sourceId: 'default',
    messages: qualifyingBatch(leadId),
    receivedAt: at,
  });
  const state = await deps.repository.getLead(leadId);
  expect(state?.status).toBe('mql');
  return state?.nextReviewAt ?? Number.NaN;
}

/** Qualifies leads at the same time and returns their common crossing. */
async function qualifyAll(
  deps: ScoringDependencies,
  leadIds: string[],
  at: number,
) {
  const crossings = await Promise.all(
    leadIds.map((leadId) => qualify(deps, leadId, at)),
  );
  expect(new Set(crossings).size).toBe(1);
  return crossings[0] ?? Number.NaN;
}

async function sendDemo(deps: ScoringDependencies, leadId: string, at: number) {
  return ingestMessages(deps, {
    sourceId: 'default',
    messages: [demoRequested(leadId, { messageId: `${leadId}-demo-2` })],
    receivedAt: at,
  });
}

function recycledIds(accepted: readonly string[]): string[] {
  return accepted.filter((entry) => entry.startsWith(DETAIL_TYPES.recycled));
}

/** Fields of a lead state that the time of a sweep must not change. */
function outcomeOf(state: LeadState | undefined) {
  return {
    status: state?.status,
    episode: state?.episode,
    recycledAt: state?.recycledAt,
    eventCount: state?.eventCount,
    nextReviewAt: state?.nextReviewAt,
  };
}

describe('sweep and ingest racing', () => {
  it('retries the sweep when an ingest writes first', async () => {
    const { deps, clock, accepted } = await setUp();
    const crossing = await qualify(deps, 'racer', clock.now);
    const now = crossing + 2 * DAY_MS;
    const repository = deps.repository;
    let raced = false;
    const racing: LeadRepository = Object.create(repository);
    racing.saveLeadChange = async (change) => {
      if (!raced) {
        raced = true;
        await sendDemo(deps, 'racer', now);
      }
      return repository.saveLeadChange(change);
    };

    const sweep = await runSweep(
      { ...deps, repository: racing },
      { now, deadline: Infinity },
    );

    const lead = await repository.getLead('racer');
    expect(raced).toBe(true);
    expect(sweep.read).toBe(1);
    expect(sweep.leadsChanged).toBe(0);
    expect(lead?.status).toBe('recycled');
    expect(lead?.recycledAt).toBe(crossing);
    expect(lead?.eventCount).toBe(4);
    expect(lead?.nextReviewAt).toBe(crossing + 30 * DAY_MS);
    expect(recycledIds(accepted)).toHaveLength(1);
  });

  it('ends the same whichever of the two runs first', async () => {
    const { deps, clock, accepted } = await setUp();
    const crossing = await qualify(deps, 'sweep-first', clock.now);
    const other = await qualify(deps, 'ingest-first', clock.now);
    const now = crossing + 2 * DAY_MS;

    await runSweep(deps, { now, deadline: Infinity });
    await sendDemo(deps, 'sweep-first', now);
    await sendDemo(deps, 'ingest-first', now);
    const late = await runSweep(deps, { now, deadline: Infinity });

    const sweepFirst = await deps.repository.getLead('sweep-first');
    const ingestFirst = await deps.repository.getLead('ingest-first');
    expect(other).toBe(crossing);
    expect(late.leadsChanged).toBe(0);
    expect(outcomeOf(ingestFirst)).toEqual(outcomeOf(sweepFirst));
    expect(sweepFirst?.recycledAt).toBe(crossing);
    expect(recycledIds(accepted)).toHaveLength(2);
  });

  it('loses no event when both run at once', async () => {
    const { deps, clock, accepted } = await setUp();
    const ids = ['c1', 'c2', 'c3', 'c4'];
    const crossing = await qualifyAll(deps, ids, clock.now);
    const now = crossing + DAY_MS;

    await Promise.all([
      runSweep(deps, { now, deadline: Infinity }),
      ...ids.map((id) => sendDemo(deps, id, now)),
    ]);

    for (const id of ids) {
      const lead = await deps.repository.getLead(id);
      expect(lead?.status).toBe('recycled');
      expect(lead?.recycledAt).toBe(crossing);
      expect(lead?.eventCount).toBe(4);
    }
    expect(recycledIds(accepted).sort()).toEqual(
      [...new Set(recycledIds(accepted))].sort(),
    );
    expect(recycledIds(accepted)).toHaveLength(ids.length);
  });
});

describe('overlapping sweeps', () => {
  it('change and publish each due lead once', async () => {
    const { deps, clock, accepted } = await setUp();
    const ids = Array.from({ length: 8 }, (_, i) => `overlap-${i}`);
    const crossing = await qualifyAll(deps, ids, clock.now);
    const now = crossing + HOUR_MS;

    const runs = await Promise.all([
      runSweep(deps, { now, deadline: Infinity }),
      runSweep(deps, { now, deadline: Infinity }),
      runSweep(deps, { now, deadline: Infinity }),
    ]);

    const changed = runs.reduce((sum, run) => sum + run.leadsChanged, 0);
    const recycled = recycledIds(accepted);
    expect(changed).toBe(ids.length);
    expect(recycled).toHaveLength(ids.length);
    expect(new Set(recycled).size).toBe(ids.length);
  });
});

describe('sweep backlog', () => {
  it('leaves what one run cannot finish to the next run', async () => {
    const { deps, clock, accepted } = await setUp();
    const ids = Array.from({ length: 12 }, (_, i) => `backlog-${i}`);
    const crossing = await qualifyAll(deps, ids, clock.now);
    const now = crossing + HOUR_MS;
    let ticks = 0;
    const slow = { ...deps, clock: () => now + 1_000 * ticks++ };

    const results = [];
    for (let run = 0; run < 30; run += 1) {
      ticks = 0;
      const result = await runSweep(slow, { now, deadline: now + 15_000 });
      results.push(result);
      if (!result.incomplete) break;
    }

    const changed = results.map((result) => result.leadsChanged);
    expect(results.length).toBeGreaterThanOrEqual(2);
    expect(results[0]?.incomplete).toBe(true);
    expect(Math.max(...changed)).toBeLessThan(ids.length);
    expect(changed.reduce((a, b) => a + b, 0)).toBe(ids.length);
    expect(results.at(-1)?.incomplete).toBe(false);
    expect(new Set(recycledIds(accepted)).size).toBe(ids.length);
    expect(recycledIds(accepted)).toHaveLength(ids.length);
    for (const id of ids) {
      const lead = await deps.repository.getLead(id);
      expect(lead?.recycledAt).toBe(crossing);
    }
  });
});

describe('sweep schedule', () => {
  /**
   * Qualifies six leads whose crossings fall 40 minutes apart around the
   * end of daylight-saving time, and returns their crossing times.
   */
  async function leadsAroundDstEnd(deps: ScoringDependencies, start: number) {
    const probe = await qualify(deps, 'probe', start);
    const decayMs = probe - start;
    const crossings: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const at = DST_END - decayMs + (i - 3) * 40 * 60_000;
      crossings.push(await qualify(deps, `dst-${i}`, at));
    }
    return crossings;
  }

  async function runAll(deps: ScoringDependencies, times: number[]) {
    let changed = 0;
    for (const now of times) {
      changed += (await runSweep(deps, { now, deadline: Infinity }))
        .leadsChanged;
    }
    const leads = [];
    for (let i = 0; i < 6; i += 1) {
      leads.push(outcomeOf(await deps.repository.getLead(`dst-${i}`)));
    }
    return { changed, leads };
  }

  it('gives the same result with skipped, doubled and hourly runs', async () => {
    const hourly = await setUp();
    const irregular = await setUp();
    const start = hourly.clock.now;
    const crossings = await leadsAroundDstEnd(hourly.deps, start);
    expect(await leadsAroundDstEnd(irregular.deps, start)).toEqual(crossings);
    const first = DST_END - 3 * HOUR_MS;
    const everyHour = Array.from({ length: 8 }, (_, h) => first + h * HOUR_MS);
    // Wall-clock schedules skip a run when clocks go forward and double
    // one when they go back. Here five of the hourly runs are missing and
    // two run twice, and the hourly runs see the Europe/Berlin time zone.
    const skippedAndDoubled = [
      first + HOUR_MS,
      first + HOUR_MS,
      first + 5 * HOUR_MS,
      first + 5 * HOUR_MS,
      first + 7 * HOUR_MS,
    ];
    const zone = process.env.TZ;
    process.env.TZ = 'Europe/Berlin';

    const a = await runAll(hourly.deps, everyHour).finally(() => {
      process.env.TZ = zone;
    });
    const b = await runAll(irregular.deps, skippedAndDoubled);

    expect(Math.min(...crossings)).toBeLessThan(DST_END);
    expect(Math.max(...crossings)).toBeGreaterThan(DST_END);
    expect(a.changed).toBe(6);
    expect(b.changed).toBe(6);
    expect(b.leads).toEqual(a.leads);
    expect(a.leads.map((lead) => lead.recycledAt)).toEqual(crossings);
    expect(recycledIds(irregular.accepted)).toHaveLength(6);
  });
});
