import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { outboxKey } from '../../functions/adapters/dynamodb/items.js';
import { DynamoLeadRepository } from '../../functions/adapters/dynamodb/lead-repository.js';
import { incarnationOf } from '../../functions/domain/lead.js';
import { transitionEventId } from '../../functions/domain/outgoing-events.js';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { runSweep } from '../../functions/use-cases/run-sweep.js';
import { LOCAL_AWS } from '../../local/services.js';
import {
  listOutbox,
  OutboxEntryNotFoundError,
  retryOutbox,
  retryReport,
  retrySummary,
  showOutboxEntry,
  summaryOf,
} from '../../scripts/outbox/commands.js';
import {
  parseOutboxArguments,
  REVIEW_SHARDS_NOTE,
} from '../../scripts/outbox/options.js';
import { UsageError } from '../../scripts/replay/errors.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { createTestRouting } from '../support/aws.js';
import {
  type EntryFault,
  FAULTS,
  faultyDependencies,
  outboxEntries,
} from '../support/fault-injection.js';

const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');

/**
 * Creates a table with a failed entry (`rejected`) and a pending one
 * (`slow`). Each lead of `laterRejected` gets a failed entry too, one
 * second after the one before.
 */
async function tableWithFailures(laterRejected: readonly string[] = []) {
  const fault = { current: (() => FAULTS.invalid) as EntryFault };
  const setup = await faultyDependencies(fault);
  const ingest = (leadId: string) =>
    ingestMessages(setup.deps, {
      sourceId: 'default',
      messages: qualifyingBatch(leadId),
      receivedAt: setup.clock.now,
    });
  await ingest('rejected');
  for (const leadId of laterRejected) {
    setup.clock.advance(1000);
    await ingest(leadId);
  }
  fault.current = () => FAULTS.throttled;
  await ingest('slow');
  fault.current = () => undefined;
  const cli = {
    repository: setup.repository,
    clock: setup.deps.clock,
    log: setup.log,
    publisher: undefined,
  };
  const rejected = await setup.repository.getLead('rejected');
  if (rejected === undefined) throw new Error('Lead rejected is not stored.');
  const rejectedId = transitionEventId(
    'rejected',
    1,
    'qualified',
    incarnationOf(rejected),
  );
  return { setup, cli, rejectedId, fault };
}

describe('outbox commands', () => {
  it('lists failed entries with their error', async () => {
    const { cli, rejectedId } = await tableWithFailures();

    const { entries: failed } = await listOutbox(cli, false, 10);
    const { entries: all } = await listOutbox(cli, true, 10);

    expect(failed.map(summaryOf)).toEqual([
      expect.objectContaining({
        status: 'failed',
        leadId: 'rejected',
        eventId: rejectedId,
        detailType: 'Lead Qualified',
        errorCode: 'InvalidArgument',
      }),
    ]);
    expect(all.map((entry) => entry.event.leadId).sort()).toEqual([
      'rejected',
      'slow',
    ]);
  });

  it('lists at most --limit entries', async () => {
    const { cli } = await tableWithFailures(['rejected-2', 'rejected-3']);

    const leadsOf = ({ entries }: Awaited<ReturnType<typeof listOutbox>>) =>
      entries.map((entry) => entry.event.leadId);

    expect(leadsOf(await listOutbox(cli, false, 2))).toEqual([
      'rejected',
      'rejected-2',
    ]);
    expect(leadsOf(await listOutbox(cli, false, 1))).toEqual(['rejected']);
    expect(leadsOf(await listOutbox(cli, false))).toHaveLength(3);
    expect(leadsOf(await listOutbox(cli, true, 3))).toEqual([
      'rejected',
      'rejected-2',
      'rejected-3',
    ]);
    expect(leadsOf(await listOutbox(cli, true, 4))).toEqual([
      'rejected',
      'rejected-2',
      'rejected-3',
      'slow',
    ]);
  });

  it('shows one entry with its detail', async () => {
    const { cli, rejectedId } = await tableWithFailures();

    const entry = await showOutboxEntry(cli, 'rejected', rejectedId);

    expect(entry.event.detail.eventId).toBe(rejectedId);
    expect(entry.failure?.errorMessage).toBe(FAULTS.invalid.ErrorMessage);
  });

  it('reports an unknown entry', async () => {
    const { cli } = await tableWithFailures();

    await expect(showOutboxEntry(cli, 'rejected', 'nope')).rejects.toThrow(
      OutboxEntryNotFoundError,
    );
  });

  it('requeues a failed entry once', async () => {
    const { cli, setup, rejectedId } = await tableWithFailures();
    const target = { leadId: 'rejected', eventId: rejectedId };

    const first = await retryOutbox(cli, target, 10);
    const second = await retryOutbox(cli, 'all', 10);
    const entry = await setup.repository.getOutboxEntry('rejected', rejectedId);

    expect(first.outcomes).toEqual([{ ...target, result: 'requeued' }]);
    expect(second.outcomes).toEqual([]);
    expect(entry?.status).toBe('pending');
    expect(entry?.dueAt).toBe(setup.clock.now);
  });

  it('requeues into a shard every sweep reads', async () => {
    const { cli, setup, rejectedId } = await tableWithFailures();
    const wideRepository = new DynamoLeadRepository(setup.client, {
      tableName: tableNameOf(setup),
      reviewShards: 64,
    });

    await retryOutbox({ ...cli, repository: wideRepository }, 'all');
    const sweep = await runSweep(setup.deps, {
      now: setup.clock.now,
      deadline: Number.POSITIVE_INFINITY,
    });

    expect(sweep.published).toBeGreaterThanOrEqual(1);
    expect(setup.delivered).toContain(rejectedId);
    const entry = await setup.repository.getOutboxEntry('rejected', rejectedId);
    expect(entry).toBeUndefined();
  });

  it('lists pending entries of every shard', async () => {
    const { cli, setup } = await tableWithFailures();
    const narrowRepository = new DynamoLeadRepository(setup.client, {
      tableName: tableNameOf(setup),
      reviewShards: 1,
    });
    const pending = await outboxEntries(setup.repository);
    const slowIds = pending
      .filter((entry) => entry.status === 'pending')
      .map((entry) => entry.event.eventId)
      .sort();

    const { entries } = await listOutbox(
      { ...cli, repository: narrowRepository },
      true,
    );

    const listedIds = entries
      .filter((entry) => entry.status === 'pending')
      .map((entry) => entry.event.eventId)
      .sort();
    expect(slowIds.length).toBeGreaterThan(0);
    expect(listedIds).toEqual(slowIds);
  });

  it('retries at most --limit entries', async () => {
    const { cli } = await tableWithFailures(['rejected-2', 'rejected-3']);

    const first = await retryOutbox(cli, 'all', 2);
    const last = await retryOutbox(cli, 'all', 1);

    expect(first.outcomes.map((outcome) => outcome.leadId)).toEqual([
      'rejected',
      'rejected-2',
    ]);
    expect(first.outcomes.map((outcome) => outcome.result)).toEqual([
      'requeued',
      'requeued',
    ]);
    expect(first.more).toBe(true);
    expect(last.outcomes.map((outcome) => outcome.leadId)).toEqual([
      'rejected-3',
    ]);
    expect(last.more).toBe(false);
  });

  it('publishes at once with a bus', async () => {
    const { cli, setup, rejectedId } = await tableWithFailures();

    const { outcomes } = await retryOutbox(
      { ...cli, publisher: setup.deps.publisher },
      'all',
      10,
    );

    expect(outcomes).toEqual([
      { leadId: 'rejected', eventId: rejectedId, result: 'published' },
    ]);
    expect(setup.delivered).toEqual([rejectedId]);
    const left = await outboxEntries(setup.repository);
    expect(left.map((entry) => entry.event.leadId)).toEqual(['slow']);
  });
});

describe('retrySummary', () => {
  it('counts an entry that failed again', async () => {
    const { cli, setup, fault } = await tableWithFailures();
    fault.current = () => FAULTS.invalid;

    const { outcomes } = await retryOutbox(
      { ...cli, publisher: setup.deps.publisher },
      'all',
      10,
    );

    expect(outcomes.map((outcome) => outcome.result)).toEqual(['failed']);
    const report = retryReport(outcomes);
    expect(report.lines).toEqual([
      '1 outbox entry retried: 0 published, 1 failed again',
      'outbox: 1 entry failed again; `npm run outbox -- list` shows the error of each.',
    ]);
    expect(report.exitCode).toBe(1);
  });

  it('exits with 0 when none failed again', () => {
    const report = retryReport([
      { leadId: 'lead', eventId: 'event', result: 'published' },
    ]);

    expect(report.lines).toEqual([
      '1 outbox entry retried: 1 published, 0 failed again',
    ]);
    expect(report.exitCode).toBe(0);
  });

  it.each([
    [[], '0 outbox entries retried: 0 published, 0 failed again'],
    [
      ['published', 'published', 'failed'],
      '3 outbox entries retried: 2 published, 1 failed again',
    ],
    [
      ['requeued', 'requeued', 'skipped'],
      '3 outbox entries retried: 0 published, 0 failed again, 2 pending for the next sweep, 1 skipped because it was no longer failed',
    ],
    [
      ['pending'],
      '1 outbox entry retried: 0 published, 0 failed again, 1 left pending after a retryable error',
    ],
    [
      ['skipped'],
      '1 outbox entry retried: 0 published, 0 failed again, 1 skipped because it was no longer failed',
    ],
    [
      ['pending', 'pending'],
      '2 outbox entries retried: 0 published, 0 failed again, 2 left pending after retryable errors',
    ],
  ] as const)('summarizes %j', (results, expected) => {
    const outcomes = results.map((result, index) => ({
      leadId: 'lead',
      eventId: `event-${index}`,
      result,
    }));

    expect(retrySummary(outcomes)).toBe(expected);
  });
});

describe('parseOutboxArguments', () => {
  it.each([
    [[], 'Missing the command. Use list, show or retry.'],
    [['--table', 'tbl'], 'Missing the command. Use list, show or retry.'],
    [['show'], 'Missing LEAD_ID and EVENT_ID: show takes LEAD_ID EVENT_ID'],
    [['show', 'lead'], 'Missing EVENT_ID: show takes LEAD_ID EVENT_ID'],
    [['retry', 'lead'], 'Missing EVENT_ID: retry takes LEAD_ID EVENT_ID'],
    [['show', '', ''], 'LEAD_ID of show is empty'],
    [['list', '--table', 'tbl', '--limit', ''], '--limit must be an integer'],
    [
      ['list', '--table', 'tbl', '--limit', '1e2'],
      '--limit must be an integer',
    ],
    [['retry', 'lead', ' '], 'EVENT_ID of retry is empty'],
    [['list', '--table', ''], 'Invalid --table ""'],
    [['list', '--table', 'tbl', '--limit', '0'], '--limit must be an integer'],
    [['purge', '--table', 'tbl'], 'Unknown command "purge"'],
    [['retry', '--table', 'tbl'], 'or --all for every failed entry'],
    [['show', '--table', 'tbl', 'lead'], 'show takes LEAD_ID EVENT_ID'],
    [['list', '--tabel', 't'], 'Unknown option --tabel. Did you mean --table?'],
    [['list', '--table', 'tbl', '--endpoint', 'x'], 'Invalid --endpoint "x"'],
    [['purge'], 'Unknown command "purge"'],
    [['list', '--all', '--table', 'tbl'], 'list does not take --all'],
    [['show', 'l', 'e', '--pending', '--table', 'tbl'], 'not take --pending'],
    [['list', '--bus', 'b', '--table', 'tbl'], 'list does not take --bus'],
    [
      ['list', 'extra'],
      'Unexpected argument "extra": list takes options only.',
    ],
    [
      ['show', 'l', 'e', 'x', 'y'],
      'Unexpected arguments "x", "y": show takes LEAD_ID EVENT_ID.',
    ],
    [
      ['retry', '--all', 'l', 'e'],
      'Unexpected arguments "l", "e": retry --all takes options only.',
    ],
    [['show', 'l', 'e', '--limit', '5'], 'show does not take --limit.'],
    [
      ['retry', 'l', 'e', '--limit', '5'],
      'retry LEAD_ID EVENT_ID does not take --limit',
    ],
    [
      ['retry', '--all', '--limit', '2.5'],
      '--limit must be an integer of at least 1, got "2.5".',
    ],
    [
      ['retry', '--all', '--limit=-1'],
      '--limit must be an integer of at least 1, got "-1".',
    ],
    [['list', '--region', ''], 'Invalid --region "": expected an AWS region'],
    [['list', '--region', 'us east 1'], 'Invalid --region "us east 1"'],
    [['list', '--region=-us-east-1'], 'Invalid --region "-us-east-1"'],
    [['retry', '--all', '--bus', ''], 'Invalid --bus "": name the event bus'],
    [['retry', '--all', '--bus', ' '], 'Invalid --bus " "'],
    [['list', '--table', 'a'], 'Invalid --table "a": a DynamoDB table name'],
    [['list', '--table', 'my table'], 'Invalid --table "my table"'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseOutboxArguments(argv, {})).toThrow(UsageError);
    expect(() => parseOutboxArguments(argv, {})).toThrow(message);
  });

  it('ignores --review-shards with a note', () => {
    const parsed = parseOutboxArguments(
      ['retry', '--all', '--review-shards', '64'],
      {},
    );

    expect(parsed).toMatchObject({
      command: 'retry',
      options: { notes: [REVIEW_SHARDS_NOTE] },
    });
  });

  it('rejects an invalid TABLE_NAME by name', () => {
    const parse = () => parseOutboxArguments(['list'], { TABLE_NAME: 'a/b' });

    expect(parse).toThrow(UsageError);
    expect(parse).toThrow('Invalid TABLE_NAME "a/b": a DynamoDB table name');
  });

  it('accepts a table ARN', () => {
    const arn = 'arn:aws:dynamodb:us-east-1:123456789012:table/mql-engine-dev';

    const parsed = parseOutboxArguments(['list', '--table', arn], {});

    expect(parsed).toMatchObject({ options: { tableName: arn } });
  });

  it('defaults the table to mql-engine-local', () => {
    const parsed = parseOutboxArguments(['list'], {});

    expect(parsed).toMatchObject({
      command: 'list',
      options: { tableName: 'mql-engine-local' },
    });
  });

  it('reads the endpoint from AWS_ENDPOINT_URL_DYNAMODB', () => {
    const parsed = parseOutboxArguments(['list'], {
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
    });

    expect(parsed).toMatchObject({
      options: {
        endpoint: 'http://127.0.0.1:8000',
        sources: { endpoint: 'AWS_ENDPOINT_URL_DYNAMODB' },
      },
    });
  });

  it('prefers --endpoint to AWS_ENDPOINT_URL_DYNAMODB', () => {
    const parsed = parseOutboxArguments(
      ['list', '--endpoint', 'http://127.0.0.1:9000'],
      { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' },
    );

    expect(parsed).toMatchObject({
      options: {
        endpoint: 'http://127.0.0.1:9000',
        sources: { endpoint: '--endpoint' },
      },
    });
  });

  it('names AWS_ENDPOINT_URL_DYNAMODB when it is invalid', () => {
    const parse = () =>
      parseOutboxArguments(['list'], {
        AWS_ENDPOINT_URL_DYNAMODB: 'not-a-url',
      });

    expect(parse).toThrow(UsageError);
    expect(parse).toThrow('Invalid AWS_ENDPOINT_URL_DYNAMODB "not-a-url"');
  });

  it('names AWS_ENDPOINT_URL_EVENTBRIDGE when it is invalid', () => {
    const parse = () =>
      parseOutboxArguments(['retry', '--all', '--bus', 'mql-engine-local'], {
        AWS_ENDPOINT_URL_EVENTBRIDGE: 'not-a-url',
      });

    expect(parse).toThrow(UsageError);
    expect(parse).toThrow('Invalid AWS_ENDPOINT_URL_EVENTBRIDGE "not-a-url"');
  });

  it.each([
    'ftp://user:secret@127.0.0.1:5000',
    'http://user:secret@127.0.0.1:5000',
  ])('rejects AWS_ENDPOINT_URL_EVENTBRIDGE %s unechoed', (url) => {
    let error: unknown;
    try {
      parseOutboxArguments(['retry', '--all', '--bus', 'mql-engine-local'], {
        AWS_ENDPOINT_URL_EVENTBRIDGE: url,
      });
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(
      'Invalid AWS_ENDPOINT_URL_EVENTBRIDGE',
    );
    expect((error as Error).message).not.toContain('secret');
  });

  it('reads AWS_ENDPOINT_URL_EVENTBRIDGE only with --bus', () => {
    const env = { AWS_ENDPOINT_URL_EVENTBRIDGE: 'http://127.0.0.1:5000' };

    const withBus = parseOutboxArguments(
      ['retry', '--all', '--bus', 'mql-engine-local'],
      env,
    );
    const withoutBus = parseOutboxArguments(['retry', '--all'], env);

    expect(withBus).toMatchObject({
      options: { eventsEndpoint: 'http://127.0.0.1:5000' },
    });
    expect(withoutBus).toMatchObject({
      options: { eventsEndpoint: undefined },
    });
  });

  it('accepts a region with digits and hyphens', () => {
    const parsed = parseOutboxArguments(
      ['list', '--region', 'us-gov-west-1'],
      {},
    );

    expect(parsed).toMatchObject({ options: { region: 'us-gov-west-1' } });
  });

  it('leaves --limit unset by default', () => {
    const listed = parseOutboxArguments(['list'], {});
    const retried = parseOutboxArguments(
      ['retry', '--all', '--limit', '7'],
      {},
    );

    expect(listed).toMatchObject({ options: { limit: undefined } });
    expect(retried).toMatchObject({ options: { limit: 7 } });
  });

  it('reads the table from TABLE_NAME', () => {
    const parsed = parseOutboxArguments(['retry', '--all'], {
      TABLE_NAME: 'mql-engine-dev',
    });

    expect(parsed).toMatchObject({
      command: 'retry',
      target: 'all',
      options: { tableName: 'mql-engine-dev' },
    });
  });
});

describe('npm run outbox', () => {
  it('lists failed entries of a DynamoDB Local table', async () => {
    const { setup, rejectedId } = await tableWithFailures();
    const tableName = (setup.repository as unknown as { tableName: string })
      .tableName;

    const run = spawnSync(
      'npx',
      [
        'tsx',
        'scripts/outbox.ts',
        'list',
        '--table',
        tableName,
        '--endpoint',
        inject('dynamoDbEndpoint'),
        '--region',
        'us-east-1',
      ],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
        },
      },
    );

    expect(run.stderr).toContain('1 outbox entry\n');
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      eventId: rejectedId,
      errorCode: 'InvalidArgument',
    });
  });

  it('stops listing at --limit', async () => {
    const { setup } = await tableWithFailures(['rejected-2']);

    const run = outboxCommand([
      'list',
      '--table',
      tableNameOf(setup),
      '--endpoint',
      inject('dynamoDbEndpoint'),
      '--limit',
      '1',
    ]);

    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('1 outbox entry\n');
    expect(run.stderr).toContain(
      'outbox: stopped at --limit 1, and more entries remain.',
    );
    expect(run.status).toBe(0);
  });

  it('says nothing of --limit when all were listed', async () => {
    const { setup } = await tableWithFailures(['rejected-2']);

    const run = outboxCommand([
      'list',
      '--table',
      tableNameOf(setup),
      '--endpoint',
      inject('dynamoDbEndpoint'),
      '--limit',
      '2',
    ]);

    expect(run.stdout.trim().split('\n')).toHaveLength(2);
    expect(run.stderr).toContain('2 outbox entries\n');
    expect(run.stderr).not.toContain('--limit');
    expect(run.status).toBe(0);
  });

  it('rejects --limit 0 with exit code 2', () => {
    const run = outboxCommand(['retry', '--all', '--limit', '0']);

    expect(run.stderr).toContain(
      'outbox: --limit must be an integer of at least 1, got "0".',
    );
    expect(run.stdout).toBe('');
    expect(run.status).toBe(2);
  });

  it('names an unreachable endpoint', () => {
    const run = outboxCommand([
      'list',
      '--table',
      'mql-engine-local',
      '--endpoint',
      'http://127.0.0.1:1',
    ]);

    expect(run.stderr).toContain(
      'outbox: Cannot reach DynamoDB at http://127.0.0.1:1',
    );
    expect(run.stderr).toContain('npm start');
    expect(run.stderr).not.toContain('    at ');
    expect(run.status).toBe(1);
  });

  it('names a table that does not exist', () => {
    const endpoint = inject('dynamoDbEndpoint');
    const run = outboxCommand([
      'list',
      '--table',
      'missing',
      '--endpoint',
      endpoint,
    ]);

    expect(run.stderr).toContain(
      `outbox: The table missing was not found at ${endpoint}.`,
    );
    expect(run.status).toBe(1);
  });

  it('lists a local table without AWS settings', async () => {
    const { setup } = await tableWithFailures();
    const tableName = (setup.repository as unknown as { tableName: string })
      .tableName;
    const home = mkdtempSync(join(tmpdir(), 'mql-home-'));

    const run = spawnSync(
      'npx',
      [
        'tsx',
        'scripts/outbox.ts',
        'list',
        '--table',
        tableName,
        '--endpoint',
        inject('dynamoDbEndpoint'),
      ],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: {
          ...process.env,
          HOME: home,
          AWS_CONFIG_FILE: join(home, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
          AWS_REGION: undefined,
          AWS_DEFAULT_REGION: undefined,
          AWS_PROFILE: undefined,
          AWS_ACCESS_KEY_ID: undefined,
          AWS_SECRET_ACCESS_KEY: undefined,
        },
      },
    );

    expect(run.stderr).toContain('1 outbox entry\n');
    expect(run.status).toBe(0);
  });
});

describe('npm run outbox with variables', () => {
  it('lists a table at AWS_ENDPOINT_URL_DYNAMODB', async () => {
    const { setup } = await tableWithFailures();
    const tableName = (setup.repository as unknown as { tableName: string })
      .tableName;

    const run = spawnSync(
      'npx',
      ['tsx', 'scripts/outbox.ts', 'list', '--table', tableName],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: {
          ...emptyAwsEnvironment(),
          AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
        },
      },
    );

    expect(run.stderr).toContain('1 outbox entry\n');
    expect(run.status).toBe(0);
  });

  it('names TABLE_NAME for a missing table', () => {
    const endpoint = inject('dynamoDbEndpoint');
    const run = spawnSync('npx', ['tsx', 'scripts/outbox.ts', 'list'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: {
        ...emptyAwsEnvironment(),
        AWS_ENDPOINT_URL_DYNAMODB: endpoint,
        TABLE_NAME: 'nope',
      },
    });

    expect(run.stderr).toContain(
      `outbox: The table nope was not found at ${endpoint}. TABLE_NAME set this name; set it to the lead table or pass --table`,
    );
    expect(run.status).toBe(1);
  });

  it('names AWS_ENDPOINT_URL_DYNAMODB when unreachable', () => {
    const run = spawnSync('npx', ['tsx', 'scripts/outbox.ts', 'list'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: {
        ...emptyAwsEnvironment(),
        AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1',
      },
    });

    expect(run.stderr).toContain('Cannot reach DynamoDB at http://127.0.0.1:1');
    expect(run.stderr).toContain('set AWS_ENDPOINT_URL_DYNAMODB, or pass');
    expect(run.status).toBe(1);
  });
});

function tableNameOf(setup: { repository: unknown }): string {
  return (setup.repository as { tableName: string }).tableName;
}

/** Environment without any AWS settings of the user or the machine. */
/** Returns the URL of a loopback port that nothing listens on. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return `http://127.0.0.1:${port}`;
}

function emptyAwsEnvironment(): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'mql-home-'));
  return {
    ...process.env,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_PROFILE: undefined,
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_ENDPOINT_URL_EVENTBRIDGE: undefined,
  };
}

describe('npm run outbox -- retry --bus', () => {
  const retryArguments = (bus: string) => [
    'tsx',
    'scripts/outbox.ts',
    'retry',
    '--all',
    '--endpoint',
    inject('dynamoDbEndpoint'),
    '--bus',
    bus,
  ];

  it('names the EventBridge endpoint a local bus needs', () => {
    const run = spawnSync('npx', retryArguments('mql-engine-local'), {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: emptyAwsEnvironment(),
    });

    expect(run.stderr).not.toContain('Region is missing');
    expect(run.stderr).toContain('outbox: --bus needs an EventBridge endpoint');
    expect(run.stderr).toContain('AWS_ENDPOINT_URL_EVENTBRIDGE');
    expect(run.status).toBe(2);
  });

  it('rejects a local bus while AWS_REGION is set', () => {
    const run = spawnSync('npx', retryArguments('mql-engine-local'), {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: { ...emptyAwsEnvironment(), AWS_REGION: 'us-east-1' },
    });

    expect(run.stderr).toContain('AWS_ENDPOINT_URL_EVENTBRIDGE');
    expect(run.status).toBe(2);
  });

  it.each(['127.0.0.2', 'localhost.', '[::1]'])(
    'rejects a local bus at %s with AWS_REGION',
    (host) => {
      const endpoint = new URL(inject('dynamoDbEndpoint'));
      endpoint.hostname = host;
      const args = retryArguments('mql-engine-local');
      args[args.indexOf('--endpoint') + 1] = endpoint.origin;
      const run = spawnSync('npx', args, {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: { ...emptyAwsEnvironment(), AWS_REGION: 'us-east-1' },
      });

      expect(run.stderr).toContain('AWS_ENDPOINT_URL_EVENTBRIDGE');
      expect(run.status).toBe(2);
    },
  );

  it('exits with 1 when the bus rejects an entry again', async () => {
    const { setup, rejectedId } = await tableWithFailures(['rejected-2']);
    const tableName = tableNameOf(setup);
    const endpoint = inject('dynamoDbEndpoint');
    // A detail that fails its schema is rejected again by the publisher's
    // checks, as the bus would reject it.
    const dynamoDb = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
    await dynamoDb.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: outboxKey({ leadId: 'rejected' }, rejectedId),
        UpdateExpression: 'SET detail = :detail',
        ExpressionAttributeValues: { ':detail': { S: '{}' } },
      }),
    );
    dynamoDb.destroy();
    const routing = await createTestRouting();

    const run = spawnSync(
      'npx',
      [
        'tsx',
        'scripts/outbox.ts',
        'retry',
        '--all',
        '--table',
        tableName,
        '--endpoint',
        endpoint,
        '--bus',
        routing.eventBusName,
      ],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: {
          ...emptyAwsEnvironment(),
          AWS_ENDPOINT_URL_EVENTBRIDGE: inject('motoEndpoint'),
        },
      },
    );

    const outcomes = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(outcomes).toEqual([
      { leadId: 'rejected', eventId: rejectedId, result: 'failed' },
      expect.objectContaining({ leadId: 'rejected-2', result: 'published' }),
    ]);
    expect(run.stderr).toContain(
      '2 outbox entries retried: 1 published, 1 failed again',
    );
    expect(run.stderr).toContain('outbox: 1 entry failed again;');
    expect(run.status).toBe(1);
    const entry = await setup.repository.getOutboxEntry('rejected', rejectedId);
    expect(entry?.failure?.errorCode).toBe('InvalidEntry');
  });

  it('exits with 0 when the bus accepts every entry', async () => {
    const { setup } = await tableWithFailures();
    const routing = await createTestRouting();

    const run = spawnSync(
      'npx',
      [
        'tsx',
        'scripts/outbox.ts',
        'retry',
        '--all',
        '--table',
        tableNameOf(setup),
        '--endpoint',
        inject('dynamoDbEndpoint'),
        '--bus',
        routing.eventBusName,
      ],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: {
          ...emptyAwsEnvironment(),
          AWS_ENDPOINT_URL_EVENTBRIDGE: inject('motoEndpoint'),
        },
      },
    );

    expect(run.stderr).toContain(
      '1 outbox entry retried: 1 published, 0 failed again',
    );
    expect(run.status).toBe(0);
  });

  it('names an unreachable EventBridge endpoint', async () => {
    const endpoint = await closedPortUrl();
    const run = spawnSync('npx', retryArguments('mql-engine-local'), {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: {
        ...emptyAwsEnvironment(),
        AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint,
      },
    });

    expect(run.stderr).toContain(
      `outbox: Cannot reach EventBridge at ${endpoint} (`,
    );
    expect(run.stderr).toContain('AWS_ENDPOINT_URL_EVENTBRIDGE');
    expect(run.stderr).not.toContain('    at ');
    expect(run.stdout).toBe('');
    expect(run.status).toBe(1);
  });

  it('rejects an empty --bus before publishing', () => {
    const run = spawnSync('npx', retryArguments(''), {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: {
        ...emptyAwsEnvironment(),
        AWS_ENDPOINT_URL_EVENTBRIDGE: inject('motoEndpoint'),
      },
    });

    expect(run.stderr).toContain('outbox: Invalid --bus ""');
    expect(run.stdout).toBe('');
    expect(run.status).toBe(2);
  });

  it('names --bus for a missing bus', () => {
    const run = spawnSync('npx', retryArguments('missing-bus'), {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: {
        ...emptyAwsEnvironment(),
        AWS_ENDPOINT_URL_EVENTBRIDGE: inject('motoEndpoint'),
      },
    });

    expect(run.stderr).toContain('outbox: Event bus "missing-bus"');
    expect(run.stderr).toContain('--bus');
    expect(run.stderr).not.toContain('EVENT_BUS_NAME');
    expect(run.status).toBe(1);
  });
});

function outboxCommand(args: string[]) {
  return spawnSync('npx', ['tsx', 'scripts/outbox.ts', ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    },
  });
}
