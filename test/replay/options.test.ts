import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../scripts/replay/errors.js';
import { parseCliArguments } from '../../scripts/replay/options.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');

function replayOf(args: string[], env: Record<string, string> = {}) {
  const request = parseCliArguments(args, env, NOW);
  if (request.help || request.command !== 'file') {
    throw new Error('expected a replay of FILE');
  }
  return request;
}

describe('parseCliArguments', () => {
  it('applies the defaults', () => {
    const request = replayOf(['leads.csv']);

    expect(request.json).toBe(false);
    expect(request.quiet).toBe(false);
    expect(request.replay).toEqual({
      file: resolve('leads.csv'),
      url: 'http://127.0.0.1:3000/',
      writeKey: 'dev-write-key',
      adminToken: 'dev-admin-token',
      batchSize: 100,
      concurrency: 4,
      referenceTime: NOW,
      maxVisits: 50,
    });
  });

  it('resolves FILE against INIT_CWD', () => {
    const env = { INIT_CWD: '/home/user/data' };

    expect(replayOf(['leads.csv'], env).replay.file).toBe(
      '/home/user/data/leads.csv',
    );
    expect(replayOf(['/tmp/leads.csv'], env).replay.file).toBe(
      '/tmp/leads.csv',
    );
  });

  it('reads credentials from the environment', () => {
    const { replay } = replayOf(['f'], {
      MQL_WRITE_KEY: 'env-key',
      MQL_ADMIN_TOKEN: 'env-token',
    });

    expect(replay.writeKey).toBe('env-key');
    expect(replay.adminToken).toBe('env-token');
  });

  it('rejects a write key with a colon', () => {
    const parse = () =>
      parseCliArguments(['f', '--write-key', 'k3y:with:colons'], {}, NOW);

    expect(parse).toThrow(UsageError);
    expect(parse).toThrow('Invalid --write-key: must not contain ":"');
  });

  it('names MQL_WRITE_KEY when its key is invalid', () => {
    const parse = () => parseCliArguments(['f'], { MQL_WRITE_KEY: 'a:b' }, NOW);

    expect(parse).toThrow(UsageError);
    expect(parse).toThrow('Invalid MQL_WRITE_KEY: must not contain ":"');
  });

  it('names MQL_ADMIN_TOKEN when it is empty', () => {
    const parse = () => parseCliArguments(['f'], { MQL_ADMIN_TOKEN: ' ' }, NOW);

    expect(parse).toThrow(UsageError);
    expect(parse).toThrow('MQL_ADMIN_TOKEN must not be empty.');
  });

  it.each([
    ['--admin-token', ['f', '--admin-token', 'tökén'], {}],
    ['MQL_ADMIN_TOKEN', ['f'], { MQL_ADMIN_TOKEN: ' env-token' }],
  ])('names %s when its token is not visible ASCII', (source, args, env) => {
    const parse = () => parseCliArguments(args, env, NOW);

    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(
      `Invalid ${source}: must contain only visible ASCII characters`,
    );
  });

  it('prefers options over the environment', () => {
    const { replay } = replayOf(
      ['f', '--write-key', 'flag-key', '--admin-token', 'flag-token'],
      { MQL_WRITE_KEY: 'env-key', MQL_ADMIN_TOKEN: 'env-token' },
    );

    expect(replay.writeKey).toBe('flag-key');
    expect(replay.adminToken).toBe('flag-token');
  });

  it('parses every option', () => {
    const request = replayOf([
      'f',
      '--url',
      'http://127.0.0.1:3300',
      '--batch-size',
      '20',
      '--concurrency',
      '8',
      '--reference-time',
      '2026-01-31T12:00:00Z',
      '--max-visits',
      '10',
      '--json',
      '--quiet',
    ]);

    expect(request.json).toBe(true);
    expect(request.quiet).toBe(true);
    expect(request.replay).toMatchObject({
      url: 'http://127.0.0.1:3300/',
      batchSize: 20,
      concurrency: 8,
      referenceTime: Date.parse('2026-01-31T12:00:00Z'),
      maxVisits: 10,
    });
  });

  it('reads maven-crm DIR against INIT_CWD', () => {
    const env = { INIT_CWD: '/home/user/data' };

    expect(parseCliArguments(['maven-crm', 'sample'], env, NOW)).toEqual({
      help: false,
      command: 'maven-crm',
      directory: '/home/user/data/sample',
    });
  });

  it('returns help without a file', () => {
    expect(parseCliArguments(['--help'], {}, NOW)).toEqual({ help: true });
  });

  it.each([
    [[], /Missing the input FILE/],
    [
      ['a', 'b'],
      'Unexpected argument "b": replay takes one input FILE, or maven-crm DIR.',
    ],
    [['a', 'b', 'c'], 'Unexpected arguments "b", "c": replay takes one'],
    [['maven-crm'], 'maven-crm needs the directory of the CSV files.'],
    [['maven-crm', 'd', 'e'], 'Unexpected argument "e": maven-crm takes one'],
    [['--quiet', 'maven-crm', 'd'], 'maven-crm does not take --quiet.'],
    [
      ['maven-crm', 'd', '--url', 'http://127.0.0.1:1'],
      'maven-crm does not take --url.',
    ],
    [
      ['f', '--batch-size', '0'],
      /--batch-size must be an integer of at least 1, got "0"\.$/,
    ],
    [
      ['f', '--batch-size', '9007199254740993'],
      /--batch-size is too large, got "9007199254740993"/,
    ],
    [
      ['f', '--batch-size', ''],
      /--batch-size must be an integer of at least 1,/,
    ],
    [
      ['f', '--batch-size', '0x10'],
      /--batch-size must be an integer of at least 1,/,
    ],
    [
      ['f', '--concurrency', '1e1'],
      /--concurrency must be an integer of at least 1,/,
    ],
    [
      ['f', '--max-visits', ''],
      /--max-visits must be an integer of at least 0,/,
    ],
    [
      ['f', '--max-visits', ' 5'],
      /--max-visits must be an integer of at least 0,/,
    ],
    [['f', '--concurrency', '2.5'], /--concurrency must be an integer/],
    [['f', '--url', 'ftp://host'], /--url must be an http or https URL/],
    [['f', '--reference-time', 'yesterday'], /--reference-time must be/],
    [['f', '--reference-time', '12/25/2026'], /--reference-time must be/],
    [
      ['f', '--reference-time', '2016-12-31T23:59:60Z'],
      '--reference-time "2016-12-31T23:59:60Z" has a leap second (:60), which JavaScript dates cannot represent; seconds must be 00 to 59, so send :59 instead.',
    ],
    [
      ['f', '--reference-time', '2026-12-31T25:00Z'],
      '--reference-time "2026-12-31T25:00Z" has hours 25; hours must be 00 to 23, or 24:00:00 for the end of the day.',
    ],
    [['f', '--write-key', ''], /--write-key must not be empty/],
    [[''], 'Invalid input FILE: the path is empty. Give the path of '],
    [[' '], 'Invalid input FILE: the path is empty. Give the path of '],
    [['maven-crm', ''], 'Invalid maven-crm DIR: the path is empty.'],
    [['f', '--unknown'], /--unknown/],
  ])('rejects %j', (args, message) => {
    expect(() => parseCliArguments(args, {}, NOW)).toThrow(UsageError);
    expect(() => parseCliArguments(args, {}, NOW)).toThrow(message);
  });

  it.each([
    'http://user:secret@127.0.0.1:3000',
    'http://:secret@127.0.0.1:3000',
    'ftp://user:secret@127.0.0.1',
  ])('rejects credentials in --url %s unechoed', (url) => {
    let error: unknown;
    try {
      parseCliArguments(['f', '--url', url], {}, NOW);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain('--url');
    expect((error as Error).message).not.toContain('secret');
  });

  it('rejects a user name in --url', () => {
    expect(() =>
      parseCliArguments(['f', '--url', 'http://user:pw@127.0.0.1'], {}, NOW),
    ).toThrow(
      '--url must not contain a user name or password, because the replay sends the write key as the HTTP Basic user name. Remove them, as in http://127.0.0.1/.',
    );
  });
});
