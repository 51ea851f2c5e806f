import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../functions/domain/canonical-json.js';
import {
  DETAIL_SCHEMAS,
  detailProblem,
  MAX_ERASED_MERGED_LEADS,
} from '../../functions/domain/event-contract.js';
import {
  segmentMessageSchema,
  toTrackingEvent,
} from '../../functions/domain/messages.js';
import { updateLead } from '../../functions/use-cases/update-lead.js';
import {
  cpoIdentify,
  demoRequested,
  pricingPage,
} from '../fixtures/messages.js';
import { faultyDependencies } from '../support/fault-injection.js';

/**
 * Returns the "Lead Qualified" detail of a qualifying batch, with the
 * identify call's email trait replaced by `email` when it is given.
 */
async function qualifiedDetail(includeEmail: boolean, email?: string) {
  const setup = await faultyDependencies({ current: () => undefined });
  setup.deps.eventOptions = { includeEmail };
  const userId = 'jane';
  const identify = cpoIdentify(userId);
  const traits =
    email === undefined ? identify.traits : { ...identify.traits, email };
  const batch = [
    { ...identify, traits },
    pricingPage(userId),
    demoRequested(userId),
  ];
  const events = batch.map((message) =>
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

  it('sends a non-ASCII email domain as IDNA ASCII', async () => {
    const detail = await qualifiedDetail(true, 'jane@bücher.example');

    expect(detailProblem('Lead Qualified', detail)).toBeUndefined();
    expect(detail.email).toBe('jane@xn--bcher-kva.example');
  });

  it.each([
    ['jane@acme.example.', 'jane@acme.example'],
    [' jane@acme.example\t', 'jane@acme.example'],
    ['jane@bücher.example.', 'jane@xn--bcher-kva.example'],
    ['jane@acme.example\u3002', 'jane@acme.example'],
  ])('normalizes the email %j', async (email, sent) => {
    const detail = await qualifiedDetail(true, email);

    expect(detailProblem('Lead Qualified', detail)).toBeUndefined();
    expect(detail.email).toBe(sent);
  });

  it.each([
    'not an email',
    'jane@acme',
    '"jane doe"@acme.example',
    'jäne@acme.example',
    // The schema's `format: email`, as ajv-formats checks it by default,
    // rejects a label that ends in a hyphen or has more than 63 characters.
    'jane@acme-.example',
    `jane@${'a'.repeat(64)}.example`,
    // The address names no domain, though node:url decodes it to one.
    'jane@%61cme.example',
  ])('leaves out the email %j', async (email) => {
    const detail = await qualifiedDetail(true, email);

    expect(detailProblem('Lead Qualified', detail)).toBeUndefined();
    expect(detail.email).toBeUndefined();
  });
});

/** Returns a "Lead Erased" detail with `fields` added. */
function erasedDetail(fields: Record<string, unknown> = {}) {
  return {
    schemaVersion: '1',
    eventId: 'e1',
    occurredAt: '2026-12-07T10:00:00.000Z',
    leadIdSha256: sha256Hex('xq2'),
    itemsDeleted: 12,
    accountsUpdated: 0,
    ...fields,
  };
}

describe('Lead Erased detail', () => {
  it('accepts the hashes of merged leads', () => {
    const detail = erasedDetail({
      mergedLeadIdSha256s: [sha256Hex('xq1'), sha256Hex('anon:browser-1')],
      mergedLeadIdSha256sTruncated: false,
    });

    expect(detailProblem('Lead Erased', detail)).toBeUndefined();
  });

  it('accepts a detail stored without merged leads', () => {
    expect(detailProblem('Lead Erased', erasedDetail())).toBeUndefined();
  });

  it('accepts the maximum number of hashes', () => {
    const hashes = Array.from({ length: MAX_ERASED_MERGED_LEADS }, (_, i) =>
      sha256Hex(`merged-${i}`),
    );
    const detail = erasedDetail({
      mergedLeadIdSha256s: hashes,
      mergedLeadIdSha256sTruncated: true,
    });

    expect(detailProblem('Lead Erased', detail)).toBeUndefined();
    // EventBridge takes entries of at most 256 KB.
    expect(Buffer.byteLength(JSON.stringify(detail))).toBeLessThan(100 * 1024);
  });

  it('rejects more hashes than the maximum', () => {
    const hashes = Array.from({ length: MAX_ERASED_MERGED_LEADS + 1 }, (_, i) =>
      sha256Hex(`merged-${i}`),
    );
    const detail = erasedDetail({ mergedLeadIdSha256s: hashes });

    expect(detailProblem('Lead Erased', detail)).toContain(
      'mergedLeadIdSha256s',
    );
  });

  it('rejects a merged lead id in place of its hash', () => {
    const detail = erasedDetail({ mergedLeadIdSha256s: ['xq1'] });

    expect(detailProblem('Lead Erased', detail)).toContain(
      'mergedLeadIdSha256s',
    );
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
