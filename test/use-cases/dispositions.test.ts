import { describe, expect, it } from 'vitest';
import type { DispositionRequest } from '../../functions/domain/disposition.js';
import { ConflictError } from '../../functions/domain/errors.js';
import type { DispositionKind } from '../../functions/domain/lead.js';
import type {
  LeadDispositionDetail,
  LeadTransitionDetail,
} from '../../functions/domain/outgoing-events.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { recycleLead } from '../../functions/use-cases/recycle-lead.js';
import {
  conversionByBand,
  formatConversion,
} from '../../scripts/report/conversion.js';
import {
  demoRequested,
  pricingPage,
  qualifyingBatch,
} from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';
import { holdNextCall } from '../support/held-call.js';

async function qualifiedLead(userId: string) {
  const context = await realDependencies();
  await ingestMessages(context.deps, {
    sourceId: 'default',
    messages: qualifyingBatch(userId),
    receivedAt: context.clock.now,
  });
  const dispose = (request: DispositionRequest) =>
    recordDisposition(context.deps, userId, request);
  const published = (type: string) =>
    context.published.filter((event) => event.detailType === type);
  return { ...context, dispose, published };
}

/**
 * Returns a lead that sales rejected, that came back with new activity
 * during its cooldown of 30 days and that qualified again when the
 * cooldown ended, a day ago, with no sweep run since.
 */
async function requalifiedBeforeSweep(userId: string) {
  const lead = await qualifiedLead(userId);
  const { deps, clock, dispose } = lead;
  await dispose({ kind: 'rejected', reason: 'not now' });
  const rejectedAt = clock.now;
  clock.advance(10 * DAY_MS);
  await ingestMessages(deps, {
    sourceId: 'default',
    messages: [
      demoRequested(userId, { messageId: `${userId}-demo-2` }),
      pricingPage(userId, { messageId: `${userId}-pricing-2` }),
    ],
    receivedAt: clock.now,
  });
  clock.advance(21 * DAY_MS);
  const cooldownEnd = new Date(rejectedAt + 30 * DAY_MS).toISOString();
  return { ...lead, cooldownEnd };
}

describe('recordDisposition', () => {
  it('records an acceptance once however often it is sent', async () => {
    const { dispose, published } = await qualifiedLead('acc-1');

    const first = await dispose({ kind: 'accepted' });
    const retry = await dispose({ kind: 'accepted' });

    expect(first.changed).toBe(true);
    expect(retry.changed).toBe(false);
    expect(first.lead.status).toBe('mql');
    expect(first.lead.disposition).toMatchObject({
      disposition: 'accepted',
      episode: 1,
    });
    const events = published('Lead Disposition Changed');
    expect(events).toHaveLength(1);
    expect(events[0]?.detail).toMatchObject({
      leadId: 'acc-1',
      disposition: 'accepted',
      previousDisposition: null,
      episode: 1,
    });
  });

  it('shows the disposition it recorded', async () => {
    const { deps, dispose } = await qualifiedLead('acc-own');
    const { repository } = deps;
    const save = repository.saveLeadChange.bind(repository);
    // A rejection is stored right after the acceptance, before the
    // acceptance's response is built.
    repository.saveLeadChange = async (change) => {
      await save(change);
      repository.saveLeadChange = save;
      await dispose({ kind: 'rejected', reason: 'no budget' });
    };

    const accepted = await dispose({ kind: 'accepted' });

    expect(accepted.lead.disposition?.disposition).toBe('accepted');
    expect(accepted.lead.status).toBe('mql');
  });

  it('names the merged id it was sent for', async () => {
    const { deps, clock } = await qualifiedLead('mia');
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: [{ type: 'identify', userId: 'mia', anonymousId: 'browser-9' }],
      receivedAt: clock.now,
    });

    const first = await recordDisposition(deps, 'anon:browser-9', {
      kind: 'accepted',
    });
    const retry = await recordDisposition(deps, 'anon:browser-9', {
      kind: 'accepted',
    });

    expect(first.lead.leadId).toBe('mia');
    expect(first.lead.requestedLeadId).toBe('anon:browser-9');
    expect(retry.lead.requestedLeadId).toBe('anon:browser-9');
  });

  it('follows a merge written after it resolved the id', async () => {
    const { deps, clock } = await qualifiedLead('max');
    // The request resolves "max" before the alias makes it a tombstone,
    // then reads the lead again.
    const held = holdNextCall(deps.repository, 'getLead', {
      when: 'after',
      matches: (leadId) => leadId === 'max',
    });
    const accepted = recordDisposition(deps, 'max', { kind: 'accepted' });
    await held.reached;
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: [{ type: 'alias', userId: 'max-2', previousId: 'max' }],
      receivedAt: clock.now,
    });
    held.release();

    const result = await accepted;

    expect(result.lead.leadId).toBe('max-2');
    expect(result.lead.requestedLeadId).toBe('max');
    expect(result.lead.disposition?.disposition).toBe('accepted');
    const view = await getLead(deps, 'max-2');
    expect(view.disposition?.disposition).toBe('accepted');
  });

  it('ends the episode of a rejected lead', async () => {
    const { dispose, published } = await qualifiedLead('rej-1');

    const result = await dispose({ kind: 'rejected', reason: 'wrong region' });

    expect(result.lead.status).toBe('recycled');
    expect(result.lead.episodes[0]?.recycleReason).toBe(
      'rejected by sales: wrong region',
    );
    expect(published('Lead Recycled')).toHaveLength(1);
    const detail = published('Lead Disposition Changed')[0]
      ?.detail as LeadDispositionDetail;
    expect(detail.reason).toBe('wrong region');
    expect(detail.status).toBe('recycled');
  });

  it('converts to an SQL and then an opportunity', async () => {
    const { dispose, published } = await qualifiedLead('conv-1');

    await dispose({ kind: 'accepted' });
    await dispose({ kind: 'converted', convertedTo: 'sql' });
    const result = await dispose({
      kind: 'converted',
      convertedTo: 'opportunity',
    });

    expect(result.lead.status).toBe('mql');
    expect(result.lead.disposition).toMatchObject({
      disposition: 'converted',
      convertedTo: 'opportunity',
    });
    const details = published('Lead Disposition Changed').map(
      (event) => event.detail as LeadDispositionDetail,
    );
    expect(details.map((d) => d.convertedTo)).toEqual([
      null,
      'sql',
      'opportunity',
    ]);
    expect(details[2]?.previousDisposition).toBe('converted');
  });

  it('publishes accepted and converted reasons', async () => {
    const { dispose, published } = await qualifiedLead('reason-1');

    await dispose({ kind: 'accepted', reason: 'strong fit' });
    await dispose({ kind: 'converted', convertedTo: 'sql', reason: 'deal' });
    await dispose({ kind: 'converted', convertedTo: 'opportunity' });

    const reasons = published('Lead Disposition Changed').map(
      (event) => (event.detail as LeadDispositionDetail).reason,
    );
    expect(reasons).toEqual(['strong fit', 'deal', null]);
  });

  it('gives every disposition change its own event id', async () => {
    const { dispose, published, clock } = await qualifiedLead('back-1');

    await dispose({ kind: 'accepted' });
    clock.advance(1000);
    await dispose({ kind: 'converted', convertedTo: 'sql' });
    clock.advance(1000);
    const result = await dispose({
      kind: 'converted',
      convertedTo: 'opportunity',
    });

    expect(result.changed).toBe(true);
    const ids = published('Lead Disposition Changed').map(
      (event) => event.eventId,
    );
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
  });

  it.each<{
    name: string;
    before: DispositionRequest[];
    request: DispositionRequest;
    message: string;
  }>([
    {
      name: 'accepted after sql',
      before: [{ kind: 'converted', convertedTo: 'sql' }],
      request: { kind: 'accepted' },
      message:
        'is converted to sql in episode 1, so it can only be converted to opportunity next',
    },
    {
      name: 'sql after opportunity',
      before: [
        { kind: 'converted', convertedTo: 'sql' },
        { kind: 'converted', convertedTo: 'opportunity' },
      ],
      request: { kind: 'converted', convertedTo: 'sql' },
      message: 'is converted to opportunity in episode 1, the last step',
    },
    {
      name: 'rejected after sql',
      before: [{ kind: 'accepted' }, { kind: 'converted', convertedTo: 'sql' }],
      request: { kind: 'rejected', reason: 'no budget' },
      message: 'is converted to sql in episode 1',
    },
    {
      name: 'recycled after opportunity',
      before: [{ kind: 'converted', convertedTo: 'opportunity' }],
      request: { kind: 'recycled', reason: 'later' },
      message: 'is converted to opportunity in episode 1',
    },
    {
      name: 'converted after rejected',
      before: [{ kind: 'rejected', reason: 'no fit' }],
      request: { kind: 'converted', convertedTo: 'sql' },
      message: 'was rejected by sales in episode 1, which ended the episode',
    },
    {
      name: 'accepted after recycled',
      before: [{ kind: 'recycled', reason: 'later' }],
      request: { kind: 'accepted' },
      message: 'was recycled by sales in episode 1',
    },
    {
      name: 'a reason added to accepted',
      before: [{ kind: 'accepted' }],
      request: { kind: 'accepted', reason: 'strong fit' },
      message: 'is already accepted in episode 1 without a reason',
    },
    {
      name: 'another reason for accepted',
      before: [{ kind: 'accepted', reason: 'strong fit' }],
      request: { kind: 'accepted', reason: 'demo booked' },
      message: 'is already accepted in episode 1 with the reason "strong fit"',
    },
    {
      name: 'a reason added to sql',
      before: [{ kind: 'converted', convertedTo: 'sql' }],
      request: { kind: 'converted', convertedTo: 'sql', reason: 'deal' },
      message: 'is already converted to sql in episode 1 without a reason',
    },
  ])('rejects $name with 409', async ({ name, before, request, message }) => {
    const userId = `order-${name.replace(/\W+/g, '-')}`;
    const { dispose, published, repository } = await qualifiedLead(userId);
    for (const step of before) await dispose(step);
    const stored = await repository.getLead(userId);

    const attempt = dispose(request);

    await expect(attempt).rejects.toThrow(ConflictError);
    await expect(attempt).rejects.toThrow(message);
    const after = await repository.getLead(userId);
    expect(after?.disposition).toEqual(stored?.disposition);
    expect(after?.version).toBe(stored?.version);
    expect(published('Lead Disposition Changed')).toHaveLength(before.length);
  });

  it.each<{ name: string; steps: DispositionRequest[] }>([
    {
      name: 'accepted, then rejected',
      steps: [{ kind: 'accepted' }, { kind: 'rejected', reason: 'no fit' }],
    },
    {
      name: 'accepted, then recycled',
      steps: [{ kind: 'accepted' }, { kind: 'recycled', reason: 'later' }],
    },
    {
      name: 'accepted, then opportunity',
      steps: [
        { kind: 'accepted', reason: 'demo booked' },
        { kind: 'converted', convertedTo: 'opportunity' },
      ],
    },
    {
      name: 'sql without accepted',
      steps: [{ kind: 'converted', convertedTo: 'sql' }],
    },
  ])('records $name', async ({ name, steps }) => {
    const userId = `forward-${name.replace(/\W+/g, '-')}`;
    const { dispose, published } = await qualifiedLead(userId);

    const results = [];
    for (const step of steps) results.push(await dispose(step));

    for (const result of results) expect(result.changed).toBe(true);
    const kinds = published('Lead Disposition Changed').map(
      (event) => (event.detail as LeadDispositionDetail).disposition,
    );
    expect(kinds).toEqual(steps.map((step) => step.kind));
  });

  it('recycles through the recycle alias once', async () => {
    const { deps, published } = await qualifiedLead('rec-1');

    const first = await recycleLead(deps, { leadId: 'rec-1', reason: 'later' });
    const retry = await recycleLead(deps, { leadId: 'rec-1', reason: 'later' });

    expect(first.status).toBe('recycled');
    expect(retry.status).toBe('recycled');
    expect(first.disposition?.disposition).toBe('recycled');
    expect(published('Lead Recycled')).toHaveLength(1);
    expect(published('Lead Disposition Changed')).toHaveLength(1);
  });

  it('rejects dispositions the lead state does not allow', async () => {
    const { dispose } = await qualifiedLead('conf-1');
    await dispose({ kind: 'rejected', reason: 'no fit' });

    await expect(dispose({ kind: 'accepted' })).rejects.toThrow(ConflictError);
    await expect(
      dispose({ kind: 'converted', convertedTo: 'sql' }),
    ).rejects.toThrow(ConflictError);
  });

  it.each<{
    name: string;
    before: DispositionRequest[];
    request: DispositionRequest;
    next: string;
  }>([
    {
      name: 'accepted',
      before: [{ kind: 'accepted', reason: 'a' }],
      request: { kind: 'accepted', reason: 'b' },
      next: 'It can only be rejected, recycled, converted to sql or converted to opportunity next.',
    },
    {
      name: 'sql',
      before: [{ kind: 'converted', convertedTo: 'sql' }],
      request: { kind: 'converted', convertedTo: 'sql', reason: 'deal' },
      next: 'It can only be converted to opportunity next.',
    },
    {
      name: 'opportunity',
      before: [{ kind: 'converted', convertedTo: 'opportunity' }],
      request: { kind: 'converted', convertedTo: 'opportunity', reason: 'x' },
      next: 'It takes no other disposition until it qualifies again.',
    },
    {
      name: 'rejected',
      before: [{ kind: 'rejected', reason: 'no fit' }],
      request: { kind: 'rejected', reason: 'no budget' },
      next: 'It takes no other disposition until it qualifies again.',
    },
  ])(
    'names the next steps of a changed $name reason',
    async ({ name, before, request, next }) => {
      const { dispose } = await qualifiedLead(`next-${name}`);
      for (const step of before) await dispose(step);

      const attempt = dispose(request);

      await expect(attempt).rejects.toThrow(ConflictError);
      await expect(attempt).rejects.toThrow(
        `the reason of a recorded disposition cannot change. ${next} Resend the same body to retry.`,
      );
    },
  );

  it('rejects a repeated rejection with another reason', async () => {
    const { dispose, published } = await qualifiedLead('rej-2');
    await dispose({ kind: 'rejected', reason: 'no fit' });

    const retry = await dispose({ kind: 'rejected', reason: 'no fit' });
    const changed = dispose({ kind: 'rejected', reason: 'no budget' });

    expect(retry.changed).toBe(false);
    await expect(changed).rejects.toThrow(ConflictError);
    await expect(changed).rejects.toThrow(
      'already rejected in episode 1 with the reason "no fit"',
    );
    const lead = await dispose({ kind: 'rejected', reason: 'no fit' });
    expect(lead.lead.disposition?.reason).toBe('no fit');
    expect(published('Lead Disposition Changed')).toHaveLength(1);
  });

  it('rejects a disposition for a lead that never qualified', async () => {
    const { deps, clock } = await realDependencies();
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: [qualifyingBatch('cold-1')[1]],
      receivedAt: clock.now,
    });

    await expect(
      recordDisposition(deps, 'cold-1', { kind: 'accepted' }),
    ).rejects.toThrow('never qualified');
  });

  it('accepts a lead requalified before the sweep', async () => {
    const lead = await requalifiedBeforeSweep('cool-1');
    const { deps, dispose, published, cooldownEnd } = lead;

    const view = await getLead(deps, 'cool-1');
    const result = await dispose({ kind: 'accepted' });

    expect(view.status).toBe('mql');
    expect(view.qualifiedAt).toBe(cooldownEnd);

    expect(result.lead.status).toBe('mql');
    expect(result.lead.episode).toBe(2);
    expect(result.lead.disposition).toMatchObject({
      disposition: 'accepted',
      episode: 2,
    });
    const qualified = published('Lead Qualified').map(
      (event) => event.detail as LeadTransitionDetail,
    );
    expect(qualified.map((detail) => detail.episode)).toEqual([1, 2]);
    expect(qualified[1]?.occurredAt).toBe(cooldownEnd);
  });

  it('rejects a requalified lead again', async () => {
    const { dispose, published } = await requalifiedBeforeSweep('cool-2');

    const result = await dispose({ kind: 'rejected', reason: 'not now' });

    expect(result.changed).toBe(true);
    expect(result.lead.status).toBe('recycled');
    expect(result.lead.disposition).toMatchObject({
      disposition: 'rejected',
      episode: 2,
    });
    expect(published('Lead Disposition Changed')).toHaveLength(2);
  });

  it('stores outcomes for the conversion report', async () => {
    const { dispose, repository, clock } = await qualifiedLead('rep-1');
    await dispose({ kind: 'accepted' });
    await dispose({ kind: 'converted', convertedTo: 'sql' });

    const month = new Date(clock.now).toISOString().slice(0, 7);
    const outcomes = await repository.listOutcomes(month);
    const bands = conversionByBand(outcomes, 10);

    expect(outcomes).toHaveLength(2);
    expect(JSON.stringify(outcomes)).not.toContain('rep-1');
    expect(bands).toHaveLength(1);
    expect(bands[0]).toMatchObject({
      episodes: 1,
      accepted: 0,
      sql: 1,
      opportunity: 0,
      conversion: 1,
    });
  });
});

describe('conversionByBand', () => {
  const outcome = (
    episodeKey: string,
    qualifiedScore: number,
    kind: DispositionKind,
    convertedTo?: 'sql' | 'opportunity',
    at = 0,
  ) => ({
    episodeKey,
    eventId: `${episodeKey}-${kind}-${convertedTo}-${at}`,
    at,
    kind,
    ...(convertedTo === undefined ? {} : { convertedTo }),
    qualifiedScore,
    modelVersion: 'v1',
  });

  it('counts conversion per band of the qualification score', () => {
    const bands = conversionByBand(
      [
        outcome('a', 104, 'accepted', undefined, 1),
        outcome('a', 104, 'converted', 'opportunity', 2),
        outcome('b', 108, 'rejected'),
        outcome('c', 131, 'converted', 'sql'),
      ],
      10,
    );

    expect(bands).toEqual([
      expect.objectContaining({ from: 130, episodes: 1, conversion: 1 }),
      expect.objectContaining({
        from: 100,
        episodes: 2,
        accepted: 0,
        rejected: 1,
        sql: 0,
        opportunity: 1,
        conversion: 0.5,
      }),
    ]);
  });

  it('counts each episode once by its final disposition', () => {
    const bands = conversionByBand(
      [
        outcome('a', 100, 'converted', 'sql', 3),
        outcome('a', 100, 'accepted', undefined, 1),
        outcome('a', 100, 'rejected', undefined, 5),
        outcome('a', 100, 'converted', 'opportunity', 4),
        outcome('a', 100, 'accepted', undefined, 2),
      ],
      10,
    );

    expect(bands).toEqual([
      {
        from: 100,
        to: 110,
        episodes: 1,
        accepted: 0,
        rejected: 1,
        recycled: 0,
        sql: 0,
        opportunity: 0,
        conversion: 0,
      },
    ]);
  });

  it('puts a score on a band edge in the upper band', () => {
    const bands = conversionByBand(
      [
        outcome('a', 130, 'accepted'),
        outcome('b', 129.99, 'accepted'),
        outcome('c', 120, 'accepted'),
      ],
      10,
    );

    expect(bands).toEqual([
      expect.objectContaining({ from: 130, to: 140, episodes: 1 }),
      expect.objectContaining({ from: 120, to: 130, episodes: 2 }),
    ]);
  });

  it('prints bands as half-open ranges', () => {
    const bands = conversionByBand(
      [outcome('a', 130, 'accepted'), outcome('b', 125.5, 'accepted')],
      10,
    );

    const text = formatConversion(bands, 10, ['2026-11', '2026-12']);

    const rows = text.split('\n').filter((line) => line.startsWith('['));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^\[130, 140\) +1 /);
    expect(rows[1]).toMatch(/^\[120, 130\) +1 /);
    expect(text).toContain(
      'Each band [a, b) contains the scores from a up to but not including b, 10 points wide.',
    );
    expect(text).not.toContain('120-130');
  });

  it('breaks a tie in time by the later step', () => {
    const outcomes = [
      outcome('a', 100, 'converted', 'opportunity', 7),
      outcome('a', 100, 'converted', 'sql', 7),
      outcome('a', 100, 'accepted', undefined, 7),
    ];

    const forward = conversionByBand(outcomes, 10);
    const backward = conversionByBand([...outcomes].reverse(), 10);

    expect(forward[0]).toMatchObject({ opportunity: 1, sql: 0, accepted: 0 });
    expect(backward).toEqual(forward);
  });
});
