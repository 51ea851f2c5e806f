import { describe, expect, it } from 'vitest';
import {
  CapacityExceededError,
  ConcurrencyError,
} from '../../functions/domain/errors.js';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import {
  type EntryFault,
  FAULTS,
  outboxEntries,
  qualifiedWithFault,
} from '../support/fault-injection.js';

const ACCEPT: EntryFault = () => undefined;

describe('erasure with outbox entries the bus rejects', () => {
  it('erases a lead whose event the bus rejected for good', async () => {
    const { setup, fault } = await qualifiedWithFault(
      'poisoned',
      () => FAULTS.invalid,
    );
    const [failed] = await outboxEntries(setup.repository);
    expect(failed?.status).toBe('failed');
    // The bus keeps rejecting that event and takes every other one.
    const rejectedId = failed?.event.eventId;
    fault.current = (eventId) =>
      eventId === rejectedId ? FAULTS.invalid : undefined;

    const erasure = await eraseLead(setup.deps, 'poisoned');

    expect(erasure.result.itemsDeleted).toBeGreaterThan(0);
    expect(await setup.repository.getLead('poisoned')).toBeUndefined();
    expect(await outboxEntries(setup.repository)).toEqual([]);
    const warnings = setup.log.entries.map((entry) => entry.message);
    expect(warnings).toContain('rejected events erased with the lead');
  });

  it('sends a failed entry once more', async () => {
    const { setup, fault } = await qualifiedWithFault(
      'fixed-bus',
      () => FAULTS.invalid,
    );
    const [failed] = await outboxEntries(setup.repository);
    const failedId = failed?.event.eventId;
    // The bus throttles the erasure's send of the failed event, and
    // accepts it on the next request.
    fault.current = () => FAULTS.throttled;

    const throttled = eraseLead(setup.deps, 'fixed-bus');

    await expect(throttled).rejects.toThrow(CapacityExceededError);
    fault.current = ACCEPT;
    const erasure = await eraseLead(setup.deps, 'fixed-bus');
    expect(failed?.status).toBe('failed');
    expect(erasure.result.itemsDeleted).toBeGreaterThan(0);
    expect(setup.delivered).toContain(failedId);
    expect(await outboxEntries(setup.repository)).toEqual([]);
  });

  it.each([
    { name: 'throttled', error: CapacityExceededError },
    { name: 'internal', error: ConcurrencyError },
  ] as const)(
    'waits for a $name event the bus may still accept',
    async ({ name, error }) => {
      const { setup, fault } = await qualifiedWithFault(
        name,
        () => FAULTS[name],
      );
      const pending = await outboxEntries(setup.repository);

      await expect(eraseLead(setup.deps, name)).rejects.toThrow(error);
      expect(pending.length).toBeGreaterThan(0);
      expect(await outboxEntries(setup.repository)).toHaveLength(
        pending.length,
      );
      fault.current = ACCEPT;
      const erasure = await eraseLead(setup.deps, name);

      expect(erasure.result.itemsDeleted).toBeGreaterThan(0);
      expect(setup.delivered).toHaveLength(2);
    },
  );
});
