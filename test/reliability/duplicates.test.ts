import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/workload.js';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import { scoreLead } from '../../functions/domain/score.js';
import {
  postBatch,
  type RoutedBackend,
  startRoutedBackend,
} from './support/backend.js';

interface ReplayEvent {
  lead: string;
  minutesAgo: number;
  message: Record<string, unknown>;
}

const REPLAY = JSON.parse(
  readFileSync(new URL('./fixtures/replay.json', import.meta.url), 'utf8'),
) as { events: ReplayEvent[] };
const LEADS = [...new Set(REPLAY.events.map((event) => event.lead))];
const COPIES = 3;
const BATCH = 4;

let backend: RoutedBackend;

beforeAll(async () => {
  backend = await startRoutedBackend();
});

afterAll(() => {
  backend?.stop();
});

/** Returns the replay's messages with ids and times for one pass. */
function messagesFor(prefix: string, start: number): unknown[] {
  return REPLAY.events.map(({ minutesAgo, message }) => {
    const copy: Record<string, unknown> = {
      ...message,
      messageId: `${prefix}${message.messageId}`,
      timestamp: new Date(start - minutesAgo * 60_000).toISOString(),
    };
    if (typeof message.userId === 'string') {
      copy.userId = `${prefix}${message.userId}`;
    }
    if (typeof message.anonymousId === 'string') {
      copy.anonymousId = `${prefix}${message.anonymousId}`;
    }
    return copy;
  });
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

/** Counts "Lead Qualified" events per lead and episode. */
function qualifiedCounts(events: unknown[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of events) {
    const { 'detail-type': type, detail } = event as {
      'detail-type': string;
      detail: { leadId: string; episode: number };
    };
    if (type !== 'Lead Qualified') continue;
    const key = `${detail.leadId}#${detail.episode}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('replay sent three times in shuffled order', () => {
  it('gives the scores of one pass and one MQL per episode', {
    timeout: 120_000,
  }, async () => {
    const run = randomUUID().slice(0, 6);
    const once = `once-${run}-`;
    const thrice = `thrice-${run}-`;
    const start = Date.now();
    for (const message of messagesFor(once, start)) {
      await postBatch([message]);
    }
    const copies = Array.from({ length: COPIES }, () =>
      messagesFor(thrice, start),
    ).flat();
    const order = shuffled(copies, seededRandom(42));
    const batches: unknown[][] = [];
    for (let index = 0; index < order.length; index += BATCH) {
      batches.push(order.slice(index, index + BATCH));
    }
    for (let index = 0; index < batches.length; index += 4) {
      await Promise.all(batches.slice(index, index + 4).map(postBatch));
    }
    const qualified = qualifiedCounts(await backend.drainSalesQueue());

    const model = compileModel(DEFAULT_MODEL_DOCUMENT);
    const at = Date.now();
    let episodes = 0;
    for (const lead of LEADS) {
      const reference = await backend.repository.getLead(`${once}${lead}`);
      const replayed = await backend.repository.getLead(`${thrice}${lead}`);
      expect(replayed?.eventCount, lead).toBe(reference?.eventCount);
      expect(replayed?.status, lead).toBe(reference?.status);
      expect(replayed?.episode, lead).toBe(reference?.episode);
      const expected = scoreLead(reference ?? expect.unreachable(), model, at);
      const actual = scoreLead(replayed ?? expect.unreachable(), model, at);
      expect(actual.score, lead).toBe(expected.score);
      for (const prefix of [once, thrice]) {
        const state = await backend.repository.getLead(`${prefix}${lead}`);
        for (let episode = 1; episode <= (state?.episode ?? 0); episode += 1) {
          expect(qualified.get(`${prefix}${lead}#${episode}`), lead).toBe(1);
          episodes += 1;
        }
      }
    }
    // Every "Lead Qualified" belongs to an episode counted above.
    const total = [...qualified.values()].reduce((sum, n) => sum + n, 0);
    expect(total).toBe(episodes);
    // The replay qualifies several leads, so the check is not vacuous.
    expect(episodes).toBeGreaterThanOrEqual(4);
  });
});
