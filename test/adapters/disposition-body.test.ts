import { describe, expect, it } from 'vitest';
import type { ApiRequest } from '../../functions/adapters/http/api-request.js';
import type { FieldIssue } from '../../functions/domain/errors.js';
import {
  PayloadTooLargeError,
  ValidationError,
} from '../../functions/domain/errors.js';
import {
  dispositionOf,
  recycleReasonOf,
} from '../../functions/handlers/disposition-body.js';

function request(body: unknown): ApiRequest {
  return {
    payloadVersion: '2.0',
    method: 'POST',
    path: '/leads/x/disposition',
    routePath: '/leads/{leadId}/disposition',
    headers: { 'content-type': 'application/json' },
    pathParameters: { leadId: 'x' },
    queryParameters: {},
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestId: 'r',
  };
}

function issuesOf(body: unknown): FieldIssue[] {
  try {
    dispositionOf(request(body));
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  return [];
}

function fieldsOf(body: unknown): string[] {
  try {
    dispositionOf(request(body));
  } catch (error) {
    if (error instanceof ValidationError) {
      return error.issues.map((issue) => issue.field);
    }
    throw error;
  }
  return [];
}

describe('dispositionOf', () => {
  it('reads a conversion to an opportunity', () => {
    expect(
      dispositionOf(
        request({ disposition: 'converted', convertedTo: 'opportunity' }),
      ),
    ).toEqual({
      kind: 'converted',
      reason: undefined,
      convertedTo: 'opportunity',
    });
  });

  it('names an extra field and the allowed ones', () => {
    const body = { disposition: 'accepted', foo: 1 };
    let issues: FieldIssue[] = [];
    try {
      dispositionOf(request(body));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues = error.issues;
    }

    expect(issues).toEqual([
      {
        field: 'foo',
        message:
          'is not a known field; allowed fields are disposition, reason. Remove it or correct its spelling.',
      },
    ]);
  });

  it.each(['accepted', 'rejected', 'recycled'])(
    'rejects convertedTo on %s',
    (kind) => {
      const issues = issuesOf({
        disposition: kind,
        reason: 'r',
        convertedTo: 'sql',
      });

      expect(issues).toEqual([
        {
          field: 'convertedTo',
          message:
            'applies only when disposition is "converted"; remove it, or send "disposition": "converted"',
        },
      ]);
    },
  );

  it('names other invalid fields of an unknown disposition', () => {
    const issues = issuesOf({
      disposition: 'won',
      convertedTo: 'deal',
      reason: 5,
      foo: 1,
    });

    expect(issues).toEqual([
      {
        field: 'disposition',
        message:
          'must be one of "accepted", "rejected", "converted" or "recycled"',
      },
      { field: 'convertedTo', message: 'must be "sql" or "opportunity"' },
      { field: 'reason', message: 'must be a string' },
      {
        field: 'foo',
        message:
          'is not a known field; allowed fields are disposition, convertedTo, reason. Remove it or correct its spelling.',
      },
    ]);
  });

  it('names an extra field of a missing disposition', () => {
    expect(fieldsOf({ foo: 1 })).toEqual(['disposition', 'foo']);
  });

  it('names only the disposition when the rest is valid', () => {
    expect(fieldsOf({ disposition: 'won', reason: 'ok' })).toEqual([
      'disposition',
    ]);
    expect(
      fieldsOf({ disposition: null, convertedTo: null, reason: null }),
    ).toEqual(['disposition']);
  });

  it('keeps tabs and line breaks in a reason', () => {
    const parsed = dispositionOf(
      request({ disposition: 'rejected', reason: 'no budget\r\n\tnext year' }),
    );
    expect(parsed.reason).toBe('no budget\r\n\tnext year');
  });

  it('asks for the missing reason of a rejection', () => {
    const read = () => dispositionOf(request({ disposition: 'rejected' }));

    expect(read).toThrow(ValidationError);
    try {
      read();
    } catch (error) {
      expect((error as ValidationError).issues).toEqual([
        {
          field: 'reason',
          message: 'is required: give the reason in 1 to 200 characters',
        },
      ]);
    }
  });

  it.each([
    [
      { disposition: 'converted' },
      'convertedTo',
      'is required when disposition is "converted"; it must be "sql" or "opportunity"',
    ],
    [
      { disposition: 'converted', convertedTo: null },
      'convertedTo',
      'is required when disposition is "converted"; it must be "sql" or "opportunity", not null',
    ],
    [
      { disposition: 'converted', convertedTo: 'deal' },
      'convertedTo',
      'must be "sql" or "opportunity"',
    ],
    [
      {},
      'disposition',
      'is required; it must be one of "accepted", "rejected", "converted" or "recycled"',
    ],
    [
      { disposition: null },
      'disposition',
      'is required; it must be one of "accepted", "rejected", "converted" or "recycled", not null',
    ],
    [
      { disposition: 'won' },
      'disposition',
      'must be one of "accepted", "rejected", "converted" or "recycled"',
    ],
  ])('words %j plainly', (body, field, message) => {
    expect(issuesOf(body)).toEqual([{ field, message }]);
  });

  it('trims the reason of a rejection', () => {
    const parsed = dispositionOf(
      request({ disposition: 'rejected', reason: '  no budget ' }),
    );
    expect(parsed.reason).toBe('no budget');
  });

  it.each([
    [{ disposition: 'rejected' }, 'reason'],
    [{ disposition: 'recycled', reason: ' ' }, 'reason'],
    [{ disposition: 'converted' }, 'convertedTo'],
    [{ disposition: 'converted', convertedTo: 'deal' }, 'convertedTo'],
    [{ disposition: 'won' }, 'disposition'],
    [{ disposition: 'accepted', extra: 1 }, 'extra'],
    [{ disposition: 'rejected', reason: 'no \ud800 budget' }, 'reason'],
    [{ disposition: 'accepted', reason: '\udc00' }, 'reason'],
    [{ disposition: 'rejected', reason: 'no\u0000budget' }, 'reason'],
    [{ disposition: 'recycled', reason: '\u001b[31mlater' }, 'reason'],
    [{ disposition: 'accepted', reason: 'ok\u0085' }, 'reason'],
    [{ disposition: 'accepted', reason: '\u200B' }, 'reason'],
    [{ disposition: 'rejected', reason: '\u200B\u200B \u2060' }, 'reason'],
    [{ disposition: 'recycled', reason: '\u3164' }, 'reason'],
    [{ disposition: 'rejected', reason: '\u202Eeulav hgih\u202C' }, 'reason'],
    [{ disposition: 'accepted', reason: 'ok \u2066x\u2069' }, 'reason'],
    [{ disposition: 'converted', convertedTo: null }, 'convertedTo'],
    [[], '(root)'],
    [null, '(root)'],
    ['accepted', '(root)'],
  ])('rejects %j naming %s', (body, field) => {
    expect(fieldsOf(body)).toEqual([field]);
  });

  it.each([
    ['an empty array', []],
    ['an array of 201 items', Array.from({ length: 201 }, () => 'x')],
    ['an object with length 0', { length: 0 }],
    ['an object with length 500', { length: 500 }],
  ])('names only the type of %s as reason', (_name, reason) => {
    expect(issuesOf({ disposition: 'rejected', reason })).toEqual([
      { field: 'reason', message: 'must be a string' },
    ]);
  });

  it('explains an invisible reason', () => {
    expect(issuesOf({ disposition: 'rejected', reason: '\u200B' })).toEqual([
      {
        field: 'reason',
        message:
          'consists only of invisible characters (format characters such as U+200B, or white space); give the reason in 1 to 200 visible characters',
      },
    ]);
  });

  it('explains a reason with bidirectional controls', () => {
    const body = { disposition: 'rejected', reason: '\u202Eeulav hgih\u202C' };

    expect(issuesOf(body)).toEqual([
      {
        field: 'reason',
        message:
          'must not contain bidirectional controls (U+202A to U+202E, U+2066 to U+2069), which make the text display in another order than it is stored; remove them',
      },
    ]);
  });

  it.each([[[]], [null]])('asks for a JSON object, not %j', (body) => {
    const issues = issuesOf(body);

    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe('(root)');
    expect(issues[0]?.message).toMatch(/^must be a JSON object; got /);
  });

  it.each([
    ['accepted', { disposition: 'accepted' }],
    ['rejected', { disposition: 'rejected', reason: 'no budget' }],
    ['recycled', { disposition: 'recycled', reason: 'later' }],
  ])('reads a null convertedTo on %s as absent', (_kind, body) => {
    const parsed = dispositionOf(request({ ...body, convertedTo: null }));

    expect(parsed.kind).toBe(body.disposition);
    expect(parsed.convertedTo).toBeUndefined();
  });

  it('keeps visible text with a zero width joiner', () => {
    const parsed = dispositionOf(
      request({ disposition: 'rejected', reason: 'team 👩\u200D💻 busy' }),
    );

    expect(parsed.reason).toBe('team 👩\u200D💻 busy');
  });

  it('counts a reason in code points', () => {
    const parsed = dispositionOf(
      request({ disposition: 'rejected', reason: '😀'.repeat(200) }),
    );

    expect(parsed.reason).toBe('😀'.repeat(200));
  });

  it.each([
    ['201 letters', 'x'.repeat(201)],
    ['201 emoji', '😀'.repeat(201)],
  ])('rejects a reason of %s', (_name, reason) => {
    expect(issuesOf({ disposition: 'rejected', reason })).toEqual([
      { field: 'reason', message: 'must be at most 200 characters' },
    ]);
  });

  it('advises on the reason, not events, above 4 KB', () => {
    const read = () =>
      dispositionOf(
        request({ disposition: 'rejected', reason: 'x'.repeat(5000) }),
      );

    expect(read).toThrow(PayloadTooLargeError);
    expect(read).toThrow('at most 200 characters');
    expect(read).not.toThrow('events');
  });
});

describe('repeated keys', () => {
  function rawRequest(body: string): ApiRequest {
    return { ...request({}), body };
  }

  it('rejects a disposition given twice', () => {
    const body =
      '{"disposition": "accepted",\n "disposition": "rejected", "reason": "x"}';
    try {
      dispositionOf(rawRequest(body));
      expect.unreachable('the key is repeated');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues).toEqual([
        {
          field: 'disposition',
          message: 'is set on line 1 and again on line 2; remove one of them',
        },
      ]);
    }
  });

  it('rejects a recycle reason given twice', () => {
    const body = '{"reason": "later", "reason": "never"}';
    expect(() => recycleReasonOf(rawRequest(body))).toThrow(
      'sets a key twice in one object',
    );
  });

  it('accepts distinct keys', () => {
    const body = '{"disposition": "accepted", "reason": "ok"}';
    expect(dispositionOf(rawRequest(body)).kind).toBe('accepted');
  });
});

describe('recycleReasonOf', () => {
  function issuesOf(body: unknown) {
    try {
      recycleReasonOf(request(body));
    } catch (error) {
      if (error instanceof ValidationError) return error.issues;
      throw error;
    }
    return [];
  }

  it('reads a trimmed reason', () => {
    expect(recycleReasonOf(request({ reason: ' later ' }))).toBe('later');
  });

  it.each([
    [{}, 'reason'],
    [{ reason: '' }, 'reason'],
    [{ reason: 'a\u0000b' }, 'reason'],
    [{ reason: 'later', disposition: 'accepted' }, 'disposition'],
    [[], '(root)'],
  ])('rejects %j naming %s', (body, field) => {
    expect(issuesOf(body).map((issue) => issue.field)).toEqual([field]);
  });

  it('names the unknown field and the allowed ones', () => {
    const issues = issuesOf({ reason: 'later', disposition: 'accepted' });
    expect(issues).toEqual([
      {
        field: 'disposition',
        message:
          'is not a known field; allowed fields are reason. Remove it or correct its spelling.',
      },
    ]);
  });
});
