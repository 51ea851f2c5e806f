import { describe, expect, it } from 'vitest';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';
import {
  holdWrite,
  ingestFromWeb,
  type RaceSetup,
  sweepAfterGrace,
} from './support/table-check.js';

function alias(previousId: string, userId: string) {
  return {
    type: 'alias',
    messageId: `alias-${previousId}`,
    previousId,
    userId,
  };
}

function dispositionEvents(setup: RaceSetup) {
  return setup.published.filter(
    (event) => event.detailType === 'Lead Disposition Changed',
  );
}

const ACCEPTED = { kind: 'accepted' } as const;

describe('alias merge racing a disposition on the merged lead', () => {
  it('carries earlier disposition into merge', async () => {
    const setup = await realDependencies();
    await ingestFromWeb(setup, qualifyingBatch('old-id'));
    const mergeWrite = holdWrite(setup, 'identity');

    const merge = ingestFromWeb(setup, [alias('old-id', 'new-id')]);
    await mergeWrite.reached;
    const first = await recordDisposition(setup.deps, 'old-id', ACCEPTED);
    mergeWrite.release();
    await merge;
    const retry = await recordDisposition(setup.deps, 'old-id', ACCEPTED);
    await sweepAfterGrace(setup);

    expect(first.changed).toBe(true);
    expect(retry.changed).toBe(false);
    const tombstone = await setup.repository.getLead('old-id');
    expect(tombstone?.mergedInto).toBe('new-id');
    expect(tombstone?.disposition?.kind).toBe('accepted');
    const events = dispositionEvents(setup);
    expect(events).toHaveLength(1);
    expect(events[0]?.leadId).toBe('old-id');
  });

  it('applies later disposition to merged lead', async () => {
    const setup = await realDependencies();
    await ingestFromWeb(setup, qualifyingBatch('old-id'));
    const salesWrite = holdWrite(setup, 'sales');

    const disposition = recordDisposition(setup.deps, 'old-id', ACCEPTED);
    await salesWrite.reached;
    await ingestFromWeb(setup, [alias('old-id', 'new-id')]);
    salesWrite.release();
    const result = await disposition;
    await sweepAfterGrace(setup);

    const tombstone = await setup.repository.getLead('old-id');
    const target = await setup.repository.getLead('new-id');
    expect(result.changed).toBe(true);
    expect(tombstone?.mergedInto).toBe('new-id');
    expect(tombstone?.disposition).toBeUndefined();
    expect(target?.status).toBe('mql');
    expect(target?.disposition?.kind).toBe('accepted');
    expect(target?.disposition?.episode).toBe(target?.episode);
    const events = dispositionEvents(setup);
    expect(events).toHaveLength(1);
    expect(events[0]?.leadId).toBe('new-id');
  });
});
