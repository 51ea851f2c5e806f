import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MODEL_FILE,
  DEFAULT_TABLE,
  parseModelArguments,
} from '../../scripts/model/options.js';
import { UsageError } from '../../scripts/replay/errors.js';
import { PACKAGE_ROOT } from '../../scripts/user-path.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');

function backtestOf(args: string[], env: Record<string, string> = {}) {
  const parsed = parseModelArguments(args, env, NOW);
  if (parsed.command !== 'backtest') throw new Error('expected a backtest');
  return parsed;
}

describe('parseModelArguments', () => {
  it('parses check with its file', () => {
    expect(parseModelArguments(['check', 'm.json'], {}, NOW)).toEqual({
      command: 'check',
      file: resolve('m.json'),
    });
  });

  it('applies the backtest defaults', () => {
    const { json, options } = backtestOf(['backtest', 'candidate.json']);

    expect(json).toBe(false);
    expect(options).toEqual({
      candidateFile: resolve('candidate.json'),
      liveFile: join(PACKAGE_ROOT, DEFAULT_MODEL_FILE),
      tableName: DEFAULT_TABLE,
      asOf: NOW,
      referenceTime: NOW,
      maxVisits: 50,
    });
  });

  it('reads the live model and endpoint from the environment', () => {
    const { options } = backtestOf(['backtest', 'c.json'], {
      MQL_MODEL_FILE: 'live.json',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
    });

    expect(options.liveFile).toBe(resolve('live.json'));
    expect(options.endpoint).toBe('http://127.0.0.1:8000');
    expect(options.endpointSource).toBe('AWS_ENDPOINT_URL_DYNAMODB');
  });

  it('reads the table from TABLE_NAME', () => {
    const { options } = backtestOf(['backtest', 'c.json'], {
      TABLE_NAME: 'mql-engine-dev',
    });

    expect(options.tableName).toBe('mql-engine-dev');
    expect(options.tableSource).toBe('TABLE_NAME');
  });

  it('prefers --table to TABLE_NAME', () => {
    const { options } = backtestOf(
      ['backtest', 'c.json', '--table', 'mql-engine-prod'],
      { TABLE_NAME: 'mql-engine-dev' },
    );

    expect(options.tableName).toBe('mql-engine-prod');
    expect(options.tableSource).toBe('--table');
  });

  it('treats an empty TABLE_NAME as unset', () => {
    const { options } = backtestOf(['backtest', 'c.json'], { TABLE_NAME: '' });

    expect(options.tableName).toBe(DEFAULT_TABLE);
    expect(options.tableSource).toBeUndefined();
  });

  it('names AWS_ENDPOINT_URL_DYNAMODB when it is invalid', () => {
    expect(() =>
      backtestOf(['backtest', 'c.json'], {
        AWS_ENDPOINT_URL_DYNAMODB: 'not-a-url',
      }),
    ).toThrow('Invalid AWS_ENDPOINT_URL_DYNAMODB "not-a-url"');
  });

  it('takes the reference time from --as-of', () => {
    const { options } = backtestOf([
      'backtest',
      'c.json',
      '--as-of',
      '2026-01-01T00:00:00Z',
      '--events',
      'leads.csv',
    ]);

    expect(options.referenceTime).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(options.eventsFile).toBe(resolve('leads.csv'));
  });

  it('resolves every file against INIT_CWD', () => {
    const env = { INIT_CWD: '/home/user/models', MQL_MODEL_FILE: 'live.json' };
    const args = ['backtest', 'c.json', '--events', 'e.ndjson'];

    const check = parseModelArguments(['check', 'x.json'], env, NOW);
    const { options } = backtestOf([...args, '--outcomes', 'o.csv'], env);
    const live = backtestOf([...args, '--live', '../l.json'], env).options;

    expect(check).toEqual({
      command: 'check',
      file: '/home/user/models/x.json',
    });
    expect(options.candidateFile).toBe('/home/user/models/c.json');
    expect(options.liveFile).toBe('/home/user/models/live.json');
    expect(options.eventsFile).toBe('/home/user/models/e.ndjson');
    expect(options.outcomesFile).toBe('/home/user/models/o.csv');
    expect(live.liveFile).toBe('/home/user/l.json');
  });

  it('reads the bundled model from the package root', () => {
    const env = { INIT_CWD: '/home/user/models' };

    const { options } = backtestOf(['backtest', '/tmp/c.json'], env);

    expect(options.candidateFile).toBe('/tmp/c.json');
    expect(options.liveFile).toBe(join(PACKAGE_ROOT, DEFAULT_MODEL_FILE));
  });

  it.each(['', '  '])('treats MQL_MODEL_FILE=%j as unset', (value) => {
    const { options } = backtestOf(['backtest', 'c.json'], {
      MQL_MODEL_FILE: value,
    });

    expect(options.liveFile).toBe(join(PACKAGE_ROOT, DEFAULT_MODEL_FILE));
  });

  it('parses rescore with its table and endpoint', () => {
    const parsed = parseModelArguments(
      ['rescore', 'm.json', '--table', 'leads'],
      { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' },
      NOW,
    );

    expect(parsed).toEqual({
      command: 'rescore',
      options: {
        modelFile: resolve('m.json'),
        tableName: 'leads',
        tableSource: '--table',
        endpoint: 'http://127.0.0.1:8000',
        endpointSource: 'AWS_ENDPOINT_URL_DYNAMODB',
      },
    });
  });

  it('prints help for --help', () => {
    expect(parseModelArguments(['--help'], {}, NOW)).toEqual({
      command: 'help',
    });
  });

  it.each([
    {
      args: [],
      message:
        /Missing the command. Use check FILE, backtest FILE or rescore FILE/,
    },
    { args: ['validate', 'm.json'], message: /Unknown command "validate"/ },
    { args: ['check'], message: 'Missing the model FILE: check takes one.' },
    {
      args: ['check', 'a.json', 'b.json'],
      message: 'Unexpected argument "b.json": check takes one model FILE.',
    },
    {
      args: ['backtest', 'a.json', 'b.json', 'c.json'],
      message:
        'Unexpected arguments "b.json", "c.json": backtest takes one model FILE.',
    },
    {
      args: ['check', 'a.json', '--table', 't'],
      message:
        'check does not take --table. Only backtest and rescore take options.',
    },
    {
      args: ['check', 'a.json', '--json'],
      message: 'check does not take --json.',
    },
    {
      args: ['rescore', 'a.json', '--as-of', '2026-01-01'],
      message:
        'rescore does not take --as-of. It takes --table and --endpoint.',
    },
    {
      args: ['rescore'],
      message: 'Missing the model FILE: rescore takes one.',
    },
    { args: ['backtest', 'c.json', '--as-of', 'soon'], message: /--as-of/ },
    { args: ['backtest', 'c.json', '--as-of', '5'], message: /--as-of/ },
    {
      args: ['backtest', 'c.json', '--as-of', '2016-12-31T23:59:60Z'],
      message:
        '--as-of "2016-12-31T23:59:60Z" has a leap second (:60), which JavaScript dates cannot represent; seconds must be 00 to 59, so send :59 instead.',
    },
    {
      args: ['backtest', 'c.json', '--reference-time', '2016-12-31T23:59:60Z'],
      message:
        '--reference-time "2016-12-31T23:59:60Z" has a leap second (:60), which JavaScript dates cannot represent; seconds must be 00 to 59, so send :59 instead.',
    },
    {
      args: ['backtest', 'c.json', '--as-of', '2026-12-31T23:60:00Z'],
      message:
        '--as-of "2026-12-31T23:60:00Z" has minutes 60; minutes must be 00 to 59.',
    },
    {
      args: ['backtest', 'c.json', '--as-of', '2026-12-01T00:00:00+25:00'],
      message:
        '--as-of "2026-12-01T00:00:00+25:00" has an invalid UTC offset "+25:00"',
    },
    {
      args: ['backtest', 'c.json', '--as-of', 'soon'],
      message:
        '--as-of must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z, got "soon".',
    },
    {
      args: ['backtest', 'c.json', '--endpoint', 'ftp://x'],
      message: /--endpoint/,
    },
    {
      args: ['backtest', 'c.json', '--max-visits', '-1'],
      message: /--max-visits/,
    },
    { args: ['backtest', 'c.json', '--colour'], message: /colour/ },
    {
      args: ['backtest', 'c.json', '--table', ''],
      message: 'Invalid --table "": name the lead table',
    },
    {
      args: ['backtest', 'c.json', '--events', 'e.ndjson', '--table', 't'],
      message:
        '--events and --table conflict: backtest replays the events file or the events stored in the table, not both. Leave out --table to replay the file, or --events to replay the table.',
    },
    {
      args: [
        'backtest',
        'c.json',
        '--endpoint',
        'http://127.0.0.1:8000',
        '--events',
        'e.ndjson',
      ],
      message: '--events and --endpoint conflict',
    },
    ...[
      { args: ['check', ''], name: 'model FILE' },
      { args: ['backtest', ' '], name: 'model FILE' },
      { args: ['rescore', ''], name: 'model FILE' },
      { args: ['backtest', 'c.json', '--live', ''], name: '--live' },
      { args: ['backtest', 'c.json', '--events', ''], name: '--events' },
      { args: ['backtest', 'c.json', '--outcomes', ''], name: '--outcomes' },
    ].map(({ args, name }) => ({
      args,
      message: `Invalid ${name}: the path is empty. Give the path of `,
    })),
    ...['', '0x10', '1e1', ' 5', '5.0', '+5'].map((value) => ({
      args: ['backtest', 'c.json', '--max-visits', value],
      message: `--max-visits must be an integer of at least 0, got "${value}".`,
    })),
  ])('rejects $args', ({ args, message }) => {
    expect(() => parseModelArguments(args, {}, NOW)).toThrow(UsageError);
    expect(() => parseModelArguments(args, {}, NOW)).toThrow(message);
  });
});
