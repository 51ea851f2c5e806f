import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemDetails } from '../../functions/adapters/http/problem.js';
import {
  ERASURE_END_MS,
  MIN_ERASURE_TIMEOUT_SECONDS,
} from '../../functions/handlers/erasure-time.js';
import type { ErasureResult } from '../../functions/use-cases/erase-lead.js';
import { loadStageConfig } from '../../lib/stage-config.js';
import { functionsSchema } from '../../lib/stage-settings.js';
import { identify, storeManyItems } from '../fixtures/erasure-leads.js';
import { scanTable } from '../races/support/table-check.js';
import {
  ADMIN_TOKEN,
  basicAuth,
  type LocalApi,
  startTrackingBackend,
  type TrackingBackend,
  WRITE_KEY,
} from '../support/tracking-api.js';

/**
 * Timeout of the recycle function in this file, the shortest that the
 * stage configuration accepts. The erasure keeps ERASURE_END_MS of it
 * for its end, so each request deletes for about 2 s.
 */
const RECYCLE_TIMEOUT_SECONDS = MIN_ERASURE_TIMEOUT_SECONDS;

/**
 * Events stored on the lead, each with its message marker. On a shared
 * 2-core machine a request deleted 575 to 3,425 items per second, and
 * 3,775 to 6,527 in about 2 s, so 16,000 items take several requests.
 */
const EVENTS = 8000;

let backend: TrackingBackend;
let api: LocalApi;

beforeAll(async () => {
  backend = await startTrackingBackend();
  const configDir = join(import.meta.dirname, '..', '..', 'config', 'stages');
  const { functions } = loadStageConfig('local', configDir);
  // The schema rejects a timeout that synthesis would reject.
  const settings = functionsSchema.parse({
    ...functions,
    recycle: { ...functions.recycle, timeoutSeconds: RECYCLE_TIMEOUT_SECONDS },
  });
  api = await backend.startApi({ functions: settings });
});

afterAll(async () => {
  await backend?.stop();
});

async function erase(leadId: string): Promise<Response> {
  return fetch(`${api.url}/leads/${encodeURIComponent(leadId)}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
}

async function itemsOf(leadId: string): Promise<number> {
  const items = await scanTable(backend);
  return items.filter((item) => JSON.stringify(item).includes(leadId)).length;
}

describe('local DELETE /leads/{leadId} at the function timeout', () => {
  it('answers 503 and continues on repeat', { timeout: 180_000 }, async () => {
    const userId = 'local-deadline@acme.example';
    const stored = await fetch(`${api.url}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(WRITE_KEY),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ batch: [identify(userId, 'CFO')] }),
    });
    expect(stored.status).toBe(200);
    await storeManyItems(backend.table, userId, {
      events: EVENTS,
      historyEntries: 0,
      paddingBytes: 0,
    });
    let left = await itemsOf(userId);
    expect(left).toBeGreaterThan(2 * EVENTS);

    const stopped: number[] = [];
    let started = Date.now();
    let response = await erase(userId);
    while (response.status === 503 && stopped.length < 20) {
      // The deadline is the timeout less ERASURE_END_MS, counted from the
      // start of the invocation, which comes after the request was sent.
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(
        RECYCLE_TIMEOUT_SECONDS * 1000 - ERASURE_END_MS,
      );
      const problem = (await response.json()) as ProblemDetails;
      expect(problem.detail).toMatch(
        /is not finished: it deleted \d+ item\(s\).*Repeat the request/,
      );
      stopped.push(Number(/deleted (\d+) item/.exec(problem.detail)?.[1]));
      const now = await itemsOf(userId);
      expect(now).toBeLessThan(left);
      left = now;
      started = Date.now();
      response = await erase(userId);
    }

    expect(stopped.length).toBeGreaterThan(0);
    expect(stopped.every((deleted) => deleted > 0)).toBe(true);
    expect(response.status).toBe(200);
    const result = (await response.json()) as ErasureResult;
    expect(result.itemsDeleted).toBeGreaterThan(0);
    expect(await itemsOf(userId)).toBe(0);
  });
});
