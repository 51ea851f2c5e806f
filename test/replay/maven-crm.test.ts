import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  mavenMessages,
  parseAccounts,
  parseOpportunities,
} from '../../scripts/replay/maven-crm.js';
import {
  formatResults,
  replayMavenCrm,
} from '../../scripts/replay/maven-crm-run.js';
import {
  unprivilegedSpawnOptions,
  writeUnreadableFile,
} from '../support/unreadable-file.js';

const ACCOUNTS = `account,sector,year_established,revenue,employees,office_location,subsidiary_of
Acme Corporation,technolgy,1996,1100.04,2822,United States,
Betatech,medical,1986,647.18,1185,Kenya,
`;

const PIPELINE = `opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value
OPP1,Moses Frase,GTX Basic,Acme Corporation,Won,2016-10-20,2017-03-01,1054
OPP2,Moses Frase,GTXPro,Betatech,Prospecting,,,
OPP3,Anna Snelling,MG Special,,Engaging,2017-01-05,,
`;

describe('mavenMessages', () => {
  const asOf = Date.parse('2026-06-01T00:00:00Z');
  const result = mavenMessages(
    parseAccounts(ACCOUNTS),
    parseOpportunities(PIPELINE),
    asOf,
  );

  it('turns each opportunity with an account into a group call', () => {
    const groups = result.messages.filter((m) => m.type === 'group');
    expect(groups.map((m) => m.groupId)).toEqual([
      'Acme Corporation',
      'Betatech',
    ]);
    expect(groups[0]?.traits).toMatchObject({
      industry: 'technolgy',
      employee_count: 2822,
      annual_revenue: 1_100_040_000,
      country: 'United States',
    });
  });

  it('shifts engage dates so the latest one is now', () => {
    const meetings = result.messages.filter((m) => m.type === 'track');
    expect(meetings).toHaveLength(1);
    expect(meetings[0]).toMatchObject({
      userId: 'maven-opportunity-OPP1',
      event: 'Meeting Booked',
      timestamp: new Date(
        asOf - (Date.parse('2017-01-05') - Date.parse('2016-10-20')),
      ).toISOString(),
    });
  });

  it('skips opportunities without an account', () => {
    expect(result.opportunities).toBe(3);
    expect(result.withoutAccount).toBe(1);
  });
});

describe('replayMavenCrm', () => {
  it('skips cleanly when the directory has no data', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'maven-'));
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));

    await replayMavenCrm(directory, out, new PassThrough());

    expect(chunks.join('')).toContain('skipped');
  });
});

/** Runs `npm run replay -- ARGS` without npm, with extra environment. */
function runReplayCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  ids: { uid?: number; gid?: number } = {},
) {
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/replay.ts', ...args],
    {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ...env },
      ...ids,
    },
  );
}

describe('npm run replay -- maven-crm', () => {
  it('rejects a directory that does not exist', async () => {
    const missing = join(await mkdtemp(join(tmpdir(), 'maven-')), 'missing');

    const run = runReplayCli(['maven-crm', missing]);

    expect(run.status).toBe(2);
    expect(run.stdout).not.toContain('skipped');
    expect(run.stderr).toContain(
      `replay: The directory ${missing} was not found. Give the directory that contains accounts.csv and sales_pipeline.csv.`,
    );
  });

  it('rejects a file in place of the directory', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'maven-')), 'accounts.csv');
    await writeFile(file, ACCOUNTS);

    const run = runReplayCli(['maven-crm', file]);

    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`replay: ${file} is not a directory.`);
  });

  it('names a CSV file that is a directory', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'maven-'));
    await mkdir(join(directory, 'accounts.csv'));
    await writeFile(join(directory, 'sales_pipeline.csv'), PIPELINE);

    const run = runReplayCli(['maven-crm', directory]);

    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      `replay: The file ${join(directory, 'accounts.csv')} is a directory.`,
    );
    expect(run.stderr).not.toContain('EISDIR');
  });

  it('explains a CSV file without read permission', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'maven-'));
    await chmod(directory, 0o755);
    await writeUnreadableFile(join(directory, 'accounts.csv'), ACCOUNTS);
    await writeFile(join(directory, 'sales_pipeline.csv'), PIPELINE);

    const run = runReplayCli(
      ['maven-crm', directory],
      {},
      unprivilegedSpawnOptions(),
    );

    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      `replay: The file ${join(directory, 'accounts.csv')} cannot be read: permission denied.`,
    );
    expect(run.stderr).not.toContain('EACCES');
  });

  it('rejects a directory it cannot search', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'maven-'));
    await writeFile(join(directory, 'accounts.csv'), ACCOUNTS);
    await writeFile(join(directory, 'sales_pipeline.csv'), PIPELINE);
    await chmod(directory, 0o000);

    const run = runReplayCli(
      ['maven-crm', directory],
      {},
      unprivilegedSpawnOptions(),
    );

    expect(run.status).toBe(2);
    expect(run.stdout).not.toContain('skipped');
    expect(run.stderr).toContain(
      `replay: The file ${join(directory, 'accounts.csv')} cannot be read: permission denied.`,
    );
  });

  it('names the missing CSV file', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'maven-'));
    await writeFile(join(directory, 'accounts.csv'), ACCOUNTS);

    const run = runReplayCli(['maven-crm', directory]);

    expect(run.status).toBe(2);
    expect(run.stdout).not.toContain('skipped');
    expect(run.stderr).toContain(
      `replay: The file ${join(directory, 'sales_pipeline.csv')} was not found.`,
    );
  });

  it('names the columns a CSV file lacks', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'maven-'));
    await writeFile(join(directory, 'accounts.csv'), 'name,sector\nAcme,x\n');
    await writeFile(join(directory, 'sales_pipeline.csv'), PIPELINE);

    const run = runReplayCli(['maven-crm', directory]);

    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      `replay: The file ${join(directory, 'accounts.csv')} lacks the columns account, employees, revenue, office_location.`,
    );
    expect(run.stderr).not.toContain('    at ');
  });

  it('names one missing column', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'maven-'));
    await writeFile(join(directory, 'accounts.csv'), ACCOUNTS);
    await writeFile(
      join(directory, 'sales_pipeline.csv'),
      'opportunity_id,account,deal_stage\n',
    );

    const run = runReplayCli(['maven-crm', directory]);

    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      'sales_pipeline.csv lacks the column engage_date.',
    );
  });

  it('resolves DIR against INIT_CWD', async () => {
    const base = await mkdtemp(join(tmpdir(), 'maven-'));
    await mkdir(join(base, 'sample'));

    const found = runReplayCli(['maven-crm', 'sample'], { INIT_CWD: base });
    const missing = runReplayCli(['maven-crm', 'other'], { INIT_CWD: base });

    expect(found.status).toBe(0);
    expect(found.stdout).toContain(
      `maven-crm: skipped, ${join(base, 'sample')} has no accounts.csv`,
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(
      `The directory ${join(base, 'other')} was not found.`,
    );
  });
});

describe('npm run replay -- maven-crm arguments', () => {
  it.each([
    [['extra'], 'Unexpected argument "extra": maven-crm takes one DIR.'],
    [['a', 'b'], 'Unexpected arguments "a", "b": maven-crm takes one DIR.'],
    [
      ['--json'],
      'maven-crm does not take --json. Only a FILE replay takes options.',
    ],
  ])('rejects DIR followed by %j', async (extra, message) => {
    const directory = await mkdtemp(join(tmpdir(), 'maven-'));

    const run = runReplayCli(['maven-crm', directory, ...extra]);

    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`replay: ${message}`);
    expect(run.stderr).toContain('Run "npm run replay -- --help" for usage.');
    expect(run.stderr).not.toContain('Usage:');
  });

  it('prints usage for maven-crm --help', () => {
    const run = runReplayCli(['maven-crm', '--help']);

    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Usage: npm run replay');
  });
});

describe('formatResults', () => {
  it('widens the account column to the longest name', () => {
    const account = (name: string) => ({
      accountId: `group:${name}`,
      status: 'engaged',
      score: 300.5,
      fit: 30,
      engagement: 270.5,
      leadCount: 90,
      engagedLeadCount: 50,
      coverage: { covered: [], missingRequired: [] },
    });
    const totals = {
      accounts: 2,
      opportunities: 2,
      withoutAccount: 0,
      messages: 4,
      seconds: 1,
    };

    const text = formatResults(
      [account('Cheers'), account('Genco Pura Olive Oil Company')],
      totals,
    );

    const rows = text.split('\n').filter((line) => / score |300\.5/.test(line));
    const scoreColumns = rows.map((line) => line.indexOf('score') + 5);
    const valueColumns = rows.slice(1).map((line) => line.indexOf('300.5') + 5);
    expect(rows).toHaveLength(3);
    expect(valueColumns).toEqual([scoreColumns[0], scoreColumns[0]]);
  });

  it('lists every account with leads', () => {
    const results = Array.from({ length: 25 }, (_, index) => ({
      accountId: `group:Account ${index}`,
      status: 'engaged',
      score: 100 - index,
      fit: 30,
      engagement: 70 - index,
      leadCount: 2,
      engagedLeadCount: 1,
      coverage: { covered: [], missingRequired: [] },
    }));
    const totals = {
      accounts: 30,
      opportunities: 50,
      withoutAccount: 0,
      messages: 100,
      seconds: 1,
    };

    const text = formatResults(results, totals);

    expect(text).toContain('All 25 accounts with leads, by score:');
    expect(text).toMatch(/^Account 0 .* 100\.0 /m);
    expect(text).toMatch(/^Account 24 .* 76\.0 /m);
    expect(text).not.toContain('Top ');
  });
});
