import { describe, expect, inject, it } from 'vitest';
import { DEFAULT_MODEL_DOCUMENT } from '../../functions/adapters/model-source.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import { DAY_MS } from '../../functions/domain/time.js';
import type { LeadChange } from '../../functions/ports/lead-repository.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { markLeadsForRescore } from '../../scripts/model/rescore.js';
import { pricingPage, qualifyingBatch } from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';
import { holdNextCall } from '../support/held-call.js';

/** Returns the default model with another threshold and recycle level. */
function modelWith(threshold: number, recycleBelow: number) {
  const document = structuredClone(DEFAULT_MODEL_DOCUMENT) as Record<
    string,
    unknown
  >;
  const qualification = document.qualification as Record<string, unknown>;
  document.qualification = { ...qualification, threshold, recycleBelow };
  return compileModel(document);
}

describe('rescore racing ingest', () => {
  it('qualifies the lead once', async () => {
    const setup = await realDependencies({ model: modelWith(200, 150) });
    await ingestMessages(setup.deps, {
      sourceId: 'web',
      messages: qualifyingBatch('rescored'),
      receivedAt: setup.clock.now,
    });
    setup.clock.advance(DAY_MS);
    setup.deps.model = modelWith(100, 90);
    const ingestWrite = holdNextCall(setup.repository, 'saveLeadChange', {
      when: 'before',
      matches: (change: LeadChange) => change.sourceId === 'web',
    });

    // The ingest has read the lead and scored it under the new model when
    // the rescore marks the same lead.
    const ingest = ingestMessages(setup.deps, {
      sourceId: 'web',
      messages: [pricingPage('rescored', { messageId: 'rescored-pricing-2' })],
      receivedAt: setup.clock.now,
    });
    await ingestWrite.reached;
    const marked = await markLeadsForRescore({
      model: setup.deps.model,
      tableName: setup.table.tableName,
      endpoint: inject('dynamoDbEndpoint'),
      now: setup.clock.now,
    });
    ingestWrite.release();
    const stored = await ingest;
    await runSweep(setup.deps, {
      now: setup.clock.now,
      deadline: Number.POSITIVE_INFINITY,
    });

    expect(marked.marked).toBe(1);
    expect(stored.leads[0]?.status).toBe('mql');
    const lead = await setup.repository.getLead('rescored');
    expect(lead?.status).toBe('mql');
    expect(lead?.episode).toBe(1);
    expect(lead?.lastScore?.modelVersion).toBe(setup.deps.model.version);
    const qualified = setup.published.filter(
      (event) => event.detailType === 'Lead Qualified',
    );
    expect(qualified).toHaveLength(1);
    const history = await setup.repository.listHistory('rescored', 10);
    const qualifications = history.entries.filter(
      (entry) => entry.before?.status !== 'mql' && entry.after.status === 'mql',
    );
    expect(qualifications).toHaveLength(1);
  });
});
