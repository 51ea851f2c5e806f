import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  REDACTED_EMAIL,
  redactEmails,
  redactLogValue,
} from '../../functions/adapters/observability/redaction.js';
import { type CapturedOutput, captureOutput } from '../support/output.js';

describe('redactEmails', () => {
  it.each([
    ['jane@acme.example.com', REDACTED_EMAIL],
    [
      'lead Jane.Doe+web@Acme-Industrial.co.uk changed',
      `lead ${REDACTED_EMAIL} changed`,
    ],
    ['a@b.io and c@d.io', `${REDACTED_EMAIL} and ${REDACTED_EMAIL}`],
    ['jürgen.müller@bücher.example', REDACTED_EMAIL],
    ["o'brien@acme.example", REDACTED_EMAIL],
    ['jane@xn--bcher-kva.example', REDACTED_EMAIL],
    ['jane@shop.xn--p1ai', REDACTED_EMAIL],
    ['用户@例子.广告', REDACTED_EMAIL],
    ['Ζωή@παράδειγμα.δοκιμή', REDACTED_EMAIL],
    ['LEAD#jane@acme.example', `LEAD#${REDACTED_EMAIL}`],
  ])('redacts %s', (text, expected) => {
    expect(redactEmails(text)).toBe(expected);
  });

  it.each([
    'anon:5f0c2a',
    'node_modules/@aws-sdk/client-dynamodb/dist/index.js',
    'vitest@4.1.12',
    'user@localhost',
    '@aws-lambda-powertools/logger@2.36.0',
    'file:///app/node_modules/zod@4.6.7/index.js',
  ])('keeps %s', (text) => {
    expect(redactEmails(text)).toBe(text);
  });
});

describe('Logger with redactLogValue', () => {
  let output: CapturedOutput;

  beforeEach(() => {
    output = captureOutput();
  });

  afterEach(() => output.restore());

  it('redacts emails in fields, messages and error causes', () => {
    const logger = new Logger({ jsonReplacerFn: redactLogValue });
    const cause = new Error('conflict on LEAD#jane@acme.example');

    logger.error('sweep item failed', {
      leadId: 'jane@acme.example',
      eventIds: ['e1'],
      error: new Error('Lead jane@acme.example failed', { cause }),
    });

    const text = output.all();
    const line = JSON.parse(text) as Record<string, unknown>;
    expect(text).not.toContain('jane@acme.example');
    expect(line.leadId).toBe(REDACTED_EMAIL);
    expect(line.eventIds).toEqual(['e1']);
    expect(text).toContain(`Lead ${REDACTED_EMAIL} failed`);
    expect(text).toContain(`conflict on LEAD#${REDACTED_EMAIL}`);
  });
});
