import { describe, expect, it } from 'vitest';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { realDependencies } from '../support/dependencies.js';

describe('lead view fields', () => {
  it.each([
    ['an opaque user id', 'crm-4711', 'crm-4711', null],
    ['an anonymous id', undefined, 'anon:device-9', null],
    [
      'an email user id',
      'Jane.Doe@Acme.example',
      'jane.doe@acme.example',
      'Jane.Doe@Acme.example',
    ],
  ])('sets displayId for %s', async (_kind, userId, leadId, displayId) => {
    const { deps, clock } = await realDependencies();
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: [
        {
          type: 'page',
          messageId: 'view-1',
          ...(userId === undefined ? { anonymousId: 'device-9' } : { userId }),
          properties: { path: '/pricing' },
        },
      ],
      receivedAt: clock.now,
    });

    const view = await getLead(deps, leadId);

    expect(view.leadId).toBe(leadId);
    expect(view).toHaveProperty('displayId', displayId);
  });
});
