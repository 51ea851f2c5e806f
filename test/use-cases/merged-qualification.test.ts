import { describe, expect, it } from 'vitest';
import type { DispositionRequest } from '../../functions/domain/disposition.js';
import { ConflictError } from '../../functions/domain/errors.js';
import type { LeadTransitionDetail } from '../../functions/domain/outgoing-events.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { getHistory } from '../../functions/use-cases/get-history.js';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { conversionByBand } from '../../scripts/report/conversion.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';
import { holdNextCall } from '../support/held-call.js';

type Setup = Awaited<ReturnType<typeof realDependencies>>;

/** Cooldown of the default model, in days. */
const COOLDOWN_DAYS = 30;

function ingest(setup: Setup, messages: Record<string, unknown>[]) {
  return ingestMessages(setup.deps, {
    sourceId: 'default',
    messages,
    receivedAt: setup.clock.now,
  });
}

/** Returns the qualifying batch of the fixtures, sent under `ids`. */
function qualifyingMessages(
  key: string,
  ids: { userId: string } | { anonymousId: string },
): Record<string, unknown>[] {
  return qualifyingBatch(key).map((message) => {
    const { userId: _userId, ...rest } = message;
    return { ...rest, ...ids, messageId: `${message.messageId}-${key}` };
  });
}

function aliasMessage(previousId: string, userId: string, messageId: string) {
  return { type: 'alias', messageId, previousId, userId };
}

function dispose(setup: Setup, leadId: string, request: DispositionRequest) {
  return recordDisposition(setup.deps, leadId, request);
}

/** Published transitions of a lead, as `type episode`. */
function transitionsOf(setup: Setup, leadId: string): string[] {
  return setup.published
    .filter(
      (event) =>
        event.leadId === leadId &&
        (event.detailType === 'Lead Qualified' ||
          event.detailType === 'Lead Recycled'),
    )
    .map(
      (event) =>
        `${event.detailType} ${(event.detail as LeadTransitionDetail).episode}`,
    );
}

/** Qualifies `userId`, lets sales reject it and returns the rejection time. */
async function rejectedUser(setup: Setup, userId: string): Promise<number> {
  await ingest(setup, qualifyingMessages(userId, { userId }));
  await dispose(setup, userId, { kind: 'rejected', reason: 'no budget' });
  return setup.clock.now;
}

describe('merge of a lead with sales dispositions', () => {
  it('keeps a rejection through an alias', async () => {
    const setup = await realDependencies();
    const rejectedAt = await rejectedUser(setup, 'crm-old');
    setup.clock.advance(DAY_MS);

    await ingest(setup, [aliasMessage('crm-old', 'crm-new', 'alias-1')]);

    const merged = await getLead(setup.deps, 'crm-old');
    expect(merged.leadId).toBe('crm-new');
    expect(merged.status).toBe('recycled');
    expect(merged.episode).toBe(1);
    expect(merged.recycledAt).toBe(new Date(rejectedAt).toISOString());
    expect(merged.disposition).toMatchObject({
      disposition: 'rejected',
      episode: 1,
      reason: 'no budget',
    });
    expect(merged.episodes.map((episode) => episode.recycleReason)).toEqual([
      'rejected by sales: no budget',
    ]);
    expect(transitionsOf(setup, 'crm-new')).toEqual([]);
  });

  it('changes nothing when the merge is sent again', async () => {
    const setup = await realDependencies();
    await rejectedUser(setup, 'crm-old');
    setup.clock.advance(DAY_MS);
    await ingest(setup, [aliasMessage('crm-old', 'crm-new', 'alias-1')]);
    const first = await setup.repository.getLead('crm-new');
    const publishedAfterMerge = setup.published.length;

    setup.clock.advance(DAY_MS);
    await ingest(setup, [aliasMessage('crm-old', 'crm-new', 'alias-1')]);
    await ingest(setup, [aliasMessage('crm-old', 'crm-new', 'alias-2')]);

    const again = await setup.repository.getLead('crm-new');
    expect(again?.status).toBe('recycled');
    expect(again?.disposition).toEqual(first?.disposition);
    expect(again?.episodes).toEqual(first?.episodes);
    expect(again?.recycledAt).toBe(first?.recycledAt);
    expect(setup.published.slice(publishedAfterMerge)).toEqual([]);
  });

  it('merges once under concurrent retries', async () => {
    const setup = await realDependencies();
    await rejectedUser(setup, 'crm-old');
    const sourceEvents = (await setup.repository.getLead('crm-old'))
      ?.eventCount;
    setup.clock.advance(DAY_MS);

    await Promise.all(
      ['alias-1', 'alias-2', 'alias-3'].map((messageId) =>
        ingest(setup, [aliasMessage('crm-old', 'crm-new', messageId)]),
      ),
    );

    const lead = await getLead(setup.deps, 'crm-new');
    expect(lead.status).toBe('recycled');
    expect(lead.episode).toBe(1);
    expect(lead.episodes).toHaveLength(1);
    expect(lead.disposition?.disposition).toBe('rejected');
    const stored = await setup.repository.getLead('crm-new');
    expect(stored?.eventCount).toBe((sourceEvents ?? 0) + 3);
    expect(transitionsOf(setup, 'crm-new')).toEqual([]);
  });

  it('finishes a merge that failed after linking', async () => {
    const setup = await realDependencies();
    await rejectedUser(setup, 'crm-old');
    const sourceEvents = (await setup.repository.getLead('crm-old'))
      ?.eventCount;
    setup.clock.advance(DAY_MS);
    const { repository } = setup;
    const listEvents = repository.listEvents.bind(repository);
    repository.listEvents = async () => {
      throw new Error('listEvents failed');
    };
    const alias = aliasMessage('crm-old', 'crm-new', 'alias-1');
    await expect(ingest(setup, [alias])).rejects.toThrow('listEvents failed');
    repository.listEvents = listEvents;
    expect((await setup.repository.getLead('crm-old'))?.mergePending).toBe(
      true,
    );
    expect((await getLead(setup.deps, 'crm-old')).status).toBe('recycled');

    await ingest(setup, [alias]);

    const lead = await setup.repository.getLead('crm-new');
    expect(lead?.eventCount).toBe((sourceEvents ?? 0) + 1);
    expect(lead?.status).toBe('recycled');
    expect(lead?.disposition?.kind).toBe('rejected');
    expect(transitionsOf(setup, 'crm-new')).toEqual([]);
  });

  it('requalifies after the cooldown', async () => {
    const setup = await realDependencies();
    const rejectedAt = await rejectedUser(setup, 'crm-old');
    setup.clock.advance(DAY_MS);
    await ingest(setup, [aliasMessage('crm-old', 'crm-new', 'alias-1')]);

    setup.clock.advance(DAY_MS);
    const [withinCooldown] = qualifyingMessages('again', { userId: 'crm-new' });
    await ingest(setup, [withinCooldown as Record<string, unknown>]);
    expect((await getLead(setup.deps, 'crm-new')).status).toBe('recycled');

    setup.clock.advance(rejectedAt + COOLDOWN_DAYS * DAY_MS - setup.clock.now);
    await ingest(setup, qualifyingMessages('late', { userId: 'crm-new' }));

    const lead = await getLead(setup.deps, 'crm-new');
    expect(lead.status).toBe('mql');
    expect(lead.episode).toBe(2);
    expect(transitionsOf(setup, 'crm-new')).toEqual(['Lead Qualified 2']);
  });

  it('keeps an anonymous rejection on identify', async () => {
    const setup = await realDependencies();
    await ingest(setup, qualifyingMessages('v1', { anonymousId: 'v1' }));
    await dispose(setup, 'anon:v1', { kind: 'rejected', reason: 'student' });
    setup.clock.advance(DAY_MS);

    await ingest(setup, [
      { type: 'identify', messageId: 'id-1', userId: 'u1', anonymousId: 'v1' },
    ]);

    const lead = await getLead(setup.deps, 'u1');
    expect(lead.status).toBe('recycled');
    expect(lead.episode).toBe(1);
    expect(lead.disposition?.disposition).toBe('rejected');
    expect(transitionsOf(setup, 'u1')).toEqual([]);
  });

  it('retries an acceptance through the old id', async () => {
    const setup = await realDependencies();
    await ingest(setup, qualifyingMessages('crm-old', { userId: 'crm-old' }));
    const accepted = await dispose(setup, 'crm-old', { kind: 'accepted' });
    setup.clock.advance(DAY_MS);
    await ingest(setup, [aliasMessage('crm-old', 'crm-new', 'alias-1')]);
    const before = await setup.repository.getLead('crm-new');
    const publishedBefore = setup.published.length;
    setup.clock.advance(60_000);

    const retry = await dispose(setup, 'crm-old', { kind: 'accepted' });

    expect(retry.changed).toBe(false);
    expect(retry.lead.leadId).toBe('crm-new');
    expect(retry.lead.requestedLeadId).toBe('crm-old');
    expect((await setup.repository.getLead('crm-new'))?.version).toBe(
      before?.version,
    );
    expect(setup.published.length).toBe(publishedBefore);
    expect(before?.disposition?.at).toBe(
      Date.parse(accepted.lead.disposition?.at ?? ''),
    );
  });

  it('applies a new reason to the target', async () => {
    const setup = await realDependencies();
    await ingest(setup, qualifyingMessages('crm-old', { userId: 'crm-old' }));
    await dispose(setup, 'crm-old', { kind: 'accepted' });
    setup.clock.advance(DAY_MS);
    await ingest(setup, [aliasMessage('crm-old', 'crm-new', 'alias-1')]);

    const result = await dispose(setup, 'crm-old', {
      kind: 'accepted',
      reason: 'called back',
    });

    expect(result.changed).toBe(true);
    expect(result.lead.leadId).toBe('crm-new');
    expect(result.lead.disposition).toMatchObject({
      disposition: 'accepted',
      episode: 2,
      reason: 'called back',
    });
  });

  it('counts a converted merged episode once', async () => {
    const setup = await realDependencies();
    await ingest(setup, qualifyingMessages('crm-old', { userId: 'crm-old' }));
    await dispose(setup, 'crm-old', { kind: 'accepted' });
    const acceptedAt = setup.clock.now;
    const crossing = (await setup.repository.getLead('crm-old'))?.nextReviewAt;
    setup.clock.advance((crossing ?? Number.NaN) + DAY_MS - setup.clock.now);
    await ingest(setup, [aliasMessage('crm-old', 'crm-new', 'alias-1')]);

    const converted = await dispose(setup, 'crm-new', {
      kind: 'converted',
      convertedTo: 'sql',
    });

    expect(converted.lead.episode).toBe(1);
    const months = [acceptedAt, setup.clock.now].map((at) =>
      new Date(at).toISOString().slice(0, 7),
    );
    const outcomes = (
      await Promise.all(
        [...new Set(months)].map((month) =>
          setup.repository.listOutcomes(month),
        ),
      )
    ).flat();
    expect(outcomes.map((outcome) => outcome.kind)).toEqual([
      'accepted',
      'converted',
    ]);
    expect(outcomes[1]?.episodeKey).toBe(outcomes[0]?.episodeKey);
    expect(conversionByBand(outcomes, 10)).toHaveLength(1);
    expect(conversionByBand(outcomes, 10)[0]?.episodes).toBe(1);
  });

  it('numbers episodes after the merged ones', async () => {
    const setup = await realDependencies();
    await ingest(setup, qualifyingMessages('crm-old', { userId: 'crm-old' }));
    setup.clock.advance(DAY_MS);

    await ingest(setup, [aliasMessage('crm-old', 'crm-new', 'alias-1')]);

    expect(transitionsOf(setup, 'crm-old')).toEqual([
      'Lead Qualified 1',
      'Lead Recycled 1',
    ]);
    expect(transitionsOf(setup, 'crm-new')).toEqual(['Lead Qualified 2']);
    const lead = await getLead(setup.deps, 'crm-new');
    expect(lead.episodes.map((episode) => episode.episode)).toEqual([1, 2]);
    expect(lead.episodes[0]?.recycleReason).toBe('merged into lead crm-new');
  });

  it.each([
    { name: 'source rejected later', laterSide: 'source' },
    { name: 'target rejected later', laterSide: 'target' },
  ])('applies the later cooldown when $name', async ({ laterSide }) => {
    const setup = await realDependencies();
    const first = laterSide === 'source' ? 'crm-b' : 'crm-a';
    const second = laterSide === 'source' ? 'crm-a' : 'crm-b';
    await ingest(setup, qualifyingMessages('crm-a', { userId: 'crm-a' }));
    await ingest(setup, qualifyingMessages('crm-b', { userId: 'crm-b' }));
    await dispose(setup, first, { kind: 'rejected', reason: 'first' });
    setup.clock.advance(DAY_MS);
    await dispose(setup, second, { kind: 'rejected', reason: 'second' });
    const laterRejection = setup.clock.now;
    setup.clock.advance(DAY_MS);

    await ingest(setup, [aliasMessage('crm-a', 'crm-b', 'alias-ab')]);

    const lead = await getLead(setup.deps, 'crm-b');
    expect(lead.status).toBe('recycled');
    expect(lead.recycledAt).toBe(new Date(laterRejection).toISOString());
    expect(lead.disposition?.reason).toBe('second');
    expect(lead.episode).toBe(1);
    expect(lead.episodes).toHaveLength(2);
    expect(transitionsOf(setup, 'crm-b')).toEqual([
      'Lead Qualified 1',
      'Lead Recycled 1',
    ]);
  });

  it('keeps an MQL target qualified', async () => {
    const setup = await realDependencies();
    await rejectedUser(setup, 'crm-a');
    setup.clock.advance(DAY_MS);
    await ingest(setup, qualifyingMessages('crm-b', { userId: 'crm-b' }));

    await ingest(setup, [aliasMessage('crm-a', 'crm-b', 'alias-ab')]);

    const lead = await getLead(setup.deps, 'crm-b');
    expect(lead.status).toBe('mql');
    expect(lead.episode).toBe(1);
    expect(lead.disposition).toBeNull();
    expect(lead.episodes).toHaveLength(2);
    expect(transitionsOf(setup, 'crm-b')).toEqual(['Lead Qualified 1']);
  });

  it('ends the MQL target episode, not the merged one', async () => {
    const setup = await realDependencies();
    await rejectedUser(setup, 'crm-a');
    setup.clock.advance(DAY_MS);
    await ingest(setup, qualifyingMessages('crm-b', { userId: 'crm-b' }));
    await ingest(setup, [aliasMessage('crm-a', 'crm-b', 'alias-ab')]);

    await dispose(setup, 'crm-b', { kind: 'rejected', reason: 'too small' });

    const lead = await getLead(setup.deps, 'crm-b');
    expect(lead.status).toBe('recycled');
    expect(lead.episodes.map((episode) => episode.recycleReason)).toEqual([
      'rejected by sales: no budget',
      'rejected by sales: too small',
    ]);
    expect(lead.episodes[1]?.qualifiedAt).toBe(lead.qualifiedAt);
  });
});

describe('reads during a merge into a new lead', () => {
  it('return the target, not 404', async () => {
    const setup = await realDependencies();
    await ingest(setup, qualifyingMessages('v2', { anonymousId: 'v2' }));
    const held = holdNextCall(setup.repository, 'listEvents', {
      when: 'before',
      matches: (leadId) => leadId === 'anon:v2',
    });

    const merging = ingest(setup, [
      { type: 'identify', messageId: 'id-2', userId: 'u2', anonymousId: 'v2' },
    ]);
    await held.reached;
    try {
      const lead = await getLead(setup.deps, 'anon:v2');
      expect(lead.leadId).toBe('u2');
      expect(lead.requestedLeadId).toBe('anon:v2');
      const history = await getHistory(setup.deps, 'anon:v2', { limit: 20 });
      expect(history.leadId).toBe('u2');
      // The merge ended the anonymous MQL's episode, so the lead takes no
      // acceptance until its events qualify it again.
      await expect(
        dispose(setup, 'anon:v2', { kind: 'accepted' }),
      ).rejects.toBeInstanceOf(ConflictError);
    } finally {
      held.release();
    }
    await merging;

    const merged = await getLead(setup.deps, 'anon:v2');
    expect(merged.leadId).toBe('u2');
    expect(merged.status).toBe('mql');
  });
});
