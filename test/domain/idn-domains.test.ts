import { describe, expect, it } from 'vitest';
import { accountOf, storedAccountId } from '../../functions/domain/account.js';
import { InvalidModelError } from '../../functions/domain/errors.js';
import { scoreFit } from '../../functions/domain/fit.js';
import { emailDomainOf } from '../../functions/domain/identity.js';
import { applyEvents, newLead } from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import type { AccountPolicy } from '../../functions/domain/model.js';
import { compileModel } from '../../functions/domain/model-validation.js';
import { T0, trackingEvent } from '../fixtures/events.js';
import {
  accountModel,
  modelWith,
  testModelDocument,
} from '../fixtures/models.js';

/** One domain in its Unicode and punycode spellings. */
const UNICODE = 'bücher.example';
const PUNYCODE = 'xn--bcher-kva.example';

function leadWith(
  leadId: string,
  traits: TrackingEvent['traits'],
  model = accountModel(),
) {
  const events = [trackingEvent({ userId: leadId, type: 'identify', traits })];
  return applyEvents(newLead(leadId, model, T0), events, model).state;
}

describe('internationalized domains', () => {
  it.each([
    `ann@${UNICODE}`,
    `ann@${PUNYCODE}`,
    'ann@BÜCHER.example',
    'ann@XN--BCHER-KVA.example.',
    PUNYCODE,
  ])('reads %s as the punycode domain', (text) => {
    expect(emailDomainOf(text)).toBe(PUNYCODE);
  });

  it('keeps a zero width space out of the IDNA mapping', () => {
    expect(emailDomainOf('ann@bü\u200Bcher.example')).toBeUndefined();
  });

  it('forms one account from both spellings', () => {
    const policy = accountModel().accounts as AccountPolicy;
    const unicode = leadWith('ann', { email: `ann@${UNICODE}` });
    const punycode = leadWith('carl', { email: `carl@${PUNYCODE}` });

    expect(accountOf(unicode, policy)?.accountId).toBe(`domain:${PUNYCODE}`);
    expect(accountOf(punycode, policy)?.accountId).toBe(`domain:${PUNYCODE}`);
  });

  it.each([
    `domain:${UNICODE}`,
    `domain:${PUNYCODE}`,
    'domain:Bücher.Example.',
  ])('stores %s under the punycode id', (requested) => {
    expect(storedAccountId(requested)).toBe(`domain:${PUNYCODE}`);
  });

  it.each([
    [UNICODE, `ann@${PUNYCODE}`],
    [PUNYCODE, `ann@${UNICODE}`],
  ])('treats personal domain %s in both spellings', (listed, email) => {
    const model = accountModel({ personalEmailDomains: [listed] });
    const policy = model.accounts as AccountPolicy;
    const lead = leadWith('ann', { email }, model);

    expect(accountOf(lead, policy)).toBeUndefined();
  });

  it.each([
    [UNICODE, `ann@eu.${PUNYCODE}`],
    [PUNYCODE, `ann@${UNICODE}`],
  ])('matches competitor domain %s in both spellings', (listed, email) => {
    const model = modelWith({
      fit: [{ traits: ['email'], domains: [listed], points: -50 }],
    });
    const lead = leadWith('ann', { email }, model);

    const points = scoreFit(lead.traits, model).map((entry) => entry.points);

    expect(points).toEqual([-50]);
  });

  it.each([
    'ann@theta\u3002example',
    'ann@theta\uFF0Eexample',
    'ann@theta\uFF61example',
    'ann@theta.example\u3002',
    'ann@theta.example.',
    'theta\u3002example\uFF0E',
  ])('reads the IDNA dots of %s as dots', (text) => {
    expect(emailDomainOf(text)).toBe('theta.example');
  });

  it.each([
    'x@theta\u3002example',
    'x@theta.example\u3002',
    'x@theta\uFF0Eexample',
    'x@theta\uFF61example',
  ])('forms the account of %s', (email) => {
    const policy = accountModel().accounts as AccountPolicy;
    const lead = leadWith('ann', { email });

    expect(accountOf(lead, policy)?.accountId).toBe('domain:theta.example');
  });

  it('forms the account of a lead id with an IDNA dot', () => {
    const policy = accountModel().accounts as AccountPolicy;
    const lead = leadWith('x@theta\u3002example', {});

    expect(accountOf(lead, policy)?.accountId).toBe('domain:theta.example');
  });

  it.each([
    'domain:theta\u3002example',
    'domain:theta.example\u3002',
    'domain:THETA\uFF0Eexample\uFF61',
  ])('stores %s under domain:theta.example', (requested) => {
    expect(storedAccountId(requested)).toBe('domain:theta.example');
  });

  it.each(['ann@gmail\u3002com', 'ann@gmail.com\u3002'])(
    'treats %s as a personal address',
    (email) => {
      const model = accountModel({ personalEmailDomains: ['gmail.com'] });
      const policy = model.accounts as AccountPolicy;
      const lead = leadWith('ann', { email }, model);

      expect(accountOf(lead, policy)).toBeUndefined();
    },
  );

  it('matches a competitor domain written with an IDNA dot', () => {
    const model = modelWith({
      fit: [{ traits: ['email'], domains: ['rival.example'], points: -50 }],
    });
    const lead = leadWith(
      'ann',
      { email: 'ann@eu\uFF0Erival\u3002example' },
      model,
    );

    const points = scoreFit(lead.traits, model).map((entry) => entry.points);

    expect(points).toEqual([-50]);
  });

  it('rejects a model domain with broken punycode', () => {
    const document = testModelDocument();
    const fit = document.fit as { rules: Record<string, unknown>[] };
    fit.rules.push({
      id: 'competitor',
      description: 'Competitor addresses',
      traits: ['email'],
      domains: ['xn--zz.example'],
      points: -50,
    });

    const error = (() => {
      try {
        compileModel(document);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(InvalidModelError);
    const issues = (error as InvalidModelError).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toMatch(/^fit\.rules\[\d+\]\.domains\[0\]$/);
    expect(issues[0]?.message).toContain('IDNA');
  });
});
