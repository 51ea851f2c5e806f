import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  emailDomainOf,
  identityLinksOf,
  isEmailAddress,
  leadIdOf,
  requestedLeadId,
  userLeadId,
} from '../../functions/domain/identity.js';
import { applyEvents, newLead } from '../../functions/domain/lead.js';
import { segmentMessageSchema } from '../../functions/domain/messages.js';
import { identify, T0 } from '../fixtures/events.js';
import { testModel } from '../fixtures/models.js';

describe('isEmailAddress', () => {
  /** The shape check as a backtracking regex, quadratic on some texts. */
  const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u;

  it.each([
    ['jane@acme.example', true],
    [' Jane@Acme.example ', true],
    ['a@b.c', true],
    ['a@.b.c', true],
    ['a@b..c', true],
    ['\u{1F600}@\u{1F600}.\u{1F600}', true],
    ['a@b', false],
    ['a@.b', false],
    ['a@b.', false],
    ['a@.', false],
    ['@b.c', false],
    ['a@b@c.d', false],
    ['a b@c.d', false],
    ['a@b\u00a0c.d', false],
    ['', false],
  ])('reads %j as %s', (text, expected) => {
    expect(isEmailAddress(text)).toBe(expected);
  });

  it('agrees with the regex on generated texts', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', '.', '@', ' ', '\u{1F600}', '\ud800'),
      maxLength: 12,
    });
    fc.assert(
      fc.property(text, (value) => {
        expect(isEmailAddress(value)).toBe(EMAIL_SHAPE.test(value.trim()));
      }),
    );
  });

  it('checks a long failing text in linear time', () => {
    // The regex takes seconds on this text, which a user id of a tracking
    // message can be before its length is checked.
    const text = `a@${'.'.repeat(64_000)}@`;
    const started = performance.now();

    expect(isEmailAddress(text)).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('userLeadId', () => {
  it.each([
    { userId: ' Jane.Doe@ACME.example ', leadId: 'jane.doe@acme.example' },
    { userId: 'JOSE\u0301@acme.example', leadId: 'jos\u00e9@acme.example' },
    { userId: 'CRM-00042', leadId: 'CRM-00042' },
    { userId: 'not an@email', leadId: 'not an@email' },
    { userId: 'anon:a1', leadId: '~anon:a1' },
    { userId: '~anon:a1', leadId: '~~anon:a1' },
    { userId: '~crm', leadId: '~~crm' },
    { userId: 'ANON:Jane@Acme.example', leadId: '~anon:jane@acme.example' },
  ])('maps $userId to $leadId', ({ userId, leadId }) => {
    expect(userLeadId(userId)).toBe(leadId);
  });

  it('maps every id to its own lead', () => {
    const ids = ['a1', 'anon:a1', '~anon:a1', '~a1', '~~a1', 'anon:~a1'];
    const leadIds = [
      ...ids.map((id) => leadIdOf({ userId: id })),
      ...ids.map((id) => leadIdOf({ anonymousId: id })),
    ];

    expect(new Set(leadIds).size).toBe(leadIds.length);
  });
});

describe('requestedLeadId', () => {
  it.each([
    { id: 'Jane@Acme.example', leadId: 'jane@acme.example' },
    { id: 'CRM-00042', leadId: 'CRM-00042' },
    { id: 'anon:a1', leadId: 'anon:a1' },
    { id: '~anon:a1', leadId: '~anon:a1' },
    { id: '~~crm', leadId: '~~crm' },
  ])('reads $id as the lead $leadId', ({ id, leadId }) => {
    expect(requestedLeadId(id)).toBe(leadId);
  });

  it.each([' crm-7 ', '\tcrm-7', ' Ann@X.example ', '\u00a0crm-8'])(
    'finds the lead ingest stores for %j',
    (userId) => {
      const parsed = segmentMessageSchema.parse({
        type: 'identify',
        userId,
      });

      expect(requestedLeadId(userId)).toBe(leadIdOf(parsed));
    },
  );

  it.each([' Foo@Bar.example ', '\ta1', '\u00a0a2\u3000'])(
    'finds the anonymous lead of %j after anon:',
    (anonymousId) => {
      const parsed = segmentMessageSchema.parse({
        type: 'page',
        anonymousId,
      });

      expect(requestedLeadId(`anon:${anonymousId}`)).toBe(leadIdOf(parsed));
      expect(requestedLeadId(` anon:${anonymousId} `)).toBe(leadIdOf(parsed));
    },
  );

  it.each([' anon:zz ', '\u00a0~crm '])(
    'finds the escaped user %j after ~',
    (userId) => {
      const parsed = segmentMessageSchema.parse({
        type: 'identify',
        userId,
      });

      expect(requestedLeadId(`~${userId}`)).toBe(leadIdOf(parsed));
    },
  );

  it('finds the lead of every user id from its lead id', () => {
    for (const userId of ['crm-1', 'anon:a1', '~x', 'Ann@X.example']) {
      const leadId = userLeadId(userId);
      expect(requestedLeadId(leadId)).toBe(leadId);
    }
  });
});

describe('leadIdOf', () => {
  it('prefers the user id', () => {
    expect(leadIdOf({ userId: 'Ann@X.example', anonymousId: 'a1' })).toBe(
      'ann@x.example',
    );
  });

  it('prefixes an anonymous id', () => {
    expect(leadIdOf({ anonymousId: 'a1' })).toBe('anon:a1');
  });
});

describe('emailDomainOf', () => {
  it.each([
    { text: 'ann@Mail.Example.COM', domain: 'mail.example.com' },
    { text: 'example.com.', domain: 'example.com' },
    { text: 'a@b@c.example', domain: 'c.example' },
    { text: 'localhost', domain: undefined },
    { text: 'ann@', domain: undefined },
    { text: 'https://example.com/x', domain: undefined },
    { text: 'ann@Bücher.example', domain: 'xn--bcher-kva.example' },
    { text: 'ann@acme\u0000.example', domain: undefined },
    { text: 'ann@\u202eelpmaxe.acme', domain: undefined },
    { text: 'ann@ac\u200bme.example', domain: undefined },
    { text: 'ann@acme.example\u2066', domain: undefined },
  ])('reads $text as $domain', ({ text, domain }) => {
    expect(emailDomainOf(text)).toBe(domain);
  });
});

describe('identityLinksOf', () => {
  it('links the anonymous id of an identified message', () => {
    const links = identityLinksOf({
      type: 'identify',
      userId: 'Jane@Acme.example',
      anonymousId: 'a1',
    });

    expect(links).toEqual([{ from: 'anon:a1', to: 'jane@acme.example' }]);
  });

  it('links both readings of an alias previousId', () => {
    const links = identityLinksOf({
      type: 'alias',
      userId: 'new-id',
      previousId: 'old-id',
    });

    expect(links).toEqual([
      { from: 'old-id', to: 'new-id' },
      { from: 'anon:old-id', to: 'new-id' },
    ]);
  });

  it('states no link without a user id', () => {
    expect(identityLinksOf({ type: 'page', anonymousId: 'a1' })).toEqual([]);
  });
});

describe('display id', () => {
  it('keeps the original spelling of an email user id', () => {
    const model = testModel();
    const event = {
      ...identify({ title: 'CFO' }),
      userId: 'Jane@Acme.example',
    };

    const { state } = applyEvents(
      newLead('jane@acme.example', model, T0),
      [event],
      model,
    );

    expect(state.displayId).toBe('Jane@Acme.example');
  });

  it('ignores user ids of merged leads', () => {
    const model = testModel();
    const moved = [
      { ...identify({ title: 'CFO' }), userId: 'Alice.Old@Acme.example' },
      { ...identify({ title: 'CFO' }), userId: 'Bob@Acme.example' },
    ];
    const own = { ...identify({ title: 'CFO' }), userId: 'Zed@Acme.example' };

    const merged = applyEvents(newLead('crm-7', model, T0), moved, model);
    const renamed = applyEvents(
      newLead('zed@acme.example', model, T0),
      [own, ...moved],
      model,
    );

    expect(merged.state.displayId).toBeUndefined();
    expect(renamed.state.displayId).toBe('Zed@Acme.example');
  });
});
