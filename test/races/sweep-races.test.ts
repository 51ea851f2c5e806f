import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/workload.js';
import { DAY_MS } from '../../functions/domain/time.js';
import type { ScoringDependencies } from '../../functions/use-cases/dependencies.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { testModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import {
  pause,
  raceRounds,
  retryingConflicts,
  scanTable,
  tableViolations,
} from './support/table-check.js';

const ROUNDS = raceRounds(1);
const LEADS = 12;

function qualifying(leadId: string, daysAgo: number, now: number) {
  const timestamp = new Date(now - daysAgo * DAY_MS).toISOString();
  return [
    {
      type: 'identify',
      messageId: `${leadId}-identify`,
      userId: leadId,
      timestamp,
      traits: {
        title: 'CFO',
        company: { employee_count: 5000, industry: 'Manufacturing' },
      },
    },
    {
      type: 'track',
      messageId: `${leadId}-demo`,
      userId: leadId,
      timestamp,
      event: 'Demo Requested',
    },
    {
      type: 'page',
      messageId: `${leadId}-pricing`,
      userId: leadId,
      timestamp,
      properties: { path: '/pricing' },
    },
  ];
}

describe('sweeps overlapping a model change', () => {
  it('publish each transition once', {
    timeout: ROUNDS * 30_000,
  }, async () => {
    const setup = await realDependencies({ model: testModel() });
    // The new model recycles sooner, so the two models disagree on when
    // each MQL ends its episode.
    const changed: ScoringDependencies = {
      ...setup.deps,
      model: testModel({ recycleBelow: 90 }),
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      const random = seededRandom(5000 + round);
      const leadIds = Array.from(
        { length: LEADS },
        (_, index) => `swept-${round}-${index}`,
      );
      // Each model stores the review times of half the leads.
      for (const [index, leadId] of leadIds.entries()) {
        await ingestMessages(index % 2 === 0 ? setup.deps : changed, {
          sourceId: 'web',
          messages: qualifying(leadId, index * 2, setup.clock.now),
          receivedAt: setup.clock.now,
        });
      }
      setup.clock.advance(200 * DAY_MS);

      const sweep = async (deps: ScoringDependencies) => {
        await pause(random, 40);
        await runSweep(deps, {
          now: setup.clock.now,
          deadline: Number.POSITIVE_INFINITY,
        });
      };
      const events = leadIds.slice(0, 4).map(async (leadId, index) => {
        await pause(random, 40);
        await retryingConflicts(() =>
          ingestMessages(index % 3 === 0 ? setup.deps : changed, {
            sourceId: 'web',
            messages: [
              {
                type: 'page',
                messageId: `${leadId}-blog`,
                userId: leadId,
                properties: { path: '/blog/late' },
              },
            ],
            receivedAt: setup.clock.now,
          }),
        );
      });
      await Promise.all([
        sweep(setup.deps),
        sweep(changed),
        sweep(setup.deps),
        sweep(changed),
        ...events,
      ]);
      await sweep(changed);

      for (const leadId of leadIds) {
        const state = await setup.repository.getLead(leadId);
        const transitions = setup.published.filter(
          (event) => event.leadId === leadId,
        );
        const ids = (type: string) =>
          new Set(
            transitions
              .filter((event) => event.detailType === type)
              .map((event) => event.eventId),
          ).size;
        expect({ leadId, qualified: ids('Lead Qualified') }).toEqual({
          leadId,
          qualified: 1,
        });
        expect({ leadId, recycled: ids('Lead Recycled') }).toEqual({
          leadId,
          recycled: state?.status === 'recycled' ? 1 : 0,
        });
        const history = await setup.repository.listHistory(leadId, 1);
        expect(history.entries[0]?.after.status).toBe(state?.status);
      }
    }
    expect(tableViolations(await scanTable(setup))).toEqual([]);
  });
});
