import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/workload.js';
import {
  ConcurrencyError,
  ConflictError,
  NotFoundError,
  ValidationError,
} from '../../functions/domain/errors.js';
import {
  applyEvents,
  incarnationOf,
  type LeadState,
  newLead,
} from '../../functions/domain/lead.js';
import {
  accountQualifiedEvent,
  transitionEventId,
} from '../../functions/domain/outgoing-events.js';
import { scoreLead } from '../../functions/domain/score.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { getAccount } from '../../functions/use-cases/get-account.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { accountModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import {
  pause,
  type RaceSetup,
  raceRounds,
  retryingConflicts,
  scanTable,
  storedEvents,
  type TableItem,
  tableViolations,
} from './support/table-check.js';

// One round per test keeps `npm test` short. Each round draws its own
// seed, so RACE_ROUNDS=20 runs 20 rounds of each for a longer search.
const ROUNDS = raceRounds(1);
const WAVES = 3;
const STEPS_PER_WAVE = 14;

/** Ids one round writes: users of two domains, gmail users and browsers. */
function roundIds(round: number) {
  return {
    users: [
      `cpo-${round}@acme.example`,
      `cfo-${round}@acme.example`,
      `cio-${round}@globex.example`,
      `buyer-${round}@globex.example`,
      `solo-${round}@gmail.com`,
    ],
    anonymous: [
      `browser-${round}-a`,
      `browser-${round}-b`,
      `browser-${round}-c`,
    ],
    groups: [`group-${round}-x`, `group-${round}-y`],
    companies: [`Initech ${round}`, `Umbrella ${round}`],
  };
}

type RoundIds = ReturnType<typeof roundIds>;

// Every title but the student's reaches the model's minimum fit with a
// large manufacturing company, so leads qualify often.
const TITLES = ['CPO', 'CFO', 'CIO', 'Head of Procurement', 'Student'];

const DISPOSITIONS = [
  { kind: 'accepted' },
  { kind: 'rejected', reason: 'no budget' },
  { kind: 'recycled', reason: 'not now' },
  { kind: 'converted', convertedTo: 'sql' },
] as const;

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Everything a round observed: unexpected failures and erasures. */
interface Observed {
  failures: string[];
  erasures: { requested: string; leadId: string }[];
  tag: string;
  sequence: number;
}

function messageId(observed: Observed, kind: string): string {
  observed.sequence += 1;
  return `${observed.tag}-${kind}-${observed.sequence}`;
}

/** Builds one random message among the ids of a round. */
function randomMessage(
  ids: RoundIds,
  observed: Observed,
  random: () => number,
): Record<string, unknown> {
  const user = pick(ids.users, random);
  const anonymous = pick(ids.anonymous, random);
  const choice = Math.floor(random() * 8);
  if (choice === 0) {
    return {
      type: 'identify',
      messageId: messageId(observed, 'identify'),
      userId: user,
      anonymousId: anonymous,
      traits: {
        title: pick(TITLES, random),
        email: user,
        company: {
          employee_count: 5000,
          industry: 'Manufacturing',
          name: pick(ids.companies, random),
        },
      },
    };
  }
  if (choice === 1 && random() < 0.4) {
    // An alias renames one user id into another, so chains form.
    const previous = pick(ids.users, random);
    return {
      type: 'alias',
      messageId: messageId(observed, 'alias'),
      userId: user,
      previousId: previous,
    };
  }
  if (choice === 2) {
    return {
      type: 'group',
      messageId: messageId(observed, 'group'),
      userId: user,
      groupId: pick(ids.groups, random),
    };
  }
  if (choice === 3) {
    // Company traits move an anonymous lead or a gmail user between
    // company accounts.
    const owner =
      random() < 0.5 ? { anonymousId: anonymous } : { userId: ids.users[4] };
    return {
      type: 'identify',
      messageId: messageId(observed, 'company'),
      ...owner,
      traits: {
        title: pick(TITLES, random),
        company: {
          employee_count: 5000,
          industry: 'Manufacturing',
          name: pick(ids.companies, random),
        },
      },
    };
  }
  const target = random() < 0.6 ? { userId: user } : { anonymousId: anonymous };
  if (choice === 4 || choice === 5) {
    return {
      type: 'track',
      messageId: messageId(observed, 'demo'),
      event: 'Demo Requested',
      ...target,
    };
  }
  return {
    type: 'page',
    messageId: messageId(observed, 'page'),
    ...target,
    properties: { path: random() < 0.5 ? '/pricing' : '/blog/post' },
  };
}

/** Records an error unless it is a documented 4xx or a 503 to retry. */
function noteError(observed: Observed, step: string, error: unknown) {
  if (
    error instanceof ConcurrencyError ||
    error instanceof NotFoundError ||
    error instanceof ConflictError ||
    error instanceof ValidationError
  ) {
    return;
  }
  const text = error instanceof Error ? error.stack : String(error);
  observed.failures.push(`${step}: ${text}`);
}

/** Runs one random step: ingest, disposition, sweep or erasure. */
async function randomStep(
  setup: RaceSetup,
  ids: RoundIds,
  observed: Observed,
  random: () => number,
  erase: boolean,
): Promise<void> {
  await pause(random, 25);
  const choice = Math.floor(random() * 10);
  const anyId = () =>
    random() < 0.7
      ? pick(ids.users, random)
      : `anon:${pick(ids.anonymous, random)}`;
  try {
    if (choice < 5) {
      const count = 1 + Math.floor(random() * 3);
      const messages = Array.from({ length: count }, () =>
        randomMessage(ids, observed, random),
      );
      await retryingConflicts(() =>
        ingestMessages(setup.deps, {
          sourceId: 'web',
          messages,
          receivedAt: setup.clock.now,
        }),
      );
    } else if (choice < 7) {
      const request = pick(DISPOSITIONS, random);
      await retryingConflicts(() =>
        recordDisposition(setup.deps, anyId(), request),
      );
    } else if (choice < 9 || !erase) {
      await retryingConflicts(() =>
        runSweep(setup.deps, {
          now: setup.clock.now,
          deadline: Number.POSITIVE_INFINITY,
        }),
      );
    } else {
      const requested = anyId();
      const erasure = await retryingConflicts(() =>
        eraseLead(setup.deps, requested),
      );
      observed.erasures.push({ requested, leadId: erasure.leadId });
    }
  } catch (error) {
    noteError(observed, `step ${choice}`, error);
  }
}

/**
 * Lists live leads whose stored score differs from the score of their
 * stored events applied to a new lead, at the clock's time.
 */
async function scoreMismatches(
  setup: RaceSetup,
  states: readonly LeadState[],
): Promise<string[]> {
  const { model } = setup.deps;
  const now = setup.clock.now;
  const mismatches: string[] = [];
  for (const state of states) {
    const events = await storedEvents(setup, state.leadId);
    const first = Math.min(...events.map((e) => e.occurredAt), now);
    const rebuilt = applyEvents(
      newLead(state.leadId, model, first),
      events,
      model,
    ).state;
    const expected = scoreLead(rebuilt, model, now);
    const actual = scoreLead(state, model, now);
    if (Math.abs(expected.score - actual.score) > 1e-6) {
      mismatches.push(
        `${state.leadId}: score ${actual.score}, events give ${expected.score} (${events.length} events)`,
      );
    }
    if (Math.abs(expected.fit - actual.fit) > 1e-6) {
      mismatches.push(
        `${state.leadId}: fit ${actual.fit}, events give ${expected.fit}`,
      );
    }
  }
  return mismatches;
}

/** Lists lead transitions the final states imply but the bus never got. */
function leadEventGaps(
  setup: RaceSetup,
  states: readonly LeadState[],
): string[] {
  const published = new Set(setup.published.map((event) => event.eventId));
  const gaps: string[] = [];
  for (const state of states) {
    const incarnation = incarnationOf(state);
    if (state.status === 'mql') {
      const id = transitionEventId(
        state.leadId,
        state.episode,
        'qualified',
        incarnation,
      );
      if (!published.has(id)) {
        gaps.push(`${state.leadId}: no Lead Qualified of ${state.episode}`);
      }
    }
    for (
      let episode = state.episode + 1;
      episode <= state.episode + 3;
      episode += 1
    ) {
      const id = transitionEventId(
        state.leadId,
        episode,
        'qualified',
        incarnation,
      );
      if (published.has(id)) {
        gaps.push(`${state.leadId}: Lead Qualified of ${episode} published`);
      }
    }
  }
  return gaps;
}

/**
 * Lists account episodes whose "Account Qualified" is missing or was
 * published past the account's stored episode.
 */
function accountEventGaps(
  setup: RaceSetup,
  items: readonly TableItem[],
): string[] {
  const { model } = setup.deps;
  const published = new Set(setup.published.map((event) => event.eventId));
  const gaps: string[] = [];
  for (const item of items) {
    if (item.entity !== 'account') continue;
    const accountId = String(item.accountId);
    const episode = Number(item.episode);
    const incarnation = item.incarnationId as string | undefined;
    const idOf = (n: number) =>
      accountQualifiedEvent(
        accountId,
        {
          episode: n,
          at: 0,
          score: {
            score: 0,
            fit: 0,
            engagement: 0,
            covered: [],
            missing: [],
            leads: 0,
            engagedLeads: 0,
          },
        } as never,
        model,
        0,
        incarnation,
      ).eventId;
    for (let n = 1; n <= episode; n += 1) {
      if (!published.has(idOf(n))) {
        gaps.push(`${accountId}: no Account Qualified of ${n}`);
      }
    }
    for (let n = episode + 1; n <= episode + 3; n += 1) {
      if (published.has(idOf(n))) {
        gaps.push(`${accountId}: Account Qualified of ${n} published`);
      }
    }
  }
  return gaps;
}

/**
 * Lists lead or account episodes published under two event ids. Only
 * valid without erasures, because an erasure starts a new incarnation
 * whose episodes repeat the numbers under new event ids.
 */
function duplicateEpisodes(setup: RaceSetup): string[] {
  const ids = new Map<string, Set<string>>();
  for (const event of setup.published) {
    if (
      event.detailType !== 'Lead Qualified' &&
      event.detailType !== 'Account Qualified'
    ) {
      continue;
    }
    const owner = event.leadId ?? event.accountId;
    const episode = (event.detail as { episode?: number }).episode;
    const key = `${event.detailType} ${owner} ${episode}`;
    const set = ids.get(key) ?? new Set();
    set.add(event.eventId);
    ids.set(key, set);
  }
  return [...ids]
    .filter(([, set]) => set.size > 1)
    .map(([key, set]) => `${key}: ${set.size} event ids`);
}

/**
 * Lists accounts whose lead count differs from the number of live leads
 * that point at them, counting an email-domain account linked to a
 * group's account as part of the group's.
 */
async function memberCountGaps(
  setup: RaceSetup,
  states: readonly LeadState[],
): Promise<string[]> {
  const canonical = new Map<string, string>();
  const expected = new Map<string, number>();
  for (const state of states) {
    const accountId = state.membership?.accountId;
    if (accountId === undefined) continue;
    if (!canonical.has(accountId)) {
      const view = await getAccount(setup.deps, accountId);
      canonical.set(accountId, view.accountId);
    }
    const shown = canonical.get(accountId) as string;
    expected.set(shown, (expected.get(shown) ?? 0) + 1);
  }
  const gaps: string[] = [];
  for (const [accountId, count] of expected) {
    const view = await getAccount(setup.deps, accountId);
    if (view.leadCount !== count) {
      gaps.push(`${accountId}: leadCount ${view.leadCount}, ${count} leads`);
    }
  }
  return gaps;
}

/** Lists event ids the bus accepted more than once. */
function republished(setup: RaceSetup): string[] {
  const counts = new Map<string, number>();
  for (const event of setup.published) {
    const key = `${event.detailType} ${event.eventId}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .filter(([, count]) => count > 1)
    .map(([key, count]) => `${key}: published ${count} times`);
}

/** Checks every invariant that must be true once no request is running. */
async function checkRound(setup: RaceSetup, observed: Observed) {
  const items = await scanTable(setup);
  const states = items
    .filter((item) => item.entity === 'lead' && item.mergedInto === undefined)
    .map((item) => item.leadId as string);
  const live: LeadState[] = [];
  for (const leadId of states) {
    const state = await setup.repository.getLead(leadId);
    if (state !== undefined && state.mergedInto === undefined) {
      live.push(state);
    }
  }
  expect(observed.failures).toEqual([]);
  expect(tableViolations(items)).toEqual([]);
  expect(await scoreMismatches(setup, live)).toEqual([]);
  expect(leadEventGaps(setup, live)).toEqual([]);
  expect(accountEventGaps(setup, items)).toEqual([]);
  expect(await memberCountGaps(setup, live)).toEqual([]);
  const outbox = items.filter((item) => item.entity === 'outbox');
  expect(outbox.map((item) => item.PK)).toEqual([]);
  expect(republished(setup)).toEqual([]);
  return items;
}

async function settle(setup: RaceSetup) {
  // Unfinished merges resume two minutes later at the sweep.
  setup.clock.advance(3 * 60_000);
  await retryingConflicts(() =>
    runSweep(setup.deps, {
      now: setup.clock.now,
      deadline: Number.POSITIVE_INFINITY,
    }),
  );
}

describe('identity, accounts, dispositions and sweep', () => {
  it('keep scores, episodes and members consistent', {
    timeout: ROUNDS * 60_000,
  }, async () => {
    const setup = await realDependencies({ model: accountModel() });
    for (let round = 0; round < ROUNDS; round += 1) {
      const seed = 7000 + round;
      const random = seededRandom(seed);
      const ids = roundIds(round);
      const observed: Observed = {
        failures: [],
        erasures: [],
        tag: `r${round}`,
        sequence: 0,
      };
      for (let wave = 0; wave < WAVES; wave += 1) {
        setup.clock.advance(Math.floor(random() * 20) * DAY_MS);
        await Promise.all(
          Array.from({ length: STEPS_PER_WAVE }, () =>
            randomStep(setup, ids, observed, random, false),
          ),
        );
      }
      await settle(setup);
      await checkRound(setup, observed);
      expect(duplicateEpisodes(setup), `seed ${seed}`).toEqual([]);
    }
  });
});

describe('erasure racing merges, accounts and sweep', () => {
  it('leaves nothing of the erased leads', {
    timeout: ROUNDS * 60_000,
  }, async () => {
    const setup = await realDependencies({ model: accountModel() });
    for (let round = 0; round < ROUNDS; round += 1) {
      const seed = 8000 + round;
      const random = seededRandom(seed);
      const ids = roundIds(round);
      const observed: Observed = {
        failures: [],
        erasures: [],
        tag: `e${round}`,
        sequence: 0,
      };
      for (let wave = 0; wave < WAVES; wave += 1) {
        setup.clock.advance(Math.floor(random() * 20) * DAY_MS);
        await Promise.all(
          Array.from({ length: STEPS_PER_WAVE }, () =>
            randomStep(setup, ids, observed, random, true),
          ),
        );
      }
      const earlyMessages = new Set(
        (await scanTable(setup))
          .filter(
            (item) =>
              item.entity === 'event' &&
              String(item.messageId).startsWith(`${observed.tag}-`),
          )
          .map((item) => String(item.messageId)),
      );
      const publishedBefore = setup.published.length;
      // Every id of the round is erased while later messages of the same
      // ids keep arriving under new message ids.
      const lateObserved: Observed = { ...observed, tag: `late-${round}` };
      lateObserved.failures = observed.failures;
      const everyId = [
        ...ids.users,
        ...ids.anonymous.map((id) => `anon:${id}`),
      ];
      const erasures = everyId.map(async (requested) => {
        await pause(random, 30);
        // Erases until the id is unknown, because a late message can
        // store the id again. A 503 is retried as a client would.
        for (let attempt = 0; attempt < 20; attempt += 1) {
          try {
            const erasure = await retryingConflicts(() =>
              eraseLead(setup.deps, requested),
            );
            observed.erasures.push({ requested, leadId: erasure.leadId });
          } catch (error) {
            if (error instanceof NotFoundError) return;
            if (!(error instanceof ConcurrencyError)) {
              noteError(observed, `erase ${requested}`, error);
              return;
            }
          }
        }
        observed.failures.push(`erase ${requested}: still stored`);
      });
      const late = Array.from({ length: 8 }, () =>
        randomStep(setup, ids, lateObserved, random, false),
      );
      await Promise.all([...erasures, ...late]);
      await settle(setup);

      const items = await checkRound(setup, observed);
      const left = items.filter((item) =>
        earlyMessages.has(String(item.messageId)),
      );
      expect(
        left.map((item) => `${item.PK} ${item.entity} ${item.messageId}`),
        `seed ${seed}`,
      ).toEqual([]);
      // No transition id published for an erased lead before its "Lead
      // Erased" appears again after it.
      const after = setup.published.slice(publishedBefore);
      const before = new Set(
        setup.published.slice(0, publishedBefore).map((e) => e.eventId),
      );
      const repeated = after.filter(
        (event) =>
          event.detailType !== 'Lead Erased' && before.has(event.eventId),
      );
      expect(repeated.map((e) => `${e.detailType} ${e.leadId}`)).toEqual([]);
    }
  });
});
