import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Runs `npm run SCRIPT -- ...args` without npm. */
function runScript(script: string, args: string[]) {
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', `scripts/${script}.ts`, ...args],
    { encoding: 'utf8', timeout: 60_000 },
  );
}

describe.each([
  { script: 'schemas', output: 'schemas/lead-qualified.json' },
  { script: 'reliability', output: 'RELIABILITY.md' },
])('npm run $script', ({ script, output }) => {
  it('prints usage for --help', () => {
    const before = statSync(output).mtimeMs;

    const run = runScript(script, ['--help']);

    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Usage: npm run ${script}`);
    expect(statSync(output).mtimeMs).toBe(before);
  });

  it('rejects an argument with a --help hint', () => {
    const before = statSync(output).mtimeMs;

    const run = runScript(script, ['prod']);

    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      `${script}: Unexpected argument "prod": the command takes options only.`,
    );
    expect(run.stderr).toContain(
      `Run "npm run ${script} -- --help" for usage.`,
    );
    expect(run.stderr).not.toContain('Usage:');
    expect(statSync(output).mtimeMs).toBe(before);
  });
});

describe.each([
  {
    script: 'model',
    message:
      'Missing the command. Use check FILE, backtest FILE or rescore FILE.',
  },
  {
    script: 'outbox',
    message: 'Missing the command. Use list, show or retry.',
  },
  { script: 'replay', message: 'Missing the input FILE' },
  { script: 'report', message: 'Missing the report name' },
])('npm run $script', ({ script, message }) => {
  it('rejects a missing command with a --help hint', () => {
    const run = runScript(script, []);

    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${script}: ${message}`);
    expect(run.stderr).toContain(
      `Run "npm run ${script} -- --help" for usage.`,
    );
    expect(run.stderr).not.toContain('Usage:');
  });

  it('prints usage on stdout for --help', () => {
    const run = runScript(script, ['--help']);

    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`Usage: npm run ${script}`);
  });

  it('prints the same usage for -h', () => {
    const long = runScript(script, ['--help']);
    const short = runScript(script, ['-h']);

    expect(short.status).toBe(0);
    expect(short.stderr).toBe('');
    expect(short.stdout).toBe(long.stdout);
    expect(short.stdout).toContain('-h, --help');
  });
});

// A command that ignored the last argument would run and exit with 0 or
// 1, so exit code 2 shows that it rejected the argument.
describe.each([
  {
    script: 'replay',
    args: ['maven-crm', 'test', 'extra'],
    message: 'Unexpected argument "extra": maven-crm takes one DIR.',
  },
  {
    script: 'replay',
    args: ['events.ndjson', 'extra'],
    message:
      'Unexpected argument "extra": replay takes one input FILE, or maven-crm DIR.',
  },
  {
    script: 'model',
    args: ['check', 'models/procurement-software.json', 'extra'],
    message: 'Unexpected argument "extra": check takes one model FILE.',
  },
  {
    script: 'model',
    args: ['check', 'models/procurement-software.json', '--json'],
    message:
      'check does not take --json. Only backtest and rescore take options.',
  },
  {
    script: 'report',
    args: ['conversion', 'extra'],
    message: 'Unexpected argument "extra": conversion takes options only.',
  },
  {
    script: 'outbox',
    args: ['list', 'extra'],
    message: 'Unexpected argument "extra": list takes options only.',
  },
  {
    script: 'schemas',
    args: ['extra'],
    message: 'Unexpected argument "extra": the command takes options only.',
  },
  {
    script: 'reliability',
    args: ['extra'],
    message: 'Unexpected argument "extra": the command takes options only.',
  },
])('npm run $script $args', ({ script, args, message }) => {
  it('rejects the extra argument with a --help hint', () => {
    const run = runScript(script, args);

    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${script}: ${message}`);
    expect(run.stderr).toContain(
      `Run "npm run ${script} -- --help" for usage.`,
    );
    expect(run.stderr).not.toContain('Usage:');
  });
});

// Each command line ends in --help, so a command that took the repeat
// would print its usage and exit with 0 instead of running.
describe.each([
  {
    script: 'model',
    args: ['backtest', 'm.json', '--table', 'a', '--table', 'b', '--help'],
    option: '--table',
  },
  {
    script: 'outbox',
    args: ['list', '--limit', '5', '--limit', '10', '--help'],
    option: '--limit',
  },
  {
    script: 'replay',
    args: ['events.ndjson', '--quiet', '--json', '--quiet', '--help'],
    option: '--quiet',
  },
  {
    script: 'report',
    args: ['conversion', '--months', '1', '--months', '2', '--help'],
    option: '--months',
  },
  { script: 'schemas', args: ['-h', '--help'], option: '--help' },
  { script: 'reliability', args: ['--help', '--help'], option: '--help' },
])('npm run $script', ({ script, args, option }) => {
  it('rejects a repeated option with a --help hint', () => {
    const run = runScript(script, args);

    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      `${script}: ${option} is given more than once. Give it once.`,
    );
    expect(run.stderr).toContain(
      `Run "npm run ${script} -- --help" for usage.`,
    );
    expect(run.stderr).not.toContain('Usage:');
  });
});

describe('npm run reliability with MQL_RELIABILITY_MQLS', () => {
  function runReliability(mqls: string) {
    return spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/reliability.ts'],
      {
        encoding: 'utf8',
        timeout: 110_000,
        env: { ...process.env, MQL_RELIABILITY_MQLS: mqls },
      },
    );
  }

  it('rejects a value that is not a number', () => {
    const before = statSync('RELIABILITY.md').mtimeMs;

    const run = runReliability('abc');

    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      'reliability: MQL_RELIABILITY_MQLS must be an integer of at least 1, got "abc".',
    );
    expect(run.stderr).not.toContain('UsageError');
    expect(run.stderr).not.toContain(String(Number.MAX_SAFE_INTEGER));
    expect(run.stderr).toContain(
      'Run "npm run reliability -- --help" for usage.',
    );
    expect(run.stderr).not.toContain('Usage:');
    expect(statSync('RELIABILITY.md').mtimeMs).toBe(before);
  });

  it('leaves RELIABILITY.md alone for another size', () => {
    const before = statSync('RELIABILITY.md').mtimeMs;

    const run = runReliability('2');

    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ mqls: 2, delivered: 2 });
    expect(run.stderr).toContain(
      'RELIABILITY.md was left as it was, because it records runs of 100 MQLs and this run had 2.',
    );
    expect(statSync('RELIABILITY.md').mtimeMs).toBe(before);
  }, 120_000);
});

describe('npm run bench', () => {
  it('names itself in a usage error', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--frob'],
      { encoding: 'utf8', timeout: 60_000 },
    );

    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^bench: .*--frob/);
    expect(run.stderr).toContain('Run "npm run bench -- --help" for usage.');
  });
});
