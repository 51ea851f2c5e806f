import { describe, expect, it } from 'vitest';
import type { LeadStatus } from '../../functions/domain/lead.js';
import type { IngestResult } from '../../functions/use-cases/ingest-messages.js';
import type { BatchResponse } from '../../scripts/replay/api-client.js';
import { ReplayTally } from '../../scripts/replay/tally.js';

const BATCH = { items: [], endOffset: 0 };

/** Returns a response that reports one lead at a stored version. */
function responseFor(status: LeadStatus, version: number): IngestResult {
  return {
    results: [],
    leads: [
      {
        leadId: 'lead-1',
        status,
        score: status === 'mql' ? 120 : 40,
        fit: 40,
        intent: status === 'mql' ? 80 : 0,
        episode: status === 'mql' ? 1 : 0,
        version,
      },
    ],
    counts: { scored: 1, duplicate: 0, rejected: 0 },
    events: { published: 0, pending: 0, failed: 0 },
    transitions: { qualified: 0, recycled: 0 },
  };
}

describe('ReplayTally', () => {
  it('counts the newer MQL that finished first', () => {
    const tally = new ReplayTally();

    tally.recordBatch(BATCH, responseFor('mql', 5));
    tally.recordBatch(BATCH, responseFor('engaged', 4));

    expect(tally.mqlCount).toBe(1);
    expect(tally.leadCount).toBe(1);
  });

  it('drops an older MQL that finished last', () => {
    const tally = new ReplayTally();

    tally.recordBatch(BATCH, responseFor('recycled', 7));
    tally.recordBatch(BATCH, responseFor('mql', 6));

    expect(tally.mqlCount).toBe(0);
  });

  it('takes a later version in order', () => {
    const tally = new ReplayTally();

    tally.recordBatch(BATCH, responseFor('engaged', 1));
    tally.recordBatch(BATCH, responseFor('mql', 2));

    expect(tally.mqlCount).toBe(1);
  });

  it('reports no leads when responses omit them', () => {
    const tally = new ReplayTally();
    const { leads: _leads, ...counts } = responseFor('mql', 1);

    tally.recordBatch(BATCH, counts);

    expect(tally.leadCount).toBeNull();
    expect(tally.mqlCount).toBeNull();
  });

  it('reports no events when responses omit them', () => {
    const tally = new ReplayTally();
    const { leads: _leads, events: _events, ...counts } = responseFor('mql', 1);

    tally.recordBatch(BATCH, counts satisfies BatchResponse);

    expect(tally.counts.eventsPublished).toBeNull();
    expect(tally.counts.eventsPending).toBeNull();
    expect(tally.counts.scored).toBe(1);
  });

  it('adds up reported events', () => {
    const tally = new ReplayTally();

    tally.recordBatch(BATCH, {
      ...responseFor('mql', 1),
      events: { published: 2, pending: 1, failed: 0 },
    });
    tally.recordBatch(BATCH, {
      ...responseFor('mql', 2),
      events: { published: 1, pending: 0, failed: 0 },
    });

    expect(tally.counts.eventsPublished).toBe(3);
    expect(tally.counts.eventsPending).toBe(1);
  });
});
