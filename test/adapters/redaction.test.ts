import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  redactEmails,
  redactLogValue,
} from '../../functions/adapters/observability/redaction.js';
import { type CapturedOutput, captureOutput } from '../support/output.js';

/** Builds the tag that replaces a text containing an email address. */
function tagOf(text: string): string {
  return `[email sha256:${createHash('sha256').update(text).digest('hex')}]`;
}

describe('redactEmails', () => {
  it.each([
    'jane@acme.example.com',
    'lead Jane.Doe+web@Acme-Industrial.co.uk changed',
    'a@b.io and c@d.io',
    'jürgen.müller@bücher.example',
    "o'brien@acme.example",
    'jane@xn--bcher-kva.example',
    '用户@例子.广告',
    'Ζωή@παράδειγμα.δοκιμή',
    'LEAD#jane@acme.example',
    '"Jane Doe"@acme.example',
    'jane!jane.doe@acme.example',
    'jane.doe@intranet',
    'jane.doe@[10.0.0.1]',
    'x@localhost',
    'a@b',
    'vitest@4.1.12',
    'file:///app/node_modules/zod@4.6.7/index.js',
    'node_modules/@Jane.Doe@acme.example/x',
    'at f (/app/node_modules/@aws-sdk/x.js:1:2) for jane@acme.example',
  ])('replaces %s whole', (text) => {
    expect(redactEmails(text)).toBe(tagOf(text));
  });

  it.each([
    'anon:5f0c2a',
    'person-42',
    // A name without @ is kept, as README's Logs section states.
    'Alice Smith',
    'node_modules/@aws-sdk/client-dynamodb/dist/index.js',
    '    at f (file:///app/node_modules/@smithy/core/dist/index.js:1:2)',
  ])('keeps %s', (text) => {
    expect(redactEmails(text)).toBe(text);
  });

  it('tags an id with the hex that sha256sum prints', () => {
    // printf %s 'a@b' | sha256sum
    expect(redactEmails('a@b')).toBe(
      '[email sha256:7508d8b5018ea640b85269861a101203f0c26900555268e930025dac844b0f35]',
    );
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
    expect(line.leadId).toBe(tagOf('jane@acme.example'));
    expect(line.eventIds).toEqual(['e1']);
    expect(text).toContain(tagOf('Lead jane@acme.example failed'));
    expect(text).toContain(tagOf('conflict on LEAD#jane@acme.example'));
  });
});
