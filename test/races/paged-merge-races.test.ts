import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/workload.js';
import { applyEvents, newLead } from '../../functions/domain/lead.js';
import { scoreLead } from '../../functions/domain/score.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { blog, demo, identify, pricing } from '../fixtures/erasure-leads.js';
import { accountModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import {
  ingestRetrying,
  pause,
  raceRounds,
  retryingConflicts,
  scanTable,
  storedEvents,
  tableViolations,
} from './support/table-check.js';

// One round keeps `npm test` short. Each round draws its own seed, so
// RACE_ROUNDS=20 runs 20 rounds for a longer search.
const ROUNDS = raceRounds(1);
const HOUR_MS = 60 * 60_000;

describe('merges of many events racing tracks', () => {
  it('keep score of stored events', {
    timeout: ROUNDS * 60_000,
  }, async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { model } = setup.deps;
    for (let round = 0; round < ROUNDS; round += 1) {
      const seed = 9000 + round;
      const random = seededRandom(seed);
      const user = `many-${round}@acme.example`;
      const browsers = [`tab-${round}-a`, `tab-${round}-b`];
      // Each browser stores more events than one merge transaction moves.
      for (const browser of browsers) {
        const messages = Array.from({ length: 60 }, (_, i) =>
          i % 3 === 0
            ? pricing({ anonymousId: browser }, `${browser}-pricing-${i}`)
            : blog({ anonymousId: browser }, `${browser}-blog-${i}`),
        );
        await ingestRetrying(setup, messages);
        setup.clock.advance(HOUR_MS);
      }
      const merges = browsers.map(async (browser, index) => {
        await pause(random, 30);
        await ingestRetrying(setup, [
          {
            ...identify(user, 'CFO', browser),
            messageId: `${round}-identify-${index}`,
          },
        ]);
      });
      const tracks = Array.from({ length: 12 }, async (_, i) => {
        await pause(random, 60);
        const browser = browsers[i % 2] as string;
        const ids: Record<string, string> =
          random() < 0.5 ? { anonymousId: browser } : { userId: user };
        await ingestRetrying(setup, [demo(ids, `${round}-track-${i}`)]);
      });
      const sweeps = Array.from({ length: 3 }, async () => {
        await pause(random, 60);
        await retryingConflicts(() =>
          runSweep(setup.deps, {
            now: setup.clock.now,
            deadline: Number.POSITIVE_INFINITY,
          }),
        );
      });
      await Promise.all([...merges, ...tracks, ...sweeps]);
      setup.clock.advance(3 * 60_000);
      await runSweep(setup.deps, {
        now: setup.clock.now,
        deadline: Number.POSITIVE_INFINITY,
      });

      const items = await scanTable(setup);
      expect(tableViolations(items), `seed ${seed}`).toEqual([]);
      const state = await setup.repository.getLead(user);
      if (state === undefined) throw new Error(`${user} is missing`);
      const events = await storedEvents(setup, user);
      // Both browsers' events and the 12 tracks and 2 identifies end up
      // on the user.
      expect(events.length, `seed ${seed}`).toBe(60 * 2 + 12 + 2);
      const first = Math.min(...events.map((event) => event.occurredAt));
      const rebuilt = applyEvents(newLead(user, model, first), events, model);
      const expected = scoreLead(rebuilt.state, model, setup.clock.now);
      const actual = scoreLead(state, model, setup.clock.now);
      expect(actual.score, `seed ${seed}`).toBeCloseTo(expected.score, 6);
      expect(actual.fit, `seed ${seed}`).toBeCloseTo(expected.fit, 6);
    }
  });
});
