import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../functions/domain/errors.js';
import type { ScoringDependencies } from '../../functions/use-cases/dependencies.js';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { getAccount } from '../../functions/use-cases/get-account.js';
import { getHistory } from '../../functions/use-cases/get-history.js';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { recordDisposition } from '../../functions/use-cases/record-disposition.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';

/** A lead id that displays as "ann" followed by nothing. */
const LOOKALIKE = 'ann\u200b';

const reads: Array<
  [string, (deps: ScoringDependencies, id: string) => Promise<unknown>]
> = [
  ['getLead', (deps, id) => getLead(deps, id)],
  ['getHistory', (deps, id) => getHistory(deps, id, { limit: 1 })],
  [
    'recordDisposition',
    (deps, id) => recordDisposition(deps, id, { kind: 'accepted' }),
  ],
  ['eraseLead', (deps, id) => eraseLead(deps, id)],
];

describe('not found errors', () => {
  it.each(reads)('%s writes out a hidden character', async (_name, read) => {
    const { deps, clock } = await realDependencies();
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: qualifyingBatch('ann'),
      receivedAt: clock.now,
    });

    const error = await read(deps, LOOKALIKE).catch((caught) => caught);

    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe('Lead ann\\u{200B} was not found.');
  });

  it.each(reads)('%s writes out a no-break space', async (_name, read) => {
    const { deps } = await realDependencies();

    const error = await read(deps, 'ann\u00a0x').catch((caught) => caught);

    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe('Lead ann\\u{A0}x was not found.');
  });

  it('getAccount writes out a hidden character', async () => {
    const { deps } = await realDependencies();

    const error = await getAccount(deps, 'group:acme\u2060').catch(
      (caught) => caught,
    );

    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe(
      'Account group:acme\\u{2060} was not found.',
    );
  });
});
