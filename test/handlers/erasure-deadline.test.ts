import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemDetails } from '../../functions/adapters/http/problem.js';
import { runtime } from '../../functions/adapters/runtime.js';
import type { LeadRepository } from '../../functions/ports/lead-repository.js';
import type { ErasureResult } from '../../functions/use-cases/erase-lead.js';
import {
  blog,
  chainedLead,
  itemsNaming,
  storeManyItems,
} from '../fixtures/erasure-leads.js';
import {
  type FaultPlan,
  faultyRepository,
} from '../races/support/faulty-dynamodb.js';
import { scanTable } from '../races/support/table-check.js';
import { manualClock } from '../support/dependencies.js';
import { deleteLead, postBatch } from '../support/handler-calls.js';
import {
  startTrackingBackend,
  type TrackingBackend,
} from '../support/tracking-api.js';

let backend: TrackingBackend;

beforeAll(async () => {
  backend = await startTrackingBackend();
});

afterAll(async () => {
  await backend?.stop();
});

/** Returns a Lambda context with `remainingMs` left before the timeout. */
function contextWithRemaining(remainingMs: number): Context {
  return { getRemainingTimeInMillis: () => remainingMs } as Context;
}

describe('DELETE /leads/{leadId} near the Lambda timeout', () => {
  it('answers 503 and continues on repeat', async () => {
    const userId = 'deadline@acme.example';
    const batch = ['browser-a', 'browser-b'].flatMap((anonymousId) => [
      {
        type: 'page',
        messageId: `${anonymousId}-page`,
        anonymousId,
        properties: { path: '/blog/post' },
      },
      {
        type: 'identify',
        messageId: `${anonymousId}-identify`,
        userId,
        anonymousId,
        traits: { title: 'CPO' },
      },
    ]);
    const stored = await postBatch(batch);
    expect(stored.statusCode).toBe(200);
    const { repository } = (await runtime()).deps;
    expect(await repository.listMergedLeadIds(userId)).toHaveLength(2);

    // 3 seconds left is the time the erasure keeps for its end, so the
    // request deletes no merged lead.
    const stopped = await deleteLead(userId, contextWithRemaining(3000));

    expect(stopped.statusCode).toBe(503);
    expect(stopped.headers?.['retry-after']).toBe('1');
    const problem = JSON.parse(String(stopped.body)) as ProblemDetails;
    expect(problem.type).toBe('urn:mql-engine:problem:concurrent-update');
    expect(problem.detail).toContain('is not finished');
    expect(problem.detail).toContain('Repeat the request');
    expect(await repository.listMergedLeadIds(userId)).toHaveLength(2);

    const repeated = await deleteLead(userId, contextWithRemaining(10_000));

    expect(repeated.statusCode).toBe(200);
    const result = JSON.parse(String(repeated.body)) as ErasureResult;
    expect(result.itemsDeleted).toBeGreaterThan(0);
    expect(await repository.getLead(userId)).toBeUndefined();
    expect(await repository.getLead('anon:browser-a')).toBeUndefined();
    expect(await repository.getLead('anon:browser-b')).toBeUndefined();
  });
});

describe('DELETE /leads/{leadId} of a lead with many items', () => {
  const clock = manualClock(Date.now());
  /** Clock time that one BatchWriteItem call takes. */
  const BATCH_WRITE_MS = 100;
  const plan: { current: FaultPlan } = { current: () => 'pass' };
  let saved: { repository: LeadRepository; clock: () => number };

  beforeAll(async () => {
    // The handlers use a repository whose BatchWriteItem calls move the
    // clock, and that clock, for these tests only.
    const { deps } = await runtime();
    saved = { repository: deps.repository, clock: deps.clock };
    deps.repository = faultyRepository(
      plan,
      backend.table.tableName,
      deps.repository.reviewShards,
      () => clock.now,
    ).repository;
    deps.clock = () => clock.now;
  });

  afterAll(async () => {
    Object.assign((await runtime()).deps, saved);
  });

  it('answers 503 between pages and ends on repeat', {
    timeout: 60_000,
  }, async () => {
    const ids = chainedLead('handler');
    expect((await postBatch(ids.messages)).statusCode).toBe(200);
    await storeManyItems(backend.table, ids.lead, {
      events: 300,
      historyEntries: 50,
      paddingBytes: 0,
    });
    plan.current = (command) => {
      if (command === 'BatchWriteItemCommand') clock.advance(BATCH_WRITE_MS);
      return 'pass';
    };
    const { repository } = (await runtime()).deps;
    // The erasure keeps 3 of the remaining seconds for its end, so each
    // request has 1 second: about 10 BatchWriteItem calls of 25 deletes.
    const context = contextWithRemaining(4000);
    let left = itemsNaming(await scanTable(backend), ids.all).length;

    const stopped: number[] = [];
    let response = await deleteLead(ids.lead, context);
    while (response.statusCode === 503 && stopped.length < 10) {
      const problem = JSON.parse(String(response.body)) as ProblemDetails;
      expect(problem.type).toBe('urn:mql-engine:problem:concurrent-update');
      expect(problem.detail).toMatch(
        /is not finished: it deleted \d+ item\(s\).*Repeat the request/,
      );
      const deleted = Number(/deleted (\d+) item/.exec(problem.detail)?.[1]);
      expect(deleted).toBeGreaterThan(0);
      stopped.push(deleted);
      const items = await scanTable(backend);
      expect(itemsNaming(items, ids.all).length).toBeLessThan(left);
      left = itemsNaming(items, ids.all).length;
      const state = await repository.getLead(ids.lead);
      expect(state?.erasureHeldUntil).toBeDefined();
      const during = await postBatch([
        blog({ userId: ids.lead }, `during-${left}`),
      ]);
      expect(during.statusCode).toBe(503);
      response = await deleteLead(ids.lead, context);
    }

    expect(stopped.length).toBeGreaterThan(1);
    expect(response.statusCode).toBe(200);
    const result = JSON.parse(String(response.body)) as ErasureResult;
    expect(result.itemsDeleted).toBeGreaterThan(0);
    expect(itemsNaming(await scanTable(backend), ids.all)).toEqual([]);
  });
});
