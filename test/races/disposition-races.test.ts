import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/workload.js';
import { ConflictError } from '../../functions/domain/errors.js';
import type { OutgoingEvent } from '../../functions/domain/outgoing-events.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { testModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import {
  ingestRetrying,
  pause,
  type RaceSetup,
  raceRounds,
  retryingConflicts,
  scanTable,
  tableViolations,
} from './support/table-check.js';

const ROUNDS = raceRounds(2);
const PHASES = 4;

let sequence = 0;

function event(userId: string, fields: Record<string, unknown>) {
  sequence += 1;
  return { messageId: `disposition-race-${sequence}`, userId, ...fields };
}

function qualifying(userId: string) {
  return [
    event(userId, {
      type: 'identify',
      traits: {
        title: 'CFO',
        company: { employee_count: 5000, industry: 'Manufacturing' },
      },
    }),
    event(userId, { type: 'track', event: 'Demo Requested' }),
    event(userId, { type: 'page', properties: { path: '/pricing' } }),
  ];
}

const DISPOSITIONS = [
  { kind: 'accepted' },
  { kind: 'rejected', reason: 'no budget' },
  { kind: 'recycled', reason: 'not now' },
  { kind: 'converted', convertedTo: 'sql' },
] as const;

/** One randomly chosen step of a phase: a disposition, events or a sweep. */
async function randomStep(
  setup: RaceSetup,
  leadId: string,
  random: () => number,
): Promise<void> {
  await pause(random, 20);
  const choice = Math.floor(random() * 4);
  if (choice === 0) {
    await ingestRetrying(setup, qualifying(leadId).slice(1));
  } else if (choice === 1) {
    await runSweep(setup.deps, {
      now: setup.clock.now,
      deadline: Number.POSITIVE_INFINITY,
    });
  } else {
    const request =
      DISPOSITIONS[Math.floor(random() * DISPOSITIONS.length)] ??
      DISPOSITIONS[0];
    await retryingConflicts(() =>
      recordDisposition(setup.deps, leadId, request),
    ).catch((error: unknown) => {
      if (!(error instanceof ConflictError)) throw error;
    });
  }
}

function episodeOf(outgoing: OutgoingEvent): number {
  return Number((outgoing.detail as { episode?: number }).episode);
}

/** Distinct published events of a lead by detail type and episode. */
function distinctEvents(
  published: readonly OutgoingEvent[],
  leadId: string,
  detailType: string,
): Map<number, Set<string>> {
  const byEpisode = new Map<number, Set<string>>();
  for (const outgoing of published) {
    if (outgoing.leadId !== leadId || outgoing.detailType !== detailType) {
      continue;
    }
    const episode = episodeOf(outgoing);
    const ids = byEpisode.get(episode) ?? new Set();
    ids.add(outgoing.eventId);
    byEpisode.set(episode, ids);
  }
  return byEpisode;
}

describe('dispositions racing ingest and the sweep', () => {
  it('publish each transition once', {
    timeout: ROUNDS * 20_000,
  }, async () => {
    const setup = await realDependencies({ model: testModel() });
    for (let round = 0; round < ROUNDS; round += 1) {
      const random = seededRandom(2000 + round);
      const leadId = `disposed-${round}`;
      await ingestRetrying(setup, qualifying(leadId));
      for (let phase = 0; phase < PHASES; phase += 1) {
        setup.clock.advance(Math.floor(random() * 60) * DAY_MS);
        const steps = Array.from({ length: 6 }, () =>
          randomStep(setup, leadId, random),
        );
        await Promise.all(steps);
      }

      const state = await setup.repository.getLead(leadId);
      if (state === undefined) throw new Error(`${leadId} is missing`);
      const qualified = distinctEvents(
        setup.published,
        leadId,
        'Lead Qualified',
      );
      const recycled = distinctEvents(setup.published, leadId, 'Lead Recycled');
      const episodes = Array.from({ length: state.episode }, (_, i) => i + 1);
      expect([...qualified.keys()].sort()).toEqual(episodes);
      for (const ids of qualified.values()) expect(ids.size).toBe(1);
      const ended = state.status === 'mql' ? episodes.slice(0, -1) : episodes;
      expect([...recycled.keys()].sort()).toEqual(ended);
      for (const ids of recycled.values()) expect(ids.size).toBe(1);
      const ends = setup.published.filter(
        (outgoing) =>
          outgoing.leadId === leadId &&
          outgoing.detailType === 'Lead Disposition Changed' &&
          ['rejected', 'recycled'].includes(
            String(outgoing.detail.disposition),
          ),
      );
      for (const end of ends) {
        expect(recycled.has(episodeOf(end))).toBe(true);
      }
      const history = await setup.repository.listHistory(leadId, 1);
      expect(history.entries[0]?.after.status).toBe(state.status);
    }
    expect(tableViolations(await scanTable(setup))).toEqual([]);
  });
});
