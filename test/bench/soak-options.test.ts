import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSoakArguments } from '../../bench/soak-options.js';
import { UsageError } from '../../scripts/replay/errors.js';

const DEFAULT_DATA = '/data/online_shoppers_intention.csv';

function parse(args: string[], env: Record<string, string> = {}) {
  return parseSoakArguments(args, env, DEFAULT_DATA);
}

describe('parseSoakArguments', () => {
  it('takes the defaults without arguments', () => {
    expect(parse([])).toEqual({
      help: false,
      options: {
        minutes: 3,
        data: DEFAULT_DATA,
        fuzzCases: 10_000,
        concurrency: 4,
        write: true,
      },
    });
  });

  it('reads every option', () => {
    const args = [
      '--minutes',
      '0',
      '--data',
      'sessions.csv',
      '--fuzz-cases',
      '25',
      '--concurrency',
      '1',
      '--no-write',
    ];

    expect(parse(args)).toEqual({
      help: false,
      options: {
        minutes: 0,
        data: resolve('sessions.csv'),
        fuzzCases: 25,
        concurrency: 1,
        write: false,
      },
    });
  });

  it('reads --data from MQL_SOAK_DATA', () => {
    const command = parse([], { MQL_SOAK_DATA: '/data/env.csv' });

    expect(command.help ? undefined : command.options.data).toBe(
      '/data/env.csv',
    );
  });

  it('resolves --data against INIT_CWD', () => {
    const env = { INIT_CWD: '/home/user/data' };

    const relative = parse(['--data', 'sessions.csv'], env);
    const absolute = parse(['--data', '/tmp/sessions.csv'], env);

    expect(relative.help ? undefined : relative.options.data).toBe(
      '/home/user/data/sessions.csv',
    );
    expect(absolute.help ? undefined : absolute.options.data).toBe(
      '/tmp/sessions.csv',
    );
  });

  it('resolves MQL_SOAK_DATA against INIT_CWD', () => {
    const env = { INIT_CWD: '/home/user', MQL_SOAK_DATA: 'data/env.csv' };

    const command = parse([], env);

    expect(command.help ? undefined : command.options.data).toBe(
      '/home/user/data/env.csv',
    );
  });

  it.each(['', '  '])('treats MQL_SOAK_DATA=%j as unset', (value) => {
    const command = parse([], { MQL_SOAK_DATA: value });

    expect(command.help ? undefined : command.options.data).toBe(DEFAULT_DATA);
  });

  it('rejects an empty --data', () => {
    const run = () => parse(['--data', '']);

    expect(run).toThrow(UsageError);
    expect(run).toThrow(
      '--data must not be empty. Give the path of the CSV file.',
    );
  });

  it('returns help for --help', () => {
    expect(parse(['--help'])).toEqual({ help: true });
  });

  it.each([
    ['--minutes', '1.5', 0],
    ['--minutes', '1e1', 0],
    ['--minutes', '0x10', 0],
    ['--minutes', ' 5', 0],
    ['--minutes', '', 0],
    ['--minutes', 'Infinity', 0],
    ['--minutes', '-1', 0],
    ['--fuzz-cases', '2.5', 0],
    ['--concurrency', '0', 1],
    ['--concurrency', '1.9', 1],
  ])('rejects %s %j', (option, value, min) => {
    const run = () => parse([`${option}=${value}`]);

    expect(run).toThrow(UsageError);
    expect(run).toThrow(
      `${option} must be an integer of at least ${min}, got "${value}".`,
    );
  });

  it('rejects a positional argument', () => {
    const run = () => parse(['--minutes', '0', 'extra']);

    expect(run).toThrow(UsageError);
    expect(run).toThrow(
      'Unexpected argument "extra": the command takes options only.',
    );
  });

  it('rejects a repeated --minutes', () => {
    const run = () => parse(['--minutes', '1', '--minutes', '2']);

    expect(run).toThrow(UsageError);
    expect(run).toThrow('--minutes is given more than once. Give it once.');
  });
});

describe('npm run soak', () => {
  it('exits with 2 on fractional minutes', () => {
    // If 1.5 were accepted, the missing file, 0 fuzz cases and --no-write
    // would still keep the run from replaying, fuzzing or writing a file.
    const missing = join(mkdtempSync(join(tmpdir(), 'mql-soak-')), 'x.csv');
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/soak.ts',
        '--minutes',
        '1.5',
        '--data',
        missing,
        '--fuzz-cases',
        '0',
        '--no-write',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );

    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      `soak: --minutes must be an integer of at least 0, got "1.5".`,
    );
    expect(run.stderr).toContain('Run "npm run soak -- --help" for usage.');
    expect(run.stderr).not.toContain('Usage:');
  });
  it('exits with 1 on an unreadable --data', () => {
    const directory = mkdtempSync(join(tmpdir(), 'mql-soak-'));
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/soak.ts',
        '--minutes',
        '1',
        '--data',
        directory,
        '--fuzz-cases',
        '0',
        '--no-write',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );

    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `soak: The UCI online shoppers file ${directory} is a directory.`,
    );
    expect(run.stderr).not.toContain('    at ');
  });

  it('reads a relative --data from INIT_CWD', () => {
    // The file is missing, so the run skips the replay, runs no fuzz case
    // and writes nothing, but names the path that it looked for.
    const directory = mkdtempSync(join(tmpdir(), 'mql-soak-'));
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/soak.ts',
        '--minutes',
        '1',
        '--data',
        'sessions.csv',
        '--fuzz-cases',
        '0',
        '--no-write',
      ],
      {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, INIT_CWD: directory },
      },
    );

    expect(run.status).toBe(0);
    expect(run.stderr).toContain(
      `the UCI online shoppers file ${join(directory, 'sessions.csv')} is missing`,
    );
  });
});
