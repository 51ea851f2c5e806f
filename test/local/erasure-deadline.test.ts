import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemDetails } from '../../functions/adapters/http/problem.js';
import type { ErasureResult } from '../../functions/use-cases/erase-lead.js';
import { loadStageConfig } from '../../lib/stage-config.js';
import type { LocalFunctionSettings } from '../../local/lambda-context.js';
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
 * Timeout of the recycle function in this file. The erasure keeps 3 s
 * of it for its end, so each request deletes for about 1 s.
 */
const RECYCLE_TIMEOUT_SECONDS = 4;

/**
 * Events stored on the lead, each with its message marker. A request of
 * about 1 s deleted 575 to 3,425 items here on a shared 2-core machine,
 * so 10,000 items take several requests.
 */
const EVENTS = 5000;

let backend: TrackingBackend;
let api: LocalApi;

beforeAll(async () => {
  backend = await startTrackingBackend();
  const configDir = join(import.meta.dirname, '..', '..', 'config', 'stages');
  const { functions } = loadStageConfig('local', configDir);
  const recycle: LocalFunctionSettings = {
    ...functions.recycle,
    timeoutSeconds: RECYCLE_TIMEOUT_SECONDS,
  };
  api = await backend.startApi({ functions: { ...functions, recycle } });
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
      // The deadline is the timeout less 3 s, counted from the start of
      // the invocation, which comes after the request was sent.
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(
        (RECYCLE_TIMEOUT_SECONDS - 3) * 1000,
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
