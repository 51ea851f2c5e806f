import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { LOCAL_AWS } from '../../local/services.js';
import { createTestTable, uniqueName } from '../support/aws.js';

/** Runs `npm run report -- ...args` and returns its exit code and output. */
function runReport(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/report.ts', ...args],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** An environment in which the AWS SDK finds no region anywhere. */
function withoutAwsRegion(): Record<string, string | undefined> {
  const home = mkdtempSync(join(tmpdir(), 'mql-home-'));
  return {
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_PROFILE: undefined,
    AWS_ENDPOINT_URL_DYNAMODB: undefined,
    AWS_ENDPOINT_URL: undefined,
  };
}

describe('npm run report -- conversion', () => {
  it('names --endpoint and AWS_REGION without either', async () => {
    const result = await runReport(['conversion'], withoutAwsRegion());

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--endpoint');
    expect(result.stderr).toContain('AWS_REGION');
    expect(result.stderr).not.toContain('Region is missing');
  }, 30_000);

  it('reads a local table given --endpoint', async () => {
    const { tableName } = await createTestTable();
    const endpoint = inject('dynamoDbEndpoint');

    const result = await runReport(
      ['conversion', '--endpoint', endpoint, '--table', tableName, '--json'],
      withoutAwsRegion(),
    );

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([]);
  }, 30_000);

  it('names a table that does not exist', async () => {
    const endpoint = inject('dynamoDbEndpoint');

    const result = await runReport(
      ['conversion', '--endpoint', endpoint, '--table', 'missing'],
      withoutAwsRegion(),
    );

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `The table missing was not found at ${endpoint}.`,
    );
  }, 30_000);

  it('names a table that is not a lead table', async () => {
    const endpoint = inject('dynamoDbEndpoint');
    const tableName = uniqueName('other');
    await new DynamoDBClient({ ...LOCAL_AWS, endpoint }).send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );

    const result = await runReport(
      ['conversion', '--endpoint', endpoint, '--table', tableName],
      withoutAwsRegion(),
    );

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Reading the table ${tableName} at ${endpoint} failed: `,
    );
    expect(result.stderr).toContain(
      `The table ${tableName} does not have the keys and indexes of a lead table. Pass the lead table with --table`,
    );
  }, 30_000);

  it('reads mql-engine-local when TABLE_NAME is empty', async () => {
    const endpoint = inject('dynamoDbEndpoint');

    const result = await runReport(['conversion', '--endpoint', endpoint], {
      ...withoutAwsRegion(),
      TABLE_NAME: '',
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `The table mql-engine-local was not found at ${endpoint}.`,
    );
  }, 30_000);

  it('rejects an empty --table', async () => {
    const result = await runReport(
      ['conversion', '--table', ''],
      withoutAwsRegion(),
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'report: Invalid --table "": name the lead table',
    );
  }, 30_000);

  it('names AWS_ENDPOINT_URL_DYNAMODB when it is invalid', async () => {
    const result = await runReport(['conversion'], {
      ...withoutAwsRegion(),
      AWS_ENDPOINT_URL_DYNAMODB: 'not-a-url',
    });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'report: Invalid AWS_ENDPOINT_URL_DYNAMODB "not-a-url"',
    );
  }, 30_000);

  it.each([
    ['--endpoint', 'http://user:secret@127.0.0.1:1'],
    ['--endpoint', 'ftp://user:secret@127.0.0.1:1'],
    ['AWS_ENDPOINT_URL_DYNAMODB', 'http://user:secret@127.0.0.1:1'],
  ])(
    'rejects credentials in %s %s',
    async (source, url) => {
      const fromOption = source === '--endpoint';
      const result = await runReport(
        fromOption ? ['conversion', '--endpoint', url] : ['conversion'],
        {
          ...withoutAwsRegion(),
          AWS_ENDPOINT_URL_DYNAMODB: fromOption ? undefined : url,
        },
      );

      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`report: Invalid ${source}`);
      expect(result.stderr).not.toContain('secret');
    },
    30_000,
  );

  it('names TABLE_NAME for a missing table', async () => {
    const endpoint = inject('dynamoDbEndpoint');

    const result = await runReport(['conversion'], {
      ...withoutAwsRegion(),
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      TABLE_NAME: 'nope',
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `The table nope was not found at ${endpoint}. TABLE_NAME set this name; set it to the lead table or pass --table`,
    );
  }, 30_000);

  it.each([
    { option: '--months', value: '100000' },
    { option: '--endpoint', value: 'not-a-url' },
    { option: '--band-width', value: '1e308' },
    { option: '--band-width', value: '0' },
  ])(
    'rejects $option $value as usage',
    async ({ option, value }) => {
      // An option is given once, so the --endpoint case has no other.
      const endpoint =
        option === '--endpoint' ? [] : ['--endpoint', 'http://127.0.0.1:1'];
      const result = await runReport(
        ['conversion', ...endpoint, option, value],
        withoutAwsRegion(),
      );

      expect(result.code).toBe(2);
      expect(result.stderr).toContain(option);
      expect(result.stderr).toContain(value);
    },
    30_000,
  );

  it.each([
    { option: '--months', value: '0', range: 'from 1 to 1200' },
    { option: '--months', value: '1201', range: 'from 1 to 1200' },
    { option: '--months', value: '0x0C', range: 'from 1 to 1200' },
    { option: '--band-width', value: '1e1', range: 'from 1 to 1000000000' },
  ])(
    'names the range of $option $value',
    async ({ option, value, range }) => {
      const result = await runReport(
        ['conversion', '--endpoint', 'http://127.0.0.1:1', option, value],
        withoutAwsRegion(),
      );

      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `${option} must be an integer ${range}, got "${value}".`,
      );
    },
    30_000,
  );

  it.each([
    { args: [], message: 'Missing the report name' },
    { args: ['conversoin'], message: 'Unknown report "conversoin"' },
    {
      args: ['conversion', 'x'],
      message: 'Unexpected argument "x": conversion takes options only.',
    },
    {
      args: ['conversion', 'x', 'y'],
      message: 'Unexpected arguments "x", "y": conversion takes options only.',
    },
    {
      args: ['conversion', '--month', '3'],
      message: 'Unknown option --month. Did you mean --months?',
    },
  ])(
    'rejects $args as usage',
    async ({ args, message }) => {
      const result = await runReport(args, withoutAwsRegion());

      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain(
        'Run "npm run report -- --help" for usage.',
      );
      expect(result.stderr).not.toContain('Usage:');
    },
    30_000,
  );
});
