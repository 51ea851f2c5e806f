import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/workload.js';
import { roundCents } from '../../functions/domain/explanation.js';
import { scoreLead } from '../../functions/domain/score.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { resolveLeadId } from '../../functions/use-cases/link-identities.js';
import { testModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import {
  ingestRetrying,
  pause,
  type RaceSetup,
  raceRounds,
  scanTable,
  shuffled,
  tableViolations,
} from './support/table-check.js';

const ROUNDS = raceRounds(1);
const COPIES = 3;
const model = testModel();

/**
 * A batch of a buying committee seen anonymously first, identified, and
 * renamed twice by alias (u1 to u2 to u3), so that its order decides the
 * order of the merges. No anonymous id is claimed by two users, so every
 * order gives the same leads.
 */
function committeeBatch(prefix: string, start: number): unknown[] {
  const at = (days: number) => new Date(start - days * DAY_MS).toISOString();
  const user = (n: number) => `${prefix}-u${n}`;
  const anonymous = (n: number) => `${prefix}-a${n}`;
  const id = (name: string) => `${prefix}-${name}`;
  return [
    {
      type: 'page',
      messageId: id('a1-pricing'),
      anonymousId: anonymous(1),
      timestamp: at(9),
      properties: { path: '/pricing' },
    },
    {
      type: 'page',
      messageId: id('a1-blog'),
      anonymousId: anonymous(1),
      timestamp: at(8),
      properties: { path: '/blog/one' },
    },
    {
      type: 'identify',
      messageId: id('u1-identify'),
      userId: user(1),
      anonymousId: anonymous(1),
      timestamp: at(7),
      traits: { title: 'CFO', company: { employee_count: 5000 } },
    },
    {
      type: 'track',
      messageId: id('u1-demo'),
      userId: user(1),
      timestamp: at(6),
      event: 'Demo Requested',
    },
    {
      type: 'alias',
      messageId: id('alias-1-2'),
      previousId: user(1),
      userId: user(2),
      timestamp: at(5),
    },
    {
      type: 'page',
      messageId: id('u2-blog'),
      userId: user(2),
      timestamp: at(5),
      properties: { path: '/blog/two' },
    },
    {
      type: 'alias',
      messageId: id('alias-2-3'),
      previousId: user(2),
      userId: user(3),
      timestamp: at(4),
    },
    {
      type: 'track',
      messageId: id('u3-demo'),
      userId: user(3),
      timestamp: at(3),
      event: 'Demo Requested',
      properties: { n: 2 },
    },
    {
      type: 'page',
      messageId: id('a2-pricing'),
      anonymousId: anonymous(2),
      timestamp: at(3),
      properties: { path: '/pricing' },
    },
    {
      type: 'track',
      messageId: id('u4-demo'),
      userId: user(4),
      anonymousId: anonymous(2),
      timestamp: at(2),
      event: 'Demo Requested',
    },
    {
      type: 'identify',
      messageId: id('u4-identify'),
      userId: user(4),
      timestamp: at(2),
      traits: { title: 'VP Finance', company: { industry: 'Manufacturing' } },
    },
    {
      type: 'page',
      messageId: id('a3-blog'),
      anonymousId: anonymous(3),
      timestamp: at(1),
      properties: { path: '/blog/three' },
    },
  ];
}

/** Score, event count and live lead of each id of a committee batch. */
async function outcomeOf(setup: RaceSetup, prefix: string) {
  const ids = [1, 2, 3, 4].map((n) => `${prefix}-u${n}`);
  ids.push(...[1, 2, 3].map((n) => `anon:${prefix}-a${n}`));
  const outcome: Record<string, unknown> = {};
  for (const id of ids) {
    const leadId = await resolveLeadId(setup.deps, id);
    const state = await setup.repository.getLead(leadId);
    if (state === undefined) throw new Error(`${id} has no lead`);
    const score = scoreLead(state, model, setup.clock.now);
    outcome[id.replace(prefix, '')] = {
      lead: leadId.replace(prefix, ''),
      score: roundCents(score.score),
      events: state.eventCount,
      episode: state.episode,
    };
  }
  return outcome;
}

describe('one batch delivered several times at once', () => {
  it('stores and scores as one pass', {
    timeout: ROUNDS * 20_000,
  }, async () => {
    const setup = await realDependencies({ model });
    for (let round = 0; round < ROUNDS; round += 1) {
      const random = seededRandom(3000 + round);
      const once = `once-${round}`;
      await ingestRetrying(setup, committeeBatch(once, setup.clock.now));
      const raced = `raced-${round}`;
      const batch = committeeBatch(raced, setup.clock.now);

      const answers = await Promise.all(
        Array.from({ length: COPIES }, async () => {
          await pause(random, 30);
          return ingestRetrying(setup, shuffled(batch, random));
        }),
      );

      const scored = answers.flatMap((answer) =>
        answer.results.flatMap((result) =>
          result.status === 'scored' ? [result.messageId] : [],
        ),
      );
      expect(new Set(scored).size).toBe(scored.length);
      expect(await outcomeOf(setup, raced)).toEqual(
        await outcomeOf(setup, once),
      );
    }
    expect(tableViolations(await scanTable(setup))).toEqual([]);
  });
});
