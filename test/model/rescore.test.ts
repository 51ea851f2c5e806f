import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { markLeadsForRescore } from '../../scripts/model/rescore.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';

/** The default model with other qualification levels. */
function modelDocument(threshold: number, recycleBelow: number) {
  const document = structuredClone(DEFAULT_MODEL_DOCUMENT) as Record<
    string,
    unknown
  >;
  const qualification = document.qualification as Record<string, unknown>;
  document.qualification = { ...qualification, threshold, recycleBelow };
  return document;
}

async function modelFile(document: unknown): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'rescore-'));
  const file = join(directory, 'model.json');
  await writeFile(file, JSON.stringify(document));
  return file;
}

/**
 * Stores qualifyingBatch(leadId), a lead of 125 points, under the model
 * `before`, then changes the model to `after` and marks the leads for
 * the sweep as `npm run model -- rescore` does.
 */
async function changeModel(
  leadId: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
) {
  const setup = await realDependencies({ model: compileModel(before) });
  const stored = await ingestMessages(setup.deps, {
    sourceId: 'default',
    messages: qualifyingBatch(leadId),
    receivedAt: setup.clock.now,
  });
  setup.clock.advance(DAY_MS);
  setup.deps.model = compileModel(after);
  const rescore = () =>
    markLeadsForRescore({
      model: setup.deps.model,
      tableName: setup.table.tableName,
      endpoint: inject('dynamoDbEndpoint'),
      now: setup.clock.now,
    });
  return { ...setup, stored, rescore };
}

describe('markLeadsForRescore', () => {
  it('lets the sweep qualify a lead under a new model', async () => {
    const { deps, clock, stored, published, rescore } = await changeModel(
      'newly-qualified',
      modelDocument(200, 150),
      modelDocument(100, 90),
    );

    const marked = await rescore();
    const sweep = await runSweep(deps, { now: clock.now, deadline: Infinity });
    const again = await rescore();

    expect(stored.leads[0]?.status).toBe('engaged');
    expect(marked).toEqual({ leads: 1, marked: 1 });
    expect(sweep.qualified).toBe(1);
    const lead = await deps.repository.getLead('newly-qualified');
    expect(lead?.status).toBe('mql');
    expect(lead?.qualifiedAt).toBe(clock.now);
    expect(lead?.nextReviewAt).toBeGreaterThan(clock.now);
    expect(published.map((event) => event.detailType)).toEqual([
      'Lead Qualified',
    ]);
    expect(published[0]?.detail).toMatchObject({
      episode: 1,
      threshold: 100,
      modelVersion: deps.model.version,
    });
    expect(again).toEqual({ leads: 1, marked: 0 });
  });

  it('lets the sweep recycle an MQL under a new model', async () => {
    const { deps, clock, stored, published, rescore } = await changeModel(
      'newly-recycled',
      modelDocument(100, 90),
      modelDocument(200, 150),
    );

    const marked = await rescore();
    const sweep = await runSweep(deps, { now: clock.now, deadline: Infinity });

    expect(stored.leads[0]?.status).toBe('mql');
    expect(marked).toEqual({ leads: 1, marked: 1 });
    expect(sweep.recycled).toBe(1);
    const lead = await deps.repository.getLead('newly-recycled');
    expect(lead?.status).toBe('recycled');
    // The new model puts the lead below its recycle level from its last
    // write on, so the review recycles it at that time.
    expect(lead?.recycledAt).toBe(clock.now - DAY_MS);
    expect(published.map((event) => event.detailType)).toEqual([
      'Lead Qualified',
      'Lead Recycled',
    ]);
    expect(published[1]?.detail).toMatchObject({
      episode: 1,
      recycleBelow: 150,
      reason: 'score fell below the recycle level 150',
    });
  });

  it('leaves leads of the same model out of the index', async () => {
    const { deps, clock, rescore } = await changeModel(
      'same-model',
      modelDocument(100, 90),
      modelDocument(100, 90),
    );

    const marked = await rescore();
    const sweep = await runSweep(deps, { now: clock.now, deadline: Infinity });

    expect(marked).toEqual({ leads: 1, marked: 0 });
    expect(sweep.read).toBe(0);
  });
});

describe('model rescore', () => {
  it('marks the leads of another model', async () => {
    const { table } = await changeModel(
      'rescored-by-command',
      modelDocument(200, 150),
      modelDocument(200, 150),
    );
    const file = await modelFile(modelDocument(100, 90));

    const { stdout } = await promisify(execFile)(
      'node_modules/.bin/tsx',
      [
        'scripts/model.ts',
        'rescore',
        file,
        '--table',
        table.tableName,
        '--endpoint',
        inject('dynamoDbEndpoint'),
      ],
      { cwd: process.cwd(), timeout: 60_000 },
    );

    expect(stdout).toMatch(
      /^1 of 1 leads were scored by another model than [0-9a-f]{12} and are due for the next sweep\.\n$/,
    );
  });
});
