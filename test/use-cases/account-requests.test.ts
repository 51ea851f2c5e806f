import { describe, expect, it } from 'vitest';
import type { ApiRequest } from '../../functions/adapters/http/api-request.js';
import { accountIdOf } from '../../functions/handlers/account-path.js';
import { getAccount } from '../../functions/use-cases/get-account.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { accountModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';

function request(accountId: string): ApiRequest {
  return {
    payloadVersion: '2.0',
    method: 'GET',
    path: `/accounts/${encodeURIComponent(accountId)}`,
    routePath: '/accounts/{accountId}',
    headers: {},
    pathParameters: { accountId },
    queryParameters: {},
    body: undefined,
    isBase64Encoded: false,
    requestId: 'r',
  };
}

describe('GET /accounts with a long name', () => {
  it.each([
    ['over 512 bytes', `${'Bücherei '.repeat(60)}GmbH`],
    ['over the 1000-character trait limit', 'Ä'.repeat(1200)],
  ])('finds a company named %s', async (_case, company) => {
    const model = accountModel();
    const { deps, clock } = await realDependencies({ model });
    await ingestMessages(deps, {
      sourceId: 'default',
      messages: [
        {
          type: 'identify',
          messageId: 'long-company',
          userId: 'lead-long',
          traits: { title: 'CPO', company },
        },
      ],
      receivedAt: clock.now,
    });

    const requested = accountIdOf(
      request(`company:${company}`),
      model.accounts,
    );
    const account = await getAccount(deps, requested);

    expect(account.accountId).toMatch(/^company:.+~[0-9a-f]{16}$/);
    expect(Buffer.byteLength(account.accountId, 'utf8')).toBeLessThanOrEqual(
      512,
    );
    expect(account.leads.map((lead) => lead.leadId)).toEqual(['lead-long']);
  });
});
