import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  compileValidatedModel,
  type ModelDocument,
} from '../../functions/domain/model.js';
import { ConfigurationError } from '../../lib/configuration-error.js';
import { PROJECT_ROOT } from '../../lib/mql-engine-app.js';
import { loadScoringModel } from '../../lib/scoring-model.js';
import { DEFAULT_MODEL_FILE, loadStageConfig } from '../../lib/stage-config.js';
import { unprivilegedSpawnOptions } from '../support/unreadable-file.js';

const SHIPPED_CONFIG_DIR = join(PROJECT_ROOT, 'config', 'stages');
/** The alarm action every prod configuration must have. */
const PROD_ALARMS = { alarms: { emails: ['ops@example.com'] } };
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:alerts';

let configDir: string;

beforeEach(() => {
  configDir = mkdtempSync(join(tmpdir(), 'mql-engine-config-'));
});

afterEach(() => {
  // A test may take the permissions away, which rmSync needs.
  chmodSync(configDir, 0o700);
  rmSync(configDir, { recursive: true, force: true });
});

/**
 * Runs `call` (an expression of `loadStageConfig` and `loadScoringModel`)
 * in a process subject to file permissions and returns the message of
 * the error it raises, prefixed with the error's name.
 */
function errorWithoutRoot(call: string): string {
  const script = `
    import { loadScoringModel } from './lib/scoring-model.ts';
    import { loadStageConfig } from './lib/stage-config.ts';
    try {
      ${call};
      console.log('no error');
    } catch (error) {
      console.log(error.name + ': ' + error.message);
    }`;
  return execFileSync('node_modules/.bin/tsx', ['--eval', script], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    ...unprivilegedSpawnOptions(),
  });
}

/** Returns a queue routing target with `eventPattern`. */
function queueTarget(eventPattern: Record<string, unknown>) {
  return { type: 'queue', id: 'sales', description: 'Sales.', eventPattern };
}

/** Returns a JWT adminAuth of one audience and no scopes, with `overrides` applied. */
function jwtAuth(overrides: Record<string, unknown>) {
  return {
    type: 'jwt',
    issuer: 'https://login.example.com/',
    audience: ['mql-engine'],
    scopes: [],
    ...overrides,
  };
}

/** Returns `count` distinct strings `<prefix>-0`, `<prefix>-1`, …. */
function numbered(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
}

/**
 * Returns `withWildcard` queue targets whose patterns use wildcard, each
 * in another place of the pattern, followed by `without` targets whose
 * patterns use prefix.
 */
function wildcardTargets(withWildcard: number, without: number) {
  const placements = [
    { 'detail-type': [{ wildcard: 'Lead *' }] },
    { 'detail-type': [{ 'anything-but': { wildcard: '*Erased' } }] },
    { detail: { persona: ['title-cpo', { wildcard: 'title-*-procurement' }] } },
    {
      $or: [
        { 'detail-type': ['Lead Qualified'] },
        { detail: { persona: [{ wildcard: 'title-*' }] } },
      ],
    },
  ];
  const targets = Array.from({ length: withWildcard }, (_, index) => ({
    ...queueTarget(placements[index % placements.length] ?? {}),
    id: `wildcard-${index}`,
  }));
  for (let index = 0; index < without; index++) {
    targets.push({
      ...queueTarget({ 'detail-type': [{ prefix: 'Lead ' }] }),
      id: `prefix-${index}`,
    });
  }
  return targets;
}

function writeStageFile(stage: string, values: unknown): void {
  writeFileSync(join(configDir, `${stage}.json`), JSON.stringify(values));
}

describe('loadStageConfig', () => {
  it('applies the dev defaults', () => {
    writeStageFile('dev', {});

    const config = loadStageConfig('dev', configDir);

    expect(config.modelFile).toBe(DEFAULT_MODEL_FILE);
    expect(config.reviewShards).toBe(16);
    expect(config.eventRetentionDays).toBe(400);
    expect(config.sweepRateMinutes).toBe(5);
    expect(config.logRetentionDays).toBe(14);
    expect(config.protectData).toBe(false);
    expect(config.account).toBeUndefined();
    expect(config.region).toBeUndefined();
    expect(config.writeKeySecretName).toBe('mql-engine/dev/write-keys');
    expect(config.adminAuth).toEqual({ type: 'iam' });
    expect(config.logLevel).toBe('DEBUG');
    expect(config.tracing).toBe(true);
    expect(config.trackingResponse).toBe('scores');
    expect(config.alarms).toEqual({
      topicArns: [],
      emails: [],
      outboxAgeMinutes: 15,
      api5xxPercent: 1,
    });
  });

  it('sizes the functions without reserved concurrency in dev', () => {
    writeStageFile('dev', {});

    const { functions } = loadStageConfig('dev', configDir);

    expect(functions).toEqual({
      ingest: { memorySize: 1024, timeoutSeconds: 29 },
      leads: { memorySize: 512, timeoutSeconds: 10 },
      recycle: { memorySize: 512, timeoutSeconds: 10 },
      sweep: { memorySize: 1024, timeoutSeconds: 300 },
    });
  });

  it('protects data in prod by default', () => {
    writeStageFile('prod', PROD_ALARMS);

    const config = loadStageConfig('prod', configDir);

    expect(config.protectData).toBe(true);
    expect(config.logRetentionDays).toBe(365);
    expect(config.apiThrottling).toEqual({ rateLimit: 500, burstLimit: 1000 });
    expect(config.logLevel).toBe('INFO');
    expect(config.functions.ingest.reservedConcurrency).toBe(100);
    expect(config.functions.leads.reservedConcurrency).toBe(10);
    expect(config.functions.recycle.reservedConcurrency).toBe(2);
    expect(config.functions.sweep.reservedConcurrency).toBe(1);
  });

  it.each([
    ['staging', {}],
    ['prod', PROD_ALARMS],
  ])('hides scores from tracking clients in %s', (stage, values) => {
    writeStageFile(stage, values);

    const config = loadStageConfig(stage, configDir);

    expect(config.trackingResponse).toBe('counts');
  });

  it.each(['alice', 'constructor'])('gives stage %s dev defaults', (stage) => {
    writeStageFile(stage, {});

    const config = loadStageConfig(stage, configDir);

    expect(config.stageName).toBe(stage);
    expect(config.protectData).toBe(false);
    expect(config.logRetentionDays).toBe(14);
    expect(config.writeKeySecretName).toBe(`mql-engine/${stage}/write-keys`);
  });

  it('rejects a stage file over 1 MiB', () => {
    writeStageFile('dev', { notes: 'x'.repeat(1_048_576) });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      /dev\.json is \d+ bytes, more than the limit of 1048576 bytes/,
    );
  });

  it('rejects a deeply nested stage file', () => {
    writeFileSync(
      join(configDir, 'dev.json'),
      `{"notes": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
    );

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      /dev\.json nests objects or arrays more than 64 levels deep \(line 1, column 74/,
    );
  });

  it('rejects a stage file that is a device', () => {
    symlinkSync('/dev/zero', join(configDir, 'dev.json'));

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'dev.json is not a regular file',
    );
  });

  it('rejects a stage file linking nowhere', () => {
    const target = join(configDir, 'moved', 'staging.json');
    symlinkSync(target, join(configDir, 'staging.json'));

    expect(() => loadStageConfig('staging', configDir)).toThrow(
      `staging.json is a symbolic link to ${target}, which does not exist`,
    );
  });

  it('explains a stage file without read permission', () => {
    chmodSync(configDir, 0o755);
    writeStageFile('dev', {});
    chmodSync(join(configDir, 'dev.json'), 0o000);

    const message = errorWithoutRoot(
      `loadStageConfig('dev', ${JSON.stringify(configDir)})`,
    );

    expect(message).toContain(
      `ConfigurationError: Stage configuration file ${join(configDir, 'dev.json')} cannot be read: permission denied.`,
    );
    expect(message).not.toContain('EACCES');
  });

  it('rejects a stage file in an unsearchable directory', () => {
    writeStageFile('dev', { logLevel: 'ERROR' });
    chmodSync(configDir, 0o000);

    const message = errorWithoutRoot(
      `loadStageConfig('dev', ${JSON.stringify(configDir)})`,
    );

    expect(message).toContain(
      `ConfigurationError: Stage configuration file ${join(configDir, 'dev.json')} cannot be read: permission denied.`,
    );
  });

  it('lets the stage file override defaults', () => {
    writeStageFile('staging', {
      account: '123456789012',
      region: 'eu-central-1',
      reviewShards: 4,
      sweepRateMinutes: 15,
      protectData: true,
    });

    const config = loadStageConfig('staging', configDir);

    expect(config.account).toBe('123456789012');
    expect(config.region).toBe('eu-central-1');
    expect(config.reviewShards).toBe(4);
    expect(config.sweepRateMinutes).toBe(15);
    expect(config.protectData).toBe(true);
  });

  it('merges nested objects field by field', () => {
    writeStageFile('prod', {
      ...PROD_ALARMS,
      apiThrottling: { rateLimit: 20 },
      functions: { ingest: { reservedConcurrency: 40 } },
    });

    const config = loadStageConfig('prod', configDir);

    expect(config.apiThrottling).toEqual({ rateLimit: 20, burstLimit: 1000 });
    expect(config.functions.ingest).toEqual({
      memorySize: 1024,
      timeoutSeconds: 29,
      reservedConcurrency: 40,
    });
    expect(config.functions.leads.reservedConcurrency).toBe(10);
  });

  it('replaces arrays instead of merging them', () => {
    writeStageFile('prod', {
      alarms: { emails: ['a@example.com'], topicArns: [TOPIC_ARN] },
    });

    const { alarms } = loadStageConfig('prod', configDir);

    expect(alarms.emails).toEqual(['a@example.com']);
    expect(alarms.topicArns).toEqual([TOPIC_ARN]);
  });

  it('accepts a JWT admin authorizer', () => {
    writeStageFile('dev', {
      adminAuth: {
        type: 'jwt',
        issuer: 'https://login.example.com/',
        audience: ['mql-engine'],
      },
    });

    const { adminAuth } = loadStageConfig('dev', configDir);

    expect(adminAuth).toEqual({
      type: 'jwt',
      issuer: 'https://login.example.com/',
      audience: ['mql-engine'],
      scopes: [],
    });
  });

  it.each([
    [1, 60],
    [5, 300],
    [60, 300],
  ])('times the sweep out after %i min as %i s', (rate, timeout) => {
    writeStageFile('dev', { sweepRateMinutes: rate });

    const { functions } = loadStageConfig('dev', configDir);

    expect(functions.sweep.timeoutSeconds).toBe(timeout);
  });

  it.each(['dev', 'staging', 'prod'])('accepts shipped %s file', (stage) => {
    const config = loadStageConfig(stage, SHIPPED_CONFIG_DIR);

    expect(config.stageName).toBe(stage);
  });

  it.each([
    ['dev', ['*']],
    ['staging', []],
    ['prod', []],
    ['alice', ['*']],
  ])('gives stage %s CORS origins %j', (stage, origins) => {
    writeStageFile(stage, PROD_ALARMS);

    expect(loadStageConfig(stage, configDir).corsAllowedOrigins).toEqual(
      origins,
    );
  });

  it('accepts explicit CORS origins', () => {
    const origins = [
      'https://www.example.com',
      'http://localhost:8080',
      'http://127.0.0.1:3000',
      'https://*',
    ];
    writeStageFile('prod', { ...PROD_ALARMS, corsAllowedOrigins: origins });

    expect(loadStageConfig('prod', configDir).corsAllowedOrigins).toEqual(
      origins,
    );
  });

  it.each([
    'https://www.example.com/',
    'https://www.example.com/path',
    'HTTPS://WWW.EXAMPLE.COM',
    'www.example.com',
    'ftp://example.com',
    'https://*.example.com',
  ])('rejects CORS origin %s', (origin) => {
    writeStageFile('dev', { corsAllowedOrigins: [origin] });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'corsAllowedOrigins[0]: must be *, https://*',
    );
  });

  it('rejects origins listed next to *', () => {
    writeStageFile('dev', {
      corsAllowedOrigins: ['*', 'https://www.example.com'],
    });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'corsAllowedOrigins: must not list other origins next to *',
    );
  });

  it.each([
    ['reviewShards', { reviewShards: 0 }],
    ['eventRetentionDays', { eventRetentionDays: 1.5 }],
    ['sweepRateMinutes', { sweepRateMinutes: 0 }],
    ['logRetentionDays', { logRetentionDays: 10 }],
    ['apiThrottling.burstLimit', { apiThrottling: { burstLimit: 0 } }],
    ['account', { account: '1234' }],
    ['region', { region: 'Europe' }],
    ['writeKeySecretName', { writeKeySecretName: 'keys with spaces' }],
    ['writeKeySecretName', { writeKeySecretName: 'write-keys-AbC123' }],
    ['adminAuth.type', { adminAuth: { type: 'basic' } }],
    [
      'adminAuth.issuer',
      {
        adminAuth: {
          type: 'jwt',
          issuer: 'http://login.example.com/',
          audience: ['mql-engine'],
        },
      },
    ],
    [
      'adminAuth.audience',
      {
        adminAuth: {
          type: 'jwt',
          issuer: 'https://login.example.com/',
          audience: [],
        },
      },
    ],
    [
      'functions.ingest.timeoutSeconds',
      { functions: { ingest: { timeoutSeconds: 30 } } },
    ],
    [
      'functions.leads.memorySize',
      { functions: { leads: { memorySize: 64 } } },
    ],
    [
      'functions.sweep.reservedConcurrency',
      { functions: { sweep: { reservedConcurrency: 0 } } },
    ],
    [
      'functions.sweep.timeoutSeconds',
      { sweepRateMinutes: 1, functions: { sweep: { timeoutSeconds: 61 } } },
    ],
    ['logLevel', { logLevel: 'VERBOSE' }],
    ['tracing', { tracing: 'yes' }],
    ['alarms.emails[0]', { alarms: { emails: ['ops at example'] } }],
    ['alarms.topicArns[0]', { alarms: { topicArns: ['alerts'] } }],
    [
      'alarms.topicArns',
      { alarms: { topicArns: Array(5).fill(TOPIC_ARN), emails: ['a@b.co'] } },
    ],
    ['alarms.outboxAgeMinutes', { alarms: { outboxAgeMinutes: 0 } }],
    [
      'events.targets[0].eventPattern.detail-type',
      {
        events: { targets: [queueTarget({ 'detail-type': 'Lead Qualified' })] },
      },
    ],
    [
      'events.targets[0].eventPattern.detail.score',
      { events: { targets: [queueTarget({ detail: { score: [] } })] } },
    ],
    ['alarms.api5xxPercent', { alarms: { api5xxPercent: 101 } }],
  ])('rejects an invalid %s', (field, values) => {
    writeStageFile('dev', values);

    expect(() => loadStageConfig('dev', configDir)).toThrow(`${field}: `);
  });

  it.each([
    [
      { apiThrottling: { rateLimit: 1e308 } },
      'apiThrottling.rateLimit',
      'more than 0 and at most 10000',
    ],
    [
      { apiThrottling: { rateLimit: 0 } },
      'apiThrottling.rateLimit',
      'more than 0 and at most 10000',
    ],
    [
      { apiThrottling: { burstLimit: 5001 } },
      'apiThrottling.burstLimit',
      '1 and 5000',
    ],
    [
      { apiThrottling: { burstLimit: 2.5 } },
      'apiThrottling.burstLimit',
      'whole number',
    ],
    [{ eventRetentionDays: 1e9 }, 'eventRetentionDays', '1 and 36500'],
    [{ eventRetentionDays: 0 }, 'eventRetentionDays', '1 and 36500'],
    [{ reviewShards: 1001 }, 'reviewShards', '1 and 1000'],
    [{ sweepRateMinutes: 61 }, 'sweepRateMinutes', '1 and 60'],
    [{ logRetentionDays: 9998 }, 'logRetentionDays', '9999 (never expire)'],
    [
      { functions: { ingest: { memorySize: 10_241 } } },
      'functions.ingest.memorySize',
      '128 and 10240',
    ],
    [
      { functions: { leads: { timeoutSeconds: 1e308 } } },
      'functions.leads.timeoutSeconds',
      '1 and 29',
    ],
    [
      { functions: { recycle: { timeoutSeconds: 3 } } },
      'functions.recycle.timeoutSeconds',
      '5 and 29, because an erasure keeps 3 seconds of it back',
    ],
    [
      { functions: { sweep: { reservedConcurrency: 901 } } },
      'functions.sweep.reservedConcurrency',
      '1 and 900',
    ],
    [
      {
        functions: {
          ingest: { reservedConcurrency: 500 },
          leads: { reservedConcurrency: 401 },
        },
      },
      'functions',
      'reserve 901 executions together',
    ],
    [
      { alarms: { outboxAgeMinutes: 1441 } },
      'alarms.outboxAgeMinutes',
      '1 and 1440',
    ],
    [
      { alarms: { api5xxPercent: 0 } },
      'alarms.api5xxPercent',
      'more than 0 and at most 100 percent',
    ],
    [
      { adminAuth: jwtAuth({ audience: numbered('aud', 51) }) },
      'adminAuth.audience',
      'at most 50',
    ],
    [
      {
        events: {
          targets: [
            {
              ...queueTarget({ 'detail-type': ['Lead Qualified'] }),
              retryPolicy: { maximumRetryAttempts: 186 },
            },
          ],
        },
      },
      'events.targets[0].retryPolicy.maximumRetryAttempts',
      '0 and 185',
    ],
    [
      {
        events: {
          targets: [
            {
              ...queueTarget({ 'detail-type': ['Lead Qualified'] }),
              retryPolicy: { maximumEventAgeSeconds: 60.5 },
            },
          ],
        },
      },
      'events.targets[0].retryPolicy.maximumEventAgeSeconds',
      'whole number between 60 and 86400 seconds',
    ],
    [
      {
        events: { targets: [{ ...oauthTarget({}), rateLimitPerSecond: 301 }] },
      },
      'events.targets[0].rateLimitPerSecond',
      '1 and 300',
    ],
    [
      { adminAuth: jwtAuth({ scopes: numbered('leads:read', 11) }) },
      'adminAuth.scopes',
      'at most 10',
    ],
    [
      { adminAuth: jwtAuth({ writeScopes: numbered('leads:write', 11) }) },
      'adminAuth.writeScopes',
      'at most 10',
    ],
  ])('bounds %j', (values, field, range) => {
    writeStageFile('dev', values);

    const load = () => loadStageConfig('dev', configDir);

    expect(load).toThrow(`${field}: must `);
    expect(load).toThrow(range);
  });

  it('accepts the largest values AWS takes', () => {
    writeStageFile('dev', {
      apiThrottling: { rateLimit: 10_000, burstLimit: 5000 },
      eventRetentionDays: 36_500,
      logRetentionDays: 9999,
      functions: {
        ingest: { memorySize: 10_240, reservedConcurrency: 897 },
        leads: { reservedConcurrency: 1 },
        recycle: { reservedConcurrency: 1 },
        sweep: { reservedConcurrency: 1, timeoutSeconds: 300 },
      },
    });

    const config = loadStageConfig('dev', configDir);

    expect(config.apiThrottling).toEqual({
      rateLimit: 10_000,
      burstLimit: 5000,
    });
    expect(config.eventRetentionDays).toBe(36_500);
    expect(config.logRetentionDays).toBe(9999);
    expect(config.functions.ingest.reservedConcurrency).toBe(897);
  });

  it('accepts max JWT audiences and scopes', () => {
    const adminAuth = jwtAuth({
      audience: numbered('aud', 50),
      scopes: numbered('leads:read', 10),
      writeScopes: numbered('leads:write', 10),
    });
    writeStageFile('dev', { adminAuth });

    expect(loadStageConfig('dev', configDir).adminAuth).toEqual(adminAuth);
  });

  it.each([
    ['https://login.example.com/?tenant=acme', 'query or fragment'],
    ['https://login.example.com/#acme', 'query or fragment'],
    ['https://login.example.com/?', 'query or fragment'],
    ['https://login.example.com/#', 'query or fragment'],
    ['https://admin:secret@login.example.com/', 'user name or password'],
    ['https:login.example.com/', 'start with https://'],
    ['HTTPS://login.example.com/', 'start with https://'],
    ['https://localhost:8443/', 'reachable from the internet'],
    ['https://10.1.2.3/', 'reachable from the internet'],
    ['https://[::1]/', 'reachable from the internet'],
    ['https://[ff02::1]/', 'reachable from the internet'],
  ])('rejects JWT issuer %s', (issuer, reason) => {
    writeStageFile('dev', { adminAuth: jwtAuth({ issuer }) });

    const load = () => loadStageConfig('dev', configDir);

    expect(load).toThrow('adminAuth.issuer: must ');
    expect(load).toThrow(reason);
  });

  it.each([['leads read'], ['leads\tread'], ['"leads"']])(
    'rejects JWT scope %j',
    (scope) => {
      writeStageFile('dev', { adminAuth: jwtAuth({ scopes: [scope] }) });

      const load = () => loadStageConfig('dev', configDir);

      expect(load).toThrow('adminAuth.scopes[0]: must be an OAuth scope token');
    },
  );

  it.each([['leads write'], ['leads\twrite'], ['"leads"']])(
    'rejects JWT write scope %j',
    (scope) => {
      writeStageFile('dev', { adminAuth: jwtAuth({ writeScopes: [scope] }) });

      const load = () => loadStageConfig('dev', configDir);

      expect(load).toThrow(
        'adminAuth.writeScopes[0]: must be an OAuth scope token',
      );
    },
  );

  it('rejects empty JWT write scopes', () => {
    writeStageFile('dev', { adminAuth: jwtAuth({ writeScopes: [] }) });

    const load = () => loadStageConfig('dev', configDir);

    expect(load).toThrow('adminAuth.writeScopes: must list at least one scope');
  });

  it('accepts JWT write scopes beside scopes', () => {
    const adminAuth = jwtAuth({
      scopes: ['leads:read'],
      writeScopes: ['leads:write'],
    });
    writeStageFile('dev', { adminAuth });

    expect(loadStageConfig('dev', configDir).adminAuth).toEqual(adminAuth);
  });

  it('leaves writeScopes unset by default', () => {
    writeStageFile('dev', { adminAuth: jwtAuth({ scopes: ['leads:read'] }) });

    const { adminAuth } = loadStageConfig('dev', configDir);

    expect(adminAuth).not.toHaveProperty('writeScopes');
  });

  it.each([[['leads:write']], [[]], [null]])(
    'rejects writeScopes %j with IAM',
    (writeScopes) => {
      writeStageFile('dev', { adminAuth: { type: 'iam', writeScopes } });

      const load = () => loadStageConfig('dev', configDir);

      expect(load).toThrow(
        'adminAuth.writeScopes: must not be set when type is iam',
      );
      expect(load).not.toThrow('is not a known field');
    },
  );

  it('names the JWT fields beside IAM', () => {
    writeStageFile('dev', {
      adminAuth: { type: 'iam', scopes: ['leads:read'] },
    });

    const load = () => loadStageConfig('dev', configDir);

    expect(load).toThrow(
      'adminAuth.scopes: is not a field of {"type": "iam"}, which takes only type',
    );
    expect(load).toThrow('set type to jwt');
  });

  it('accepts a JWT issuer with a path', () => {
    const issuer =
      'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123';
    writeStageFile('dev', { adminAuth: jwtAuth({ issuer }) });

    const { adminAuth } = loadStageConfig('dev', configDir);

    expect(adminAuth.type).toBe('jwt');
    expect(adminAuth.type === 'jwt' ? adminAuth.issuer : undefined).toBe(
      issuer,
    );
  });

  it('accepts a rate below one request per second', () => {
    writeStageFile('dev', { apiThrottling: { rateLimit: 0.5, burstLimit: 1 } });

    expect(loadStageConfig('dev', configDir).apiThrottling.rateLimit).toBe(0.5);
  });

  it.each([
    '../models/procurement-software.json',
    'models/../../outside.json',
    '/etc/passwd',
  ])('rejects model file %s outside the repository', (modelFile) => {
    writeStageFile('dev', { modelFile });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'modelFile: must be a relative path inside the repository',
    );
  });

  it.each([
    'models/procurement-software.json ',
    ' models/procurement-software.json',
    'models/procurement-software.json\n',
  ])('rejects model file %j with white space around it', (modelFile) => {
    writeStageFile('dev', { modelFile });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'modelFile: must not start or end with white space',
    );
  });

  it('asks for an account id in quotes', () => {
    writeStageFile('dev', { account: 123456789012 });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'account: must be a string of 12 digits in quotes, such as "123456789012", not a number',
    );
  });

  it('accepts a model path that stays inside', () => {
    const modelFile = 'models/../models/./procurement-software.json';
    writeStageFile('dev', { modelFile });

    expect(loadStageConfig('dev', configDir).modelFile).toBe(modelFile);
  });

  it('rejects an event pattern over 2048 characters', () => {
    const personas = Array.from({ length: 150 }, (_, i) => `persona-${i}-x`);
    writeStageFile('dev', {
      events: {
        targets: [queueTarget({ detail: { persona: personas } })],
      },
    });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      /events\.targets\[0\]\.eventPattern: takes 2\d{3} characters as JSON/,
    );
  });

  it('rejects 31 targets that use wildcard', () => {
    writeStageFile('dev', { events: { targets: wildcardTargets(31, 0) } });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      "events.targets: must have at most 30 targets whose eventPattern uses wildcard, EventBridge's limit per event bus, got 31",
    );
  });

  it('accepts 30 wildcard targets among others', () => {
    writeStageFile('dev', { events: { targets: wildcardTargets(30, 5) } });

    expect(loadStageConfig('dev', configDir).events.targets).toHaveLength(35);
  });

  it('accepts a topic in the stage region', () => {
    writeStageFile('dev', {
      region: 'eu-west-1',
      alarms: { topicArns: [TOPIC_ARN] },
    });

    expect(loadStageConfig('dev', configDir).alarms.topicArns).toEqual([
      TOPIC_ARN,
    ]);
  });

  it.each([
    ['cn-north-1', 'arn:aws:sns:cn-north-1:123456789012:alerts', 'aws-cn'],
    [
      'us-gov-west-1',
      'arn:aws:sns:us-gov-west-1:123456789012:alerts',
      'aws-us-gov',
    ],
    ['eu-west-1', 'arn:aws-cn:sns:eu-west-1:123456789012:alerts', 'aws'],
  ])(
    'rejects a topic outside the partition of %s',
    (region, topic, partition) => {
      writeStageFile('dev', { region, alarms: { topicArns: [topic] } });

      const load = () => loadStageConfig('dev', configDir);

      expect(load).toThrow(
        `alarms.topicArns[0]: must be a topic in the partition of the stage region ${region}, arn:${partition}:sns:…`,
      );
    },
  );

  it('accepts a topic in the partition of its region', () => {
    const topic = 'arn:aws-cn:sns:cn-north-1:123456789012:alerts';
    writeStageFile('dev', {
      region: 'cn-north-1',
      alarms: { topicArns: [topic] },
    });

    expect(loadStageConfig('dev', configDir).alarms.topicArns).toEqual([topic]);
  });

  it('rejects topics of two regions without a stage region', () => {
    writeStageFile('dev', {
      alarms: {
        topicArns: [TOPIC_ARN, 'arn:aws:sns:us-east-1:123456789012:alerts'],
      },
    });

    const load = () => loadStageConfig('dev', configDir);

    expect(load).toThrow(
      'alarms.topicArns[1]: must be a topic in the region of alarms.topicArns[0], eu-west-1, not us-east-1',
    );
  });

  it.each([
    'arn:aws:sns:-:123456789012:alerts',
    'arn:aws:sns:eu-west:123456789012:alerts',
    'arn:awsx:sns:eu-west-1:123456789012:alerts',
    'arn:aws-:sns:eu-west-1:123456789012:alerts',
  ])('rejects topic ARN %s', (topic) => {
    writeStageFile('dev', { alarms: { topicArns: [topic] } });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'alarms.topicArns[0]: must be an SNS topic ARN',
    );
  });

  it('accepts any topic region without a stage region', () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:alerts';
    writeStageFile('dev', { alarms: { topicArns: [topic] } });

    expect(loadStageConfig('dev', configDir).alarms.topicArns).toEqual([topic]);
  });

  it('accepts every documented pattern operator', () => {
    const eventPattern = {
      'detail-type': [
        'Lead Qualified',
        { prefix: 'Lead ' },
        { prefix: { 'equals-ignore-case': 'lead ' } },
        { suffix: ' Qualified' },
        { suffix: { 'equals-ignore-case': ' qualified' } },
        { 'equals-ignore-case': 'lead qualified' },
        { wildcard: 'Lead *' },
        { 'anything-but': 'Lead Erased' },
        { 'anything-but': ['Lead Erased', 'Lead Recycled'] },
        { 'anything-but': { prefix: 'Account' } },
        { 'anything-but': { suffix: 'Erased' } },
        { 'anything-but': { 'equals-ignore-case': ['lead erased'] } },
        { 'anything-but': { wildcard: '*Erased' } },
      ],
      detail: {
        score: [
          { numeric: ['>', 80] },
          { numeric: ['>=', 0, '<', 100] },
          { numeric: ['=', 3.5] },
          { 'anything-but': [1, 2] },
        ],
        email: [{ exists: false }, null, ''],
        leadId: [{ cidr: '10.0.0.0/24' }, { cidr: '2001:db8::/32' }],
        reason: [true],
      },
      $or: [
        { detail: { fit: [{ numeric: ['>', 50] }] } },
        { detail: { intent: [1] } },
      ],
    };
    writeStageFile('dev', { events: { targets: [queueTarget(eventPattern)] } });

    expect(
      loadStageConfig('dev', configDir).events.targets[0]?.eventPattern,
    ).toEqual(eventPattern);
  });

  it('accepts escaped wildcard characters', () => {
    const eventPattern = {
      detail: {
        leadId: [
          { wildcard: 'lead\\**' },
          { wildcard: 'C:\\\\*' },
          { 'anything-but': { wildcard: '*\\*' } },
        ],
      },
    };
    writeStageFile('dev', { events: { targets: [queueTarget(eventPattern)] } });

    expect(
      loadStageConfig('dev', configDir).events.targets[0]?.eventPattern,
    ).toEqual(eventPattern);
  });

  it('accepts numbers at EventBridge limits', () => {
    const eventPattern = {
      detail: {
        score: [
          { numeric: ['>=', -5e9, '<=', 5e9] },
          { numeric: ['>', 4_999_999_999.999_999] },
          { numeric: ['=', 0.123_456] },
          { 'anything-but': [-5e9, 5e9, 0.000_001] },
        ],
      },
    };
    writeStageFile('dev', { events: { targets: [queueTarget(eventPattern)] } });

    expect(
      loadStageConfig('dev', configDir).events.targets[0]?.eventPattern,
    ).toEqual(eventPattern);
  });

  it.each([
    [
      'a misspelt detail field',
      { detail: { scroe: [{ numeric: ['>', 80] }] } },
      'eventPattern.detail.scroe: is not a field',
    ],
    [
      'a misspelt envelope field',
      { detail_type: ['Lead Qualified'] },
      'eventPattern.detail_type: is not a field',
    ],
    [
      'a misspelt detail type',
      { 'detail-type': ['Lead Qualifed'] },
      'eventPattern.detail-type[0]: is not a value the engine sends',
    ],
    [
      'an unknown status',
      { detail: { status: ['qualified'] } },
      'eventPattern.detail.status[0]: is not a value the engine sends',
    ],
    [
      'a field inside a number',
      { detail: { score: { value: [80] } } },
      'eventPattern.detail.score.value: is not a field: detail.score is a value',
    ],
    [
      'a misspelt field in $or',
      { $or: [{ detail: { fit: [1] } }, { detail: { intnet: [1] } }] },
      'eventPattern.$or[1].detail.intnet: is not a field',
    ],
  ])('rejects %s in an event pattern', (_name, eventPattern, message) => {
    writeStageFile('dev', { events: { targets: [queueTarget(eventPattern)] } });

    expect(() => loadStageConfig('dev', configDir)).toThrow(message);
  });

  it('accepts fields of every detail type', () => {
    const eventPattern = {
      'detail-type': ['Lead Qualified', 'Account Qualified', 'Lead Erased'],
      detail: {
        status: ['mql', 'recycled', 'engaged'],
        topContributions: { ruleId: [{ prefix: 'pricing' }] },
        rolesMissing: ['finance-leadership'],
        leadIdSha256: [{ exists: true }],
        email: [{ exists: false }],
      },
    };
    writeStageFile('dev', { events: { targets: [queueTarget(eventPattern)] } });

    expect(
      loadStageConfig('dev', configDir).events.targets[0]?.eventPattern,
    ).toEqual(eventPattern);
  });

  it('accepts a 495-character API destination description', () => {
    const description = 'x'.repeat(495);
    writeStageFile('dev', {
      events: {
        targets: [
          {
            type: 'api-destination',
            id: 'crm',
            description,
            eventPattern: { 'detail-type': ['Lead Qualified'] },
            endpoint: 'https://crm.example.com/hooks',
            auth: {
              type: 'api-key',
              headerName: 'x-api-key',
              secretName: 'crm/key',
            },
          },
        ],
      },
    });

    expect(
      loadStageConfig('dev', configDir).events.targets[0]?.description,
    ).toBe(description);
  });

  /** Returns an API destination target that authorizes with `oauth`. */
  function oauthTarget(oauth: Record<string, unknown>) {
    return {
      type: 'api-destination',
      id: 'crm',
      description: 'CRM.',
      eventPattern: { 'detail-type': ['Lead Qualified'] },
      endpoint: 'https://crm.example.com/hooks',
      auth: {
        type: 'oauth-client-credentials',
        authorizationEndpoint: 'https://login.example.com/oauth/token',
        clientId: 'mql-engine',
        clientSecretName: 'crm/client_secret',
        ...oauth,
      },
    };
  }

  it.each([
    ['512 ASCII characters', 'c'.repeat(512)],
    ['512 emoji', '🔑'.repeat(512)],
    ['tabs and spaces', '\tmql engine\t'],
  ])('accepts a client ID of %s', (_case, clientId) => {
    writeStageFile('dev', { events: { targets: [oauthTarget({ clientId })] } });

    const [target] = loadStageConfig('dev', configDir).events.targets;

    expect(target).toMatchObject({ auth: { clientId } });
  });

  it('accepts * in an endpoint query', () => {
    const endpoint = 'https://crm.example.com/hooks?fields=*';
    writeStageFile('dev', {
      events: { targets: [{ ...oauthTarget({}), endpoint }] },
    });

    const [target] = loadStageConfig('dev', configDir).events.targets;

    expect(target).toMatchObject({ endpoint });
  });

  it('accepts scopes of 512 characters joined', () => {
    const scopes = ['a'.repeat(255), 'b'.repeat(256)];
    writeStageFile('dev', { events: { targets: [oauthTarget({ scopes })] } });

    const [target] = loadStageConfig('dev', configDir).events.targets;

    expect(target).toMatchObject({ auth: { scopes } });
  });

  it('rejects an unknown field', () => {
    writeStageFile('dev', { reviewShard: 4 });

    expect(() => loadStageConfig('dev', configDir)).toThrow(/reviewShard\b/);
  });

  it('lists settable fields for an unknown field', () => {
    writeStageFile('dev', { sweepRateMinute: 5 });

    const load = () => loadStageConfig('dev', configDir);

    expect(load).toThrow(
      /sweepRateMinute: is not a known field; allowed fields are account, /,
    );
    expect(load).not.toThrow(/stageName/);
  });

  it('prints one invalid field per line', () => {
    writeStageFile('dev', { reviewShards: 0, sweepRateMinutes: 0 });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      /\n {2}reviewShards: .*\n {2}sweepRateMinutes: /,
    );
  });

  it('rejects a repeated CORS origin', () => {
    writeStageFile('dev', {
      corsAllowedOrigins: ['https://a.example.com', 'https://a.example.com'],
    });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'corsAllowedOrigins[1]: must not repeat the origin at index 0. Remove one of them.',
    );
  });

  it('names a misspelled nested field', () => {
    writeStageFile('dev', { alarms: { outboxAgeMinute: 30 } });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'alarms.outboxAgeMinute: is not a known field; allowed fields are topicArns, emails, outboxAgeMinutes, api5xxPercent. Remove it or correct its spelling.',
    );
  });

  it('rejects an inline digest list', () => {
    writeStageFile('dev', {
      writeKeyDigests: [{ sourceId: 'web', sha256: 'a'.repeat(64) }],
    });

    expect(() => loadStageConfig('dev', configDir)).toThrow(/writeKeyDigests/);
  });

  it('rejects a __proto__ field', () => {
    writeFileSync(
      join(configDir, 'dev.json'),
      '{"__proto__": {"protectData": true}}',
    );

    expect(() => loadStageConfig('dev', configDir)).toThrow(/__proto__/);
  });

  it('rejects prod without data protection', () => {
    writeStageFile('prod', { ...PROD_ALARMS, protectData: false });

    expect(() => loadStageConfig('prod', configDir)).toThrow(
      'protectData: must be true in the prod stage',
    );
  });

  it('rejects prod without alarm actions', () => {
    writeStageFile('prod', {});

    expect(() => loadStageConfig('prod', configDir)).toThrow(
      'alarms: must set topicArns or emails in the prod stage',
    );
  });

  it('builds a stage that has no file from its defaults', () => {
    const config = loadStageConfig('alice', configDir);

    expect(config.stageName).toBe('alice');
    expect(config.logRetentionDays).toBe(14);
  });

  it('rejects a stage name in the file', () => {
    writeStageFile('dev', { stageName: 'prod' });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'stageName: must not be set',
    );
  });

  it.each(['Prod', '1st', 'a'.repeat(21), 'dev-', 'dev_1', '', 'dév', 'a b'])(
    'rejects stage name %s',
    (stage) => {
      writeStageFile(stage, {});

      expect(() => loadStageConfig(stage, configDir)).toThrow('stageName: ');
    },
  );

  it('rejects a stage name that leaves the directory', () => {
    writeStageFile('outside', { unknownField: true });
    const stagesDir = join(configDir, 'stages');
    const load = () => loadStageConfig('../outside', stagesDir);

    expect(load).toThrow('must be 1 to 20 lower-case letters');
    expect(load).not.toThrow('unknownField');
  });

  it('reads a file with a byte order mark', () => {
    const file = join(configDir, 'dev.json');
    writeFileSync(file, `\uFEFF${JSON.stringify({ reviewShards: 8 })}`);

    expect(loadStageConfig('dev', configDir).reviewShards).toBe(8);
  });

  it('rejects a file that is not UTF-8', () => {
    const file = join(configDir, 'dev.json');
    // "Einkauf" in Latin-1 spells ä as the single byte 0xE4.
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('{"events": {"targets": [{"description": "Eink'),
        Buffer.from([0xe4]),
        Buffer.from('ufer"}]}}'),
      ]),
    );

    const load = () => loadStageConfig('dev', configDir);

    expect(load).toThrow(`Stage configuration file ${file} is not UTF-8`);
    expect(load).toThrow('Save the file as UTF-8');
  });

  it('rejects a key set twice', () => {
    writeFileSync(
      join(configDir, 'dev.json'),
      '{"apiThrottling": {"rateLimit": 10, "rateLimit": 20}}',
    );

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'apiThrottling.rateLimit: is set on line 1 and again on line 1',
    );
  });

  it('rejects a __proto__ field in an event pattern', () => {
    writeFileSync(
      join(configDir, 'dev.json'),
      JSON.stringify({
        events: {
          targets: [queueTarget({ 'detail-type': ['Lead Qualified'] })],
        },
      }).replace('"detail-type"', '"__proto__": ["x"], "detail-type"'),
    );

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'events.targets[0].eventPattern.__proto__: is not supported',
    );
  });

  it('names the file of invalid JSON', () => {
    writeFileSync(join(configDir, 'dev.json'), '{ "reviewShards": ');

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      join(configDir, 'dev.json'),
    );
  });

  it('locates a trailing comma in the file', () => {
    writeFileSync(join(configDir, 'dev.json'), '{\n  "reviewShards": 8,\n}');

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      "not valid JSON (line 3, column 1: trailing comma before '}')",
    );
  });

  it('names a long sweep timeout next to another error', () => {
    writeStageFile('dev', {
      functions: { sweep: { timeoutSeconds: 900 } },
      logLevel: 'TRACE',
    });

    const load = () => loadStageConfig('dev', configDir);

    expect(load).toThrow('logLevel: must be one of');
    expect(load).toThrow(
      'functions.sweep.timeoutSeconds: must not exceed the sweep interval',
    );
  });

  it('names a topic region next to the topic count', () => {
    const topics = numbered('arn:aws:sns:eu-west-1:123456789012:t', 4);
    writeStageFile('dev', {
      region: 'eu-west-1',
      alarms: {
        topicArns: [...topics, 'arn:aws:sns:us-east-1:123456789012:x'],
        emails: ['a@example.com'],
      },
    });

    const load = () => loadStageConfig('dev', configDir);

    expect(load).toThrow('alarms.topicArns: must list at most 5 topics');
    expect(load).toThrow(
      'alarms.topicArns[4]: must be a topic in the stage region eu-west-1, not us-east-1',
    );
  });

  it('rejects a target without type or id', () => {
    const cases: Array<{ target: Record<string, unknown>; field: string }> = [
      { target: {}, field: 'events.targets[0].type' },
      { target: { type: 'bogus' }, field: 'events.targets[0].type' },
      { target: { id: 'crm' }, field: 'events.targets[0].type' },
    ];
    for (const { target, field } of cases) {
      writeStageFile('dev', { events: { targets: [target] } });

      const load = () => loadStageConfig('dev', configDir);

      expect(load, JSON.stringify(target)).toThrow(ConfigurationError);
      expect(load, JSON.stringify(target)).toThrow(field);
    }
  });

  it.each([
    [
      'ops@bücher.example',
      'must be an email address with an ASCII domain; write bücher.example in its punycode form: ops@xn--bcher-kva.example',
    ],
    ['ops at example', 'must be an email address, such as ops@acme.example'],
    ['jörg@acme.example', 'must be an email address, such as ops@acme.example'],
  ])('explains the invalid alarm email %s', (email, message) => {
    writeStageFile('dev', { alarms: { emails: [email] } });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      `alarms.emails[0]: ${message}`,
    );
  });

  it('accepts alarm email with punycode domain', () => {
    writeStageFile('dev', {
      alarms: { emails: ['ops@xn--bcher-kva.example'] },
    });

    const { alarms } = loadStageConfig('dev', configDir);
    expect(alarms.emails).toEqual(['ops@xn--bcher-kva.example']);
  });

  it('names every prod error at once', () => {
    writeStageFile('prod', {
      protectData: false,
      logLevel: 'TRACE',
      functions: {
        ingest: { reservedConcurrency: 800 },
        leads: { reservedConcurrency: 200 },
        sweep: { memorySize: 1 },
      },
      alarms: { emails: ['a@example.com', 'A@example.com', 'bad'] },
      corsAllowedOrigins: ['*', 'https://a.example.com', 'nope'],
      events: {
        targets: [
          queueTarget({ 'detail-type': 'Lead Qualified' }),
          queueTarget({ 'detail-type': ['Lead Qualified'] }),
        ],
      },
    });

    const load = () => loadStageConfig('prod', configDir);

    expect(load).toThrow('protectData: must be true in the prod stage');
    expect(load).toThrow('functions: must not reserve 1003 executions');
    expect(load).toThrow('alarms.emails[1]: must not repeat alarms.emails[0]');
    expect(load).toThrow('corsAllowedOrigins: must not list other origins');
    expect(load).toThrow('events.targets[1].id: must differ from');
  });

  it('skips sweep check on invalid rate', () => {
    writeStageFile('dev', {
      sweepRateMinutes: 'five',
      functions: { sweep: { timeoutSeconds: 900 } },
    });

    const load = () => loadStageConfig('dev', configDir);

    expect(load).toThrow('sweepRateMinutes: must be a whole number');
    expect(load).not.toThrow('functions.sweep.timeoutSeconds');
  });

  it.each([
    ['reviewShards', { reviewShards: 1e300, eventRetentionDays: 1e300 }],
    ['eventRetentionDays', { reviewShards: 1e300, eventRetentionDays: 1e300 }],
    ['sweepRateMinutes', { sweepRateMinutes: 1e300 }],
  ])('prints the %s range once for 1e300', (field, values) => {
    writeStageFile('dev', values);

    let error: unknown;
    try {
      loadStageConfig('dev', configDir);
    } catch (caught) {
      error = caught;
    }
    const lines = (error as ConfigurationError).issues.filter((issue) =>
      issue.startsWith(`${field}: `),
    );

    expect(lines).toHaveLength(1);
  });

  it('raises ConfigurationError listing issues', () => {
    writeStageFile('dev', { reviewShards: 0, sweepRateMinutes: 0 });

    let error: unknown;
    try {
      loadStageConfig('dev', configDir);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).issues).toHaveLength(2);
  });
});

describe('loadScoringModel', () => {
  it('embeds the validated document', () => {
    const model = loadScoringModel(join(PROJECT_ROOT, DEFAULT_MODEL_FILE));
    const embedded = JSON.parse(model.json) as ModelDocument;

    // The model file has no quarantine section, so these are defaults.
    expect(embedded.quarantine.emailClicks.burstClicksPerSecond).toBe(3);
    expect(embedded.quarantine.emailOpens.events.length).toBeGreaterThan(0);
    expect(compileValidatedModel(embedded).version).toBe(model.version);
  });

  it('explains a model file without read permission', () => {
    const file = join(configDir, 'model.json');
    chmodSync(configDir, 0o755);
    writeFileSync(file, '{}');
    chmodSync(file, 0o000);

    const message = errorWithoutRoot(
      `loadScoringModel(${JSON.stringify(file)})`,
    );

    expect(message).toContain(
      `ConfigurationError: Scoring model file ${file} cannot be read: permission denied.`,
    );
    expect(message).not.toContain('EACCES');
  });

  it('rejects /dev/zero at once', () => {
    expect(() => loadScoringModel('/dev/zero')).toThrow(ConfigurationError);
    expect(() => loadScoringModel('/dev/zero')).toThrow(
      'Scoring model file /dev/zero is not a regular file',
    );
  });
});
