import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { ingestMessages } from '../../functions/use-cases/ingest-messages.js';
import { tableAccessError } from '../../scripts/table-access.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { realDependencies } from '../support/dependencies.js';
import {
  unprivilegedSpawnOptions,
  writeUnreadableFile,
} from '../support/unreadable-file.js';

const run = promisify(execFile);

/** Runs `npm run model -- ARGS` without npm and returns its output. */
async function model(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  ids: { uid?: number; gid?: number } = {},
) {
  try {
    const { stdout, stderr } = await run(
      'node_modules/.bin/tsx',
      ['scripts/model.ts', ...args],
      // The timeout ends a command that reads without end, such as one
      // given /dev/zero, instead of leaving it running after the test.
      { cwd: process.cwd(), env, timeout: 60_000, ...ids },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('model check', () => {
  it('prints the rules of a valid model', async () => {
    const result = await model(['check', 'models/procurement-software.json']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /valid model "procurement-software", version [0-9a-f]{12}/,
    );
    expect(result.stdout).toContain('blog-read');
    expect(result.stdout).toContain('(at most 3 per 30 days)');
    expect(result.stdout).not.toContain('Warnings');
  });

  it('reads a relative FILE from INIT_CWD', async () => {
    const models = join(process.cwd(), 'models');

    const found = await model(['check', 'examples/x-education.json'], {
      ...process.env,
      INIT_CWD: models,
    });
    const missing = await model(['check', 'examples/none.json'], {
      ...process.env,
      INIT_CWD: models,
    });

    expect(found.code).toBe(0);
    expect(found.stdout).toContain('valid model');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `The model file ${join(models, 'examples', 'none.json')} was not found.`,
    );
  });

  it('rejects a deeply nested file at once', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'model-'));
    const file = join(directory, 'deep.json');
    await writeFile(file, `${'['.repeat(20_000)}${']'.repeat(20_000)}`);

    const result = await model(['check', file]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `The model file ${file} nests objects or arrays more than 64 levels deep (line 1, column 65`,
    );
    expect(result.stderr).not.toContain('Maximum call stack');
  });

  it('names MQL_MODEL_FILE for a missing live model', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'model-'));
    const candidate = join(process.cwd(), 'models/procurement-software.json');

    const result = await model(['backtest', candidate], {
      ...process.env,
      INIT_CWD: directory,
      MQL_MODEL_FILE: 'nope.json',
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `The model file ${join(directory, 'nope.json')} was not found. It is the live model, set by MQL_MODEL_FILE.`,
    );
  });

  it('lists every invalid field and fails', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'model-'));
    const file = join(directory, 'broken.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'broken',
        fit: {
          rules: [0, 1].map(() => ({
            id: 'size',
            description: 'size',
            traits: ['employees'],
            range: { min: 100 },
            points: 5,
          })),
        },
        intent: {
          rules: [
            {
              id: 'Blog',
              description: 'blog',
              when: { path: '(' },
              points: 2,
              cap: { max: 0 },
            },
          ],
        },
        qualification: { threshold: 50, recycleBelow: 60, cooldownDays: 'x' },
      }),
    );

    const result = await model(['check', file]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`The model file ${file} is invalid.`);
    for (const field of [
      'intent.rules[0].id',
      'intent.rules[0].when.path',
      'intent.rules[0].cap.max',
      'fit.rules[1].id',
      'qualification.recycleBelow',
      'qualification.cooldownDays',
    ]) {
      expect(result.stderr).toContain(`  ${field}: `);
    }
  });

  it('accepts every model in models/', async () => {
    const files = await readdir('models', { recursive: true });
    const models = files.filter((file) => file.endsWith('.json'));

    expect(models.length).toBeGreaterThanOrEqual(3);
    for (const file of models) {
      const result = await model(['check', join('models', file)]);

      expect(result.code, `${file}: ${result.stderr}`).toBe(0);
    }
  });

  it('names the field of each slow pattern', async () => {
    const text = await readFile('models/procurement-software.json', 'utf8');
    const document = JSON.parse(text) as {
      fit: { rules: { pattern?: string }[] };
      intent: { rules: { when: { path?: string } }[] };
      accounts: { roles: { titlePattern: string }[] };
    };
    const [fitRule] = document.fit.rules;
    const pathRule = document.intent.rules.find((rule) => rule.when.path);
    const [role] = document.accounts.roles;
    if (!fitRule || !pathRule || !role) throw new Error('rules are missing');
    fitRule.pattern = '(ab|a|b)*c';
    pathRule.when.path = '.*.*=';
    role.titlePattern = '(?:a{100}){100}';
    const directory = await mkdtemp(join(tmpdir(), 'model-'));
    const file = join(directory, 'slow.json');
    await writeFile(file, JSON.stringify(document));

    const result = await model(['check', file]);
    const pathIndex = document.intent.rules.indexOf(pathRule);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('  fit.rules[0].pattern: has (ab|a|b)*');
    expect(result.stderr).toContain(
      `  intent.rules[${pathIndex}].when.path: has .*.*, two unbounded parts`,
    );
    expect(result.stderr).toContain(
      '  accounts.roles[0].titlePattern: repeats (?:a{100}){100}',
    );
  });

  it('names a directory given as the model', async () => {
    const result = await model(['check', 'models']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `The model file ${join(process.cwd(), 'models')} is a directory; give the path of a model JSON file`,
    );
    expect(result.stderr).not.toContain('EISDIR');
  });

  it('explains a model file without read permission', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'model-'));
    const file = join(directory, 'locked.json');
    await writeUnreadableFile(file, '{}');

    const result = await model(
      ['check', file],
      process.env,
      unprivilegedSpawnOptions(),
    );

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `The model file ${file} cannot be read: permission denied. Give the user that runs this command read permission on the file`,
    );
    expect(result.stderr).not.toContain('EACCES');
  });

  it('explains a path through a file', async () => {
    const file = join(process.cwd(), 'models/procurement-software.json');

    const result = await model(['check', `${file}/model.json`]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `The model file ${file}/model.json was not found: a part of its path is a file, not a directory.`,
    );
    expect(result.stderr).not.toContain('ENOTDIR');
  });

  it('rejects /dev/zero at once', async () => {
    const result = await model(['check', '/dev/zero']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'The model file /dev/zero is not a regular file',
    );
  }, 10_000);

  it('rejects a model file over 1 MiB', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'model-'));
    const file = join(directory, 'huge.json');
    await writeFile(file, `{"description": "${'x'.repeat(1_048_576)}"}`);

    const result = await model(['check', file]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `The model file ${file} is 1048595 bytes, more than the limit of 1048576 bytes`,
    );
  });

  it('reads a model with a byte order mark', async () => {
    const text = await readFile('models/procurement-software.json', 'utf8');
    const directory = await mkdtemp(join(tmpdir(), 'model-'));
    const file = join(directory, 'bom.json');
    await writeFile(file, `\uFEFF${text}`);

    const result = await model(['check', file]);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid model "procurement-software"');
  });

  it('rejects a model that is not UTF-8', async () => {
    const text = await readFile('models/procurement-software.json', 'utf8');
    const directory = await mkdtemp(join(tmpdir(), 'model-'));
    const file = join(directory, 'latin1.json');
    await writeFile(file, Buffer.from(text.replace('Owns', 'Ownés'), 'latin1'));

    const result = await model(['check', file]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`The model file ${file} is not UTF-8`);
    expect(result.stderr).toContain('Save the file as UTF-8');
  });

  it('lists every key set twice', async () => {
    const text = await readFile('models/procurement-software.json', 'utf8');
    const directory = await mkdtemp(join(tmpdir(), 'model-'));
    const file = join(directory, 'twice.json');
    await writeFile(
      file,
      text.replace('"threshold":', '"threshold": 1, "threshold":'),
    );

    const result = await model(['check', file]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('sets a key twice');
    expect(result.stderr).toMatch(/ {2}qualification\.threshold: is set on/);
  });

  it('warns about a model too large to deploy', async () => {
    const document = JSON.parse(
      await readFile('models/procurement-software.json', 'utf8'),
    );
    document.description = 'x'.repeat(130_000);
    const directory = await mkdtemp(join(tmpdir(), 'model-'));
    const file = join(directory, 'large.json');
    await writeFile(file, JSON.stringify(document));

    const result = await model(['check', file]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Warnings (1):');
    expect(result.stdout).toContain(
      'over the 120000 bytes that cdk synth embeds',
    );
  });

  it('warns about a pattern that never matches', async () => {
    const document = JSON.parse(
      await readFile('models/procurement-software.json', 'utf8'),
    );
    document.fit.rules[0].pattern = 'chief^procurement';
    const directory = await mkdtemp(join(tmpdir(), 'model-'));
    const file = join(directory, 'never.json');
    await writeFile(file, JSON.stringify(document));

    const result = await model(['check', file]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Warnings (1):');
    expect(result.stdout).toContain(
      '  fit.rules[0].pattern: can never match, because it has a ^ after a character that must match before it.',
    );
  });

  it('reports a file that is not JSON', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'model-'));
    const file = join(directory, 'text.json');
    await writeFile(file, 'threshold = 100');

    const result = await model(['check', file]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'is not valid JSON (line 1, column 1: expected a value',
    );
  });
});

describe('model backtest --as-of', () => {
  it('notes an as-of time before every event', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'backtest-'));
    const events = join(directory, 'events.ndjson');
    const timestamp = '2026-05-01T00:00:00.000Z';
    const messages = qualifyingBatch('early').map((message) => ({
      ...message,
      timestamp,
    }));
    await writeFile(
      events,
      messages.map((message) => JSON.stringify(message)).join('\n'),
    );
    const args = ['backtest', 'models/procurement-software.json'];

    const before = await model([
      ...args,
      '--events',
      events,
      '--as-of',
      '2026-04-30T00:00:00Z',
    ]);
    const after = await model([
      ...args,
      '--events',
      events,
      '--as-of',
      '2026-05-02T00:00:00Z',
    ]);

    expect(before.code).toBe(0);
    expect(before.stderr).toBe(
      'model: No event is at or before the as-of time 2026-04-30T00:00:00.000Z, ' +
        'so both models scored no event and the comparison is empty. The ' +
        `earliest event is at ${timestamp}, so pass that time or a later one as --as-of.\n`,
    );
    expect(before.stdout).toMatch(/MQLs at the as-of time +0 +0/);
    expect(after.code).toBe(0);
    expect(after.stderr).toBe('');
    expect(after.stdout).toMatch(/MQLs at the as-of time +1 +1/);
  });
});

describe('model backtest files', () => {
  it('explains events and outcomes without read permission', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'backtest-'));
    const readable = join(directory, 'events.ndjson');
    const events = join(directory, 'locked.ndjson');
    const outcomes = join(directory, 'locked.csv');
    const lines = qualifyingBatch('locked').map((message) =>
      JSON.stringify(message),
    );
    await writeFile(readable, lines.join('\n'));
    await writeUnreadableFile(events, lines.join('\n'));
    await writeUnreadableFile(outcomes, 'leadId,converted\nlocked,1\n');
    const args = ['backtest', 'models/procurement-software.json'];
    const ids = unprivilegedSpawnOptions();

    const eventsResult = await model(
      [...args, '--events', events],
      process.env,
      ids,
    );
    const outcomesResult = await model(
      [...args, '--events', readable, '--outcomes', outcomes],
      process.env,
      ids,
    );

    const denied =
      'cannot be read: permission denied. Give the user that runs this command read permission on the file';
    expect(eventsResult.code).toBe(1);
    expect(eventsResult.stderr).toContain(`The file ${events} ${denied}`);
    expect(eventsResult.stderr).not.toContain('EACCES');
    expect(outcomesResult.code).toBe(1);
    expect(outcomesResult.stderr).toContain(
      `The outcomes file ${outcomes} ${denied}`,
    );
    expect(outcomesResult.stderr).not.toContain('EACCES');
  });
});

describe('model backtest on a table', () => {
  /** Returns an environment in which the AWS SDK finds no region. */
  async function withoutAwsRegion() {
    const home = await mkdtemp(join(tmpdir(), 'mql-home-'));
    const env: Record<string, string | undefined> = {
      ...process.env,
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    };
    for (const name of [
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'AWS_PROFILE',
      'AWS_ENDPOINT_URL',
      'AWS_ENDPOINT_URL_DYNAMODB',
    ]) {
      delete env[name];
    }
    return env;
  }

  const candidate = 'models/procurement-software.json';

  it('names a table that does not exist', async () => {
    const endpoint = inject('dynamoDbEndpoint');

    const result = await model(
      ['backtest', candidate, '--endpoint', endpoint, '--table', 'missing'],
      await withoutAwsRegion(),
    );

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `The table missing was not found at ${endpoint}.`,
    );
    expect(result.stderr).not.toContain('    at ');
  });

  it('reads the table from TABLE_NAME', async () => {
    const setup = await realDependencies();
    await ingestMessages(setup.deps, {
      sourceId: 'web',
      messages: [
        ...qualifyingBatch('stored-1'),
        ...qualifyingBatch('stored-2'),
      ],
      receivedAt: setup.clock.now,
    });

    const result = await model(['backtest', candidate, '--json'], {
      ...(await withoutAwsRegion()),
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
      TABLE_NAME: setup.table.tableName,
    });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      source: `table ${setup.table.tableName}`,
      leads: 2,
      events: 6,
    });
  });

  it('names TABLE_NAME for a missing table', async () => {
    const endpoint = inject('dynamoDbEndpoint');

    const result = await model(['backtest', candidate], {
      ...(await withoutAwsRegion()),
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      TABLE_NAME: 'missing',
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `The table missing was not found at ${endpoint}. TABLE_NAME set this name; set it to the lead table or pass --table`,
    );
  });

  it('names an endpoint where nothing listens', async () => {
    const result = await model(
      ['backtest', candidate, '--endpoint', 'http://127.0.0.1:1'],
      await withoutAwsRegion(),
    );

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Cannot reach DynamoDB at http://127.0.0.1:1',
    );
    expect(result.stderr).toContain('npm start');
    expect(result.stderr).not.toContain('    at ');
  });

  it('names --endpoint and AWS_REGION without either', async () => {
    const result = await model(
      ['backtest', candidate],
      await withoutAwsRegion(),
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--endpoint');
    expect(result.stderr).toContain('AWS_REGION');
    expect(result.stderr).not.toContain('Region is missing');
  });
});

describe('tableAccessError', () => {
  /** Returns the error of a scan of the table `missing` at `endpoint`. */
  async function scanError(endpoint: string): Promise<unknown> {
    const client = new DynamoDBClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    try {
      await client.send(new ScanCommand({ TableName: 'missing' }));
    } catch (error) {
      return error;
    } finally {
      client.destroy();
    }
    throw new Error('the scan did not fail');
  }

  /** Runs `use` with the port of a loopback HTTP server that responds 404. */
  async function withNotFoundServer(use: (port: number) => Promise<void>) {
    const server = createServer((_, response) => {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"error":"Not Found"}');
    });
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    try {
      await use((server.address() as AddressInfo).port);
    } finally {
      server.close();
    }
  }

  it('names an endpoint that is not DynamoDB', async () => {
    await withNotFoundServer(async (port) => {
      const endpoint = `http://127.0.0.1:${port}`;
      const error = await scanError(endpoint);

      const { message } = tableAccessError(error, 'missing', endpoint);

      expect(message).toContain(
        `The endpoint ${endpoint} is not DynamoDB: it responded with HTTP 404`,
      );
      expect(message).toContain(
        'Pass the DynamoDB Local endpoint from the "ready:" line of `npm start` as --endpoint',
      );
    });
  });

  it('names https to a plain HTTP endpoint', async () => {
    await withNotFoundServer(async (port) => {
      const endpoint = `https://127.0.0.1:${port}`;
      const error = await scanError(endpoint);

      const { message } = tableAccessError(error, 'missing', endpoint);

      expect(message).toBe(
        `The endpoint ${endpoint} does not speak TLS, so https:// cannot reach it. DynamoDB Local serves plain HTTP: use http://127.0.0.1:${port}.`,
      );
    });
  });

  it('keeps DynamoDB Local errors as DynamoDB errors', async () => {
    const endpoint = inject('dynamoDbEndpoint');
    const error = await scanError(endpoint);

    const { message } = tableAccessError(error, 'missing', endpoint);

    expect(message).toBe(
      `The table missing was not found at ${endpoint}. Pass the lead table with --table; \`npm start\` creates mql-engine-local. If the table exists, check that the endpoint is the DynamoDB URL of the "ready:" line of \`npm start\`, not the moto one.`,
    );
  });

  it('points at the endpoint when moto answers', async () => {
    // moto serves DynamoDB too, without the tables of DynamoDB Local.
    const endpoint = inject('motoEndpoint');
    const error = await scanError(endpoint);

    const { message } = tableAccessError(error, 'mql-engine-local', endpoint);

    expect(message).toContain('was not found at');
    expect(message).toContain('not the moto one');
  });
});
