import { describe, expect, it } from 'vitest';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import {
  type FaultPlan,
  faultyDynamoDependencies,
} from './support/faulty-dynamodb.js';

const PASS: FaultPlan = () => 'pass';

/** Tells whether a call's input contains `text`, as its JSON shows it. */
function mentions(input: unknown, text: string): boolean {
  return JSON.stringify(input).includes(text);
}

describe('erasure after a lost response', () => {
  it('completes when the hold was applied', async () => {
    const plan = { current: PASS };
    const setup = await faultyDynamoDependencies(plan);
    const ingest = (messages: unknown[]) =>
      ingestMessages(setup.deps, {
        sourceId: 'web',
        messages,
        receivedAt: setup.clock.now,
      });
    await ingest(qualifyingBatch('held-once'));
    let lost = false;
    plan.current = (command, input) => {
      const isHold =
        command === 'UpdateItemCommand' && mentions(input, 'erasureHeldUntil');
      if (!isHold || lost) return 'pass';
      lost = true;
      return 'lost-response';
    };

    const erasure = await eraseLead(setup.deps, 'held-once');

    expect(lost).toBe(true);
    expect(erasure.result.itemsDeleted).toBeGreaterThan(0);
    expect(await setup.repository.getLead('held-once')).toBeUndefined();
  });

  it('answers 200 when the delete was applied', async () => {
    const plan = { current: PASS };
    const setup = await faultyDynamoDependencies(plan);
    await ingestMessages(setup.deps, {
      sourceId: 'web',
      messages: qualifyingBatch('deleted-once'),
      receivedAt: setup.clock.now,
    });
    let lost = false;
    plan.current = (command, input) => {
      const isStateDelete =
        command === 'TransactWriteItemsCommand' &&
        mentions(input, '"STATE"') &&
        mentions(input, 'Lead Erased');
      if (!isStateDelete || lost) return 'pass';
      lost = true;
      return 'lost-response';
    };

    const erasure = await eraseLead(setup.deps, 'deleted-once');

    expect(lost).toBe(true);
    expect(erasure.result.itemsDeleted).toBeGreaterThan(0);
    const erased = setup.published.filter(
      (event) => event.detailType === 'Lead Erased',
    );
    expect(erased).toHaveLength(1);
  });
});
