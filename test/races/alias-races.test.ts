import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/workload.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { testModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import {
  ingestRetrying,
  pause,
  raceRounds,
  scanTable,
  tableViolations,
} from './support/table-check.js';

const ROUNDS = raceRounds(1);
const USERS = 5;
const REQUESTS = 24;

/**
 * Returns one random message: an alias between two users (in either
 * direction, so merges cross and chain), an identify that links an
 * anonymous id, or an event of a user or an anonymous id.
 */
function randomRequest(
  round: number,
  request: number,
  random: () => number,
): Record<string, unknown> {
  const user = () => `alias-${round}-u${Math.floor(random() * USERS)}`;
  const anonymous = () => `alias-${round}-a${Math.floor(random() * 3)}`;
  const messageId = `alias-${round}-m${request}`;
  const draw = random();
  if (draw < 0.35) {
    return { type: 'alias', messageId, previousId: user(), userId: user() };
  }
  if (draw < 0.5) {
    return {
      type: 'identify',
      messageId,
      userId: user(),
      anonymousId: anonymous(),
    };
  }
  const ids = draw < 0.8 ? { userId: user() } : { anonymousId: anonymous() };
  return {
    type: 'page',
    messageId,
    ...ids,
    properties: { path: `/blog/${request}` },
  };
}

describe('aliases crossing and chaining while events arrive', () => {
  it('count every event once on a live lead', {
    timeout: ROUNDS * 30_000,
  }, async () => {
    const setup = await realDependencies({ model: testModel() });
    for (let round = 0; round < ROUNDS; round += 1) {
      const random = seededRandom(6000 + round);
      const requests = Array.from({ length: REQUESTS }, (_, request) =>
        randomRequest(round, request, random),
      );

      await Promise.all(
        requests.map(async (message) => {
          await pause(random, 50);
          await ingestRetrying(setup, [message]);
        }),
      );
      // Merges a request left unfinished are resumed by the sweep.
      setup.clock.advance(180_000);
      await runSweep(setup.deps, {
        now: setup.clock.now,
        deadline: Number.POSITIVE_INFINITY,
      });

      const items = await scanTable(setup);
      expect(tableViolations(items)).toEqual([]);
      const live = items.filter(
        (item) =>
          item.entity === 'lead' &&
          item.mergedInto === undefined &&
          String(item.leadId).includes(`alias-${round}-`),
      );
      const counted = live.reduce(
        (sum, item) => sum + Number(item.eventCount),
        0,
      );
      expect(counted).toBe(REQUESTS);
      const pending = items.filter((item) => item.mergePending === true);
      expect(pending).toEqual([]);
    }
  });
});
