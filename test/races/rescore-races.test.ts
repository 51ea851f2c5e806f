import { describe, expect, inject, it } from 'vitest';
import { compileModel } from '../../functions/domain/model-validation.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { markLeadsForRescore } from '../../scripts/model/rescore.js';
import { pricingPage, qualifyingBatch } from '../fixtures/messages.js';
import { defaultModelDocumentWith } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import { holdWrite, ingestFromWeb, sweepAt } from './support/table-check.js';

/** Compiles the default model with another threshold and recycle level. */
function modelWith(threshold: number, recycleBelow: number) {
  return compileModel(defaultModelDocumentWith(threshold, recycleBelow));
}

describe('rescore racing ingest', () => {
  it('qualifies the lead once', async () => {
    const setup = await realDependencies({ model: modelWith(200, 150) });
    await ingestFromWeb(setup, qualifyingBatch('rescored'));
    setup.clock.advance(DAY_MS);
    setup.deps.model = modelWith(100, 90);
    const ingestWrite = holdWrite(setup, 'web');

    // The ingest has read the lead and scored it under the new model when
    // the rescore marks the same lead.
    const ingest = ingestFromWeb(setup, [
      pricingPage('rescored', { messageId: 'rescored-pricing-2' }),
    ]);
    await ingestWrite.reached;
    const marked = await markLeadsForRescore({
      model: setup.deps.model,
      tableName: setup.table.tableName,
      endpoint: inject('dynamoDbEndpoint'),
      now: setup.clock.now,
    });
    ingestWrite.release();
    const stored = await ingest;
    await sweepAt(setup);

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
