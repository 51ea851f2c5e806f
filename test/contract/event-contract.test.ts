import { describe, expect, it } from 'vitest';
import {
  DETAIL_SCHEMAS,
  detailProblem,
} from '../../functions/domain/event-contract.js';
import {
  segmentMessageSchema,
  toTrackingEvent,
} from '../../functions/domain/messages.js';
import { updateLead } from '../../functions/use-cases/update-lead.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { faultyDependencies } from '../support/fault-injection.js';

async function qualifiedDetail(includeEmail: boolean) {
  const setup = await faultyDependencies({ current: () => undefined });
  setup.deps.eventOptions = { includeEmail };
  const userId = 'jane';
  const events = qualifyingBatch(userId).map((message) =>
    toTrackingEvent(segmentMessageSchema.parse(message), setup.clock.now),
  );
  const update = await updateLead(
    setup.deps,
    'default',
    userId,
    events,
    setup.clock.now,
  );
  const [event] = update.outgoing;
  if (event?.detailType !== 'Lead Qualified') {
    throw new Error('the batch did not qualify the lead');
  }
  return event.detail;
}

describe('Lead Qualified detail', () => {
  it('matches its registered schema', async () => {
    const detail = await qualifiedDetail(false);

    expect(detailProblem('Lead Qualified', detail)).toBeUndefined();
    expect(detail.schemaVersion).toBe('1');
    expect(detail.topContributions.length).toBeLessThanOrEqual(5);
  });

  it('names the persona the fit rules matched', async () => {
    const detail = await qualifiedDetail(false);

    expect(detail.persona).toBe('title-chief-procurement-officer');
  });

  it('leaves the email out by default', async () => {
    const detail = await qualifiedDetail(false);

    expect(detail.email).toBeUndefined();
    expect(JSON.stringify(detail)).not.toContain('@');
  });

  it('carries the email when the stage allows it', async () => {
    const detail = await qualifiedDetail(true);

    expect(detail.email).toBe('jane@acme-industrial.example.com');
  });
});

describe('detailProblem', () => {
  it('rejects an unknown detail type', () => {
    expect(detailProblem('Lead Teleported', {})).toContain(
      'Unknown detail type "Lead Teleported"',
    );
  });

  it('names each invalid field', () => {
    const problem = detailProblem('Lead Erased', {
      schemaVersion: '1',
      eventId: 'e1',
      occurredAt: 'yesterday',
    });

    expect(problem).toContain('occurredAt');
    expect(problem).toContain('leadId');
  });

  it('rejects fields outside the contract', () => {
    const problem = detailProblem('Lead Erased', {
      schemaVersion: '1',
      eventId: 'e1',
      occurredAt: '2026-06-01T00:00:00.000Z',
      leadId: 'lead-1',
      traits: { name: 'Jane' },
    });

    expect(problem).toContain('traits');
  });

  it.each(Object.keys(DETAIL_SCHEMAS))('%s requires an event id', (type) => {
    expect(detailProblem(type, { schemaVersion: '1' })).toContain('eventId');
  });
});
