import { describe, expect, it } from 'vitest';
import type { ApiRequest } from '../../functions/adapters/http/api-request.js';
import { ValidationError } from '../../functions/domain/errors.js';
import { accountIdOf } from '../../functions/handlers/account-path.js';
import { leadIdOf } from '../../functions/handlers/lead-path.js';
import { defaultModel } from '../support/dependencies.js';

function request(pathParameters: Record<string, string>): ApiRequest {
  return {
    payloadVersion: '2.0',
    method: 'GET',
    path: '/',
    routePath: '/',
    headers: {},
    pathParameters,
    queryParameters: {},
    body: undefined,
    isBase64Encoded: false,
    requestId: 'r',
  };
}

function validationErrorOf(read: () => unknown): ValidationError {
  try {
    read();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

// 'é' is 2 bytes in UTF-8, so 257 of them are 514 bytes in 257 characters.
const overLimitInBytes = 'é'.repeat(257);

describe('leadIdOf', () => {
  it('accepts an anonymous lead id of 517 bytes, the longest lead id', () => {
    const leadId = `anon:${'a'.repeat(512)}`;
    expect(leadIdOf(request({ leadId }))).toBe(leadId);
  });

  it('rejects a lead id over 517 bytes, naming leadId and the limit', () => {
    const error = validationErrorOf(() =>
      leadIdOf(request({ leadId: `anon:a${overLimitInBytes}` })),
    );
    expect(error.issues).toEqual([
      { field: 'leadId', message: 'must be at most 517 bytes in UTF-8' },
    ]);
  });

  it('rejects a lead id of only whitespace', () => {
    const error = validationErrorOf(() =>
      leadIdOf(request({ leadId: ' \u00a0' })),
    );
    expect(error.issues).toEqual([{ field: 'leadId', message: 'is required' }]);
  });

  it.each(['anon:', 'anon:  ', ' anon:'])(
    'rejects %j, an empty anonymous id',
    (leadId) => {
      const error = validationErrorOf(() => leadIdOf(request({ leadId })));
      expect(error.issues).toEqual([
        { field: 'leadId', message: 'must name an anonymous id after "anon:"' },
      ]);
    },
  );

  it.each(['~', '~ ', ' ~'])('rejects %j, an empty user id', (leadId) => {
    const error = validationErrorOf(() => leadIdOf(request({ leadId })));
    expect(error.issues).toEqual([
      { field: 'leadId', message: 'must name a user id after "~"' },
    ]);
    expect(error.message).toContain('/leads/~anon:user-1');
  });

  it.each([
    ['a lone surrogate', 'a\ud800b', 'must be well-formed Unicode'],
    ['a control character', 'a\u0000b', 'must not contain control'],
    ['a bidi override', '\u202ejane', 'must not contain bidirectional'],
    ['an anonymous id of U+200B', 'anon:\u200b', 'invisible characters'],
    ['an escaped user id of U+2060', '~\u2060', 'invisible characters'],
  ])('rejects %s as ingest does', (_name, leadId, reason) => {
    const error = validationErrorOf(() => leadIdOf(request({ leadId })));

    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.field).toBe('leadId');
    expect(error.issues[0]?.message).toContain(reason);
    expect(error.message).not.toContain(leadId);
    expect(error.issues[0]?.message).not.toContain(leadId);
  });

  it.each(['jane', 'anon:b1', '~anon:a1', 'Jane@Acme.example', 'zoë'])(
    'accepts %s',
    (leadId) => {
      expect(leadIdOf(request({ leadId }))).toBe(leadId);
    },
  );

  it.each(['anon:\ta1\n', '~\t anon:zz\r\n'])(
    'accepts %j, which ingest trims',
    (leadId) => {
      expect(leadIdOf(request({ leadId }))).toBe(leadId);
    },
  );

  it('rejects a lead id over the DynamoDB key limit of 2048 bytes', () => {
    const error = validationErrorOf(() =>
      leadIdOf(request({ leadId: 'a'.repeat(3000) })),
    );
    expect(error.issues.map((issue) => issue.field)).toEqual(['leadId']);
  });
});

describe('accountIdOf', () => {
  const policy = defaultModel().accounts;

  it('rejects an account id of fewer characters but over 4096 bytes', () => {
    const name = 'é'.repeat(2045);
    const error = validationErrorOf(() =>
      accountIdOf(request({ accountId: `company:${name}` }), policy),
    );
    expect(error.issues).toEqual([
      {
        field: 'accountId',
        message: 'is 4098 bytes in UTF-8; the limit is 4096 bytes',
      },
    ]);
  });

  it('rejects a 4100-character id as too long', () => {
    const error = validationErrorOf(() =>
      accountIdOf(
        request({ accountId: `domain:${'a'.repeat(4085)}.example` }),
        policy,
      ),
    );
    expect(error.message).toContain('at most 4096 bytes');
    expect(error.issues[0]?.message).toBe(
      'is 4100 bytes in UTF-8; the limit is 4096 bytes',
    );
  });

  it.each([
    ['domain:', '/accounts/domain:acme.example'],
    ['group:  ', '/accounts/group:acct-42'],
    ['company:\t', '/accounts/company:acme'],
    ['company:', '/accounts/company:acme'],
  ])('rejects %j, which names no account', (accountId, example) => {
    const error = validationErrorOf(() =>
      accountIdOf(request({ accountId }), policy),
    );

    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.field).toBe('accountId');
    expect(error.issues[0]?.message).toMatch(/^must name a \w+ after "/);
    expect(error.message).toContain(`such as ${example}.`);
  });

  it.each([
    ['group:a\u0000b', 'must not contain control'],
    ['domain:\u200b', 'invisible characters'],
    ['company:\u202eacme', 'must not contain bidirectional'],
    ['company:\u2764\ufe0f', 'with letters or digits'],
    ['company:...', 'with letters or digits'],
  ])('rejects %j, which no account can have', (accountId, reason) => {
    const error = validationErrorOf(() =>
      accountIdOf(request({ accountId }), policy),
    );

    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.field).toBe('accountId');
    expect(error.issues[0]?.message).toContain(reason);
    expect(error.message).not.toContain(accountId);
  });

  it('calls an invisible account id an account', () => {
    const error = validationErrorOf(() =>
      accountIdOf(request({ accountId: 'group:\u200b' }), policy),
    );

    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.message).toContain(
      'so the account would look nameless. Use a visible id.',
    );
  });

  it.each(['group:Acme 1', 'domain:acme.example', 'company:ACME, Inc.'])(
    'accepts %s',
    (accountId) => {
      expect(accountIdOf(request({ accountId }), policy)).toBe(accountId);
    },
  );

  it.each(['acme.example', 'Domain:acme.example', 'account:1', ':x'])(
    'rejects the account id %s without a known kind',
    (accountId) => {
      const error = validationErrorOf(() =>
        accountIdOf(request({ accountId }), policy),
      );
      expect(error.issues.map((issue) => issue.field)).toEqual(['accountId']);
      expect(error.issues[0]?.message).toContain(
        'must start with group:, domain: or company:',
      );
    },
  );

  it.each([
    ['a company', `company:${'Ä'.repeat(2044)}`],
    ['a group', `group:${'g'.repeat(4090)}`],
  ])('accepts %s id of 4096 bytes', (_kind, accountId) => {
    expect(Buffer.byteLength(accountId, 'utf8')).toBe(4096);
    expect(accountIdOf(request({ accountId }), policy)).toBe(accountId);
  });

  it.each([
    'domain:theta\u3002example',
    'domain:theta\uFF0Eexample',
    'domain:theta\uFF61example',
    'domain:theta.example\u3002',
  ])('accepts %s, a domain with IDNA dots', (accountId) => {
    expect(accountIdOf(request({ accountId }), policy)).toBe(accountId);
  });

  it.each(['domain:gmail\u3002com', 'domain:gmail.com\u3002'])(
    'rejects %s, a personal domain',
    (accountId) => {
      const error = validationErrorOf(() =>
        accountIdOf(request({ accountId }), policy),
      );

      expect(error.issues).toHaveLength(1);
      expect(error.issues[0]?.message).toContain('personal mailbox domain');
    },
  );

  it('accepts a domain of 512 bytes', () => {
    // Seven labels of 63 letters, the longest a host name label can be.
    const labels = `${'a'.repeat(63)}.`.repeat(7);
    const accountId = `domain:${labels}${'a'.repeat(49)}.example`;
    expect(accountId).toHaveLength(512);

    expect(accountIdOf(request({ accountId }), policy)).toBe(accountId);
  });

  it.each([
    ['domain:gmail.com', 'personal mailbox domain'],
    ['domain:mail.GMAIL.com', 'personal mailbox domain'],
    ['domain:a\u200Bcme.example', 'format characters such as U+200B'],
    ['domain:localhost', 'with a dot'],
    ['domain:acme example', 'without spaces'],
    [`domain:${'a'.repeat(505)}.example`, 'of 513 bytes'],
    ['domain:[127.0.0.1]', 'address literal'],
    ['domain:10.0.0.1', 'IP address'],
    ['domain:-.example', 'inner hyphens'],
    ['domain:.example', 'empty label'],
    ['domain:a..b', 'empty label'],
    ['domain:xn--zz.example', 'host name'],
    [`domain:${'a'.repeat(64)}.example`, 'host name'],
    ['domain:%61cme.example', 'host name'],
  ])('rejects %j, whose domain forms no account', (accountId, reason) => {
    const error = validationErrorOf(() =>
      accountIdOf(request({ accountId }), policy),
    );

    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.field).toBe('accountId');
    expect(error.issues[0]?.message).toContain(reason);
    expect(error.issues[0]?.message).toContain('forms no account');
    expect(error.message).not.toContain(accountId);
  });
});
