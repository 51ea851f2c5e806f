import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lib/configuration-error.js';
import {
  addStageStack,
  PROJECT_ROOT,
  synthesizeStageApp,
} from '../../lib/mql-engine-app.js';
import { DEFAULT_MODEL_FILE } from '../../lib/stage-config.js';
import { createApp } from './support/synthesize.js';

const PROD_ALARMS = { alarms: { emails: ['ops@example.com'] } };
const SALES_QUEUE_TARGET = {
  type: 'queue',
  id: 'sales',
  description: 'Sales.',
  eventPattern: { 'detail-type': ['Lead Qualified'] },
};
/** An API destination target without its auth. */
const CRM_TARGET = {
  type: 'api-destination',
  id: 'crm',
  description: 'CRM.',
  eventPattern: { 'detail-type': ['Lead Qualified'] },
  endpoint: 'https://crm.example.com/hooks/mql',
};
const CRM_API_KEY = {
  type: 'api-key',
  headerName: 'x-api-key',
  secretName: 'crm/api-key',
};
const CRM_OAUTH = {
  type: 'oauth-client-credentials',
  authorizationEndpoint: 'https://login.example.com/oauth/token',
  clientId: 'mql-engine',
  clientSecretName: 'crm/client_secret',
};

let workDir: string;

beforeEach(() => {
  workDir = mkdtempSync(join(tmpdir(), 'mql-engine-synth-'));
});

afterEach(() => {
  rmSync(workDir, { recursive: true, force: true });
});

/**
 * Writes `<stage>.json` to the work dir and builds that stage with the
 * work dir as the repository root, so a modelFile names a file in it.
 * Every stage here fails before anything is bundled from the root.
 */
function buildStage(stage: string, values: Record<string, unknown>) {
  writeFileSync(join(workDir, `${stage}.json`), JSON.stringify(values));
  return () =>
    addStageStack(createApp(stage), {
      projectRoot: workDir,
      configDir: workDir,
    });
}

/** The model file that defaultModelWith writes, relative to the work dir. */
const MODEL_FILE = 'model.json';

interface ModelDocument {
  description?: string;
  fit: { rules: Array<Record<string, unknown>> };
}

/** Writes the default model with one change and returns its path. */
function defaultModelWith(change: (model: ModelDocument) => void): string {
  const path = join(PROJECT_ROOT, DEFAULT_MODEL_FILE);
  const model = JSON.parse(readFileSync(path, 'utf8')) as ModelDocument;
  change(model);
  const file = join(workDir, MODEL_FILE);
  writeFileSync(file, JSON.stringify(model));
  return file;
}

describe('addStageStack', () => {
  it('fails synthesis when reviewShards is zero', () => {
    const build = buildStage('dev', { reviewShards: 0 });

    expect(build).toThrow(
      /Invalid configuration of stage "dev"[\s\S]*reviewShards/,
    );
  });

  it.each([
    [
      'the admin JWT issuer is not https',
      {
        adminAuth: {
          type: 'jwt',
          issuer: 'http://login.example.com/',
          audience: ['mql-engine'],
        },
      },
      'adminAuth.issuer: must be an https URL',
    ],
    [
      'the ingest timeout outlasts API Gateway',
      { functions: { ingest: { timeoutSeconds: 30 } } },
      'functions.ingest.timeoutSeconds: ',
    ],
    [
      'the sweep outlasts its interval',
      { sweepRateMinutes: 2, functions: { sweep: { timeoutSeconds: 180 } } },
      'functions.sweep.timeoutSeconds: must not exceed the sweep interval',
    ],
    [
      'a reserved concurrency is zero',
      { functions: { leads: { reservedConcurrency: 0 } } },
      'functions.leads.reservedConcurrency: ',
    ],
    [
      'an alarm email is invalid',
      { alarms: { emails: ['ops'] } },
      'alarms.emails[0]: must be an email address',
    ],
    [
      'the write key secret name is invalid',
      { writeKeySecretName: 'write keys' },
      'writeKeySecretName: must be 1 to 512',
    ],
    ['the log level is unknown', { logLevel: 'TRACE' }, 'logLevel: '],
    [
      'a target id ends in -dlq',
      {
        events: {
          targets: [
            { ...SALES_QUEUE_TARGET },
            { ...SALES_QUEUE_TARGET, id: 'sales-dlq' },
          ],
        },
      },
      'events.targets[1].id: must not end in -dlq',
    ],
    [
      'an alarm email is listed twice',
      { alarms: { emails: ['ops@example.com', 'Ops@example.com'] } },
      'alarms.emails[1]: must not repeat alarms.emails[0]',
    ],
    [
      'an alarm topic is listed twice',
      {
        alarms: {
          topicArns: [
            'arn:aws:sns:eu-west-1:123456789012:alerts',
            'arn:aws:sns:eu-west-1:123456789012:alerts',
          ],
        },
      },
      'alarms.topicArns[1]: must not repeat alarms.topicArns[0]',
    ],
    [
      'a connection secret name contains a colon',
      {
        events: {
          targets: [
            {
              ...CRM_TARGET,
              auth: {
                type: 'api-key',
                headerName: 'x-api-key',
                secretName: 'crm:key',
              },
            },
          ],
        },
      },
      'events.targets[0].auth.secretName: must be 1 to 512',
    ],
    [
      'a client secret name contains a colon',
      {
        events: {
          targets: [
            {
              ...CRM_TARGET,
              auth: {
                type: 'oauth-client-credentials',
                authorizationEndpoint: 'https://login.example.com/token',
                clientId: 'mql-engine',
                clientSecretName: 'crm:secret',
              },
            },
          ],
        },
      },
      'events.targets[0].auth.clientSecretName: must be 1 to 512',
    ],
    [
      'an alarm topic is in another region',
      {
        region: 'eu-west-1',
        alarms: {
          topicArns: [
            'arn:aws:sns:eu-west-1:123456789012:alerts',
            'arn:aws:sns:us-east-1:123456789012:alerts',
          ],
        },
      },
      'alarms.topicArns[1]: must be a topic in the stage region eu-west-1',
    ],
  ])('fails synthesis when %s', (_case, values, message) => {
    const build = buildStage('dev', values);

    expect(build).toThrow(message);
  });

  it.each([
    ['crm1', 'crm-1'],
    ['a-b', 'a--b'],
    ['sales-eu', 'sales--eu'],
  ])('fails synthesis when target ids %s and %s collide', (first, second) => {
    const build = buildStage('dev', {
      events: {
        targets: [
          { ...SALES_QUEUE_TARGET, id: first },
          { ...SALES_QUEUE_TARGET, id: second },
        ],
      },
    });

    expect(build).toThrow(
      `events.targets[1].id: must differ from events.targets[0].id ${first} in more than hyphens`,
    );
  });

  it('fails synthesis when a number is written as a string', () => {
    const build = buildStage('dev', {
      apiThrottling: { rateLimit: '50', burstLimit: 100 },
    });

    expect(build).toThrow(
      "apiThrottling.rateLimit: must be a number more than 0 and at most 10000 requests per second, API Gateway's default account limit per Region, not a string; write the number without quotes",
    );
  });

  it('fails synthesis when two targets share an id, naming both', () => {
    const build = buildStage('dev', {
      events: {
        targets: [
          { ...SALES_QUEUE_TARGET, id: 'crm' },
          { ...SALES_QUEUE_TARGET, id: 'leads' },
          { ...SALES_QUEUE_TARGET, id: 'crm' },
        ],
      },
    });

    expect(build).toThrow(
      'events.targets[2].id: must differ from events.targets[0].id, which is also crm. Choose another id.',
    );
  });

  it('fails synthesis when the endpoint carries credentials', () => {
    const build = buildStage('dev', {
      events: {
        targets: [
          {
            ...CRM_TARGET,
            endpoint: 'https://user:hunter2@crm.example.com/hooks',
            auth: CRM_API_KEY,
          },
        ],
      },
    });

    expect(build).toThrow(
      'events.targets[0].endpoint: must not contain a user name or password',
    );
    expect(build).not.toThrow('hunter2');
  });

  it('fails synthesis when the endpoint is no URL', () => {
    const build = buildStage('dev', {
      events: {
        targets: [
          {
            ...CRM_TARGET,
            endpoint: 'crm.example.com/hooks',
            auth: CRM_API_KEY,
          },
        ],
      },
    });

    expect(build).toThrow('events.targets[0].endpoint: must be an https URL');
  });

  it.each([
    'https://127.0.0.1/hooks',
    'https://127.8.9.10/hooks',
    'https://2130706433/hooks',
    'https://[::1]/hooks',
    'https://[::ffff:127.0.0.1]/hooks',
    'https://localhost/hooks',
    'https://LOCALHOST./hooks',
    'https://api.localhost/hooks',
    'https://10.0.0.5/hooks',
    'https://172.16.0.1/hooks',
    'https://172.31.255.255/hooks',
    'https://192.168.1.1/hooks',
    'https://169.254.169.254/latest',
    'https://[fc00::1]/hooks',
    'https://[fd12:3456::1]/hooks',
    'https://[fe80::1]/hooks',
    'https://100.64.0.1/hooks',
    'https://100.127.255.254/hooks',
    'https://224.0.0.1/hooks',
    'https://255.255.255.255/hooks',
  ])('fails synthesis when the endpoint is %s', (endpoint) => {
    const build = buildStage('dev', {
      events: {
        targets: [{ ...CRM_TARGET, endpoint, auth: CRM_API_KEY }],
      },
    });

    expect(build).toThrow(
      'events.targets[0].endpoint: must not be a loopback, private, link-local, multicast or reserved address',
    );
  });

  it.each([
    ['a brace', 'https://crm.example.com/hooks/{leadId}'],
    ['a fragment', 'https://crm.example.com/hooks#mql'],
    ['a non-ASCII letter', 'https://crm.example.com/höoks'],
    ['an invalid escape', 'https://crm.example.com/hooks%zz'],
    ['an IPv6 address', 'https://[2001:db8::1]/hooks'],
    ['2049 characters', `https://crm.example.com/${'a'.repeat(2025)}`],
  ])('fails synthesis when the endpoint has %s', (_case, endpoint) => {
    const build = buildStage('dev', {
      events: {
        targets: [{ ...CRM_TARGET, endpoint, auth: CRM_API_KEY }],
      },
    });

    expect(build).toThrow(
      'events.targets[0].endpoint: must be at most 2048 characters of letters, digits,',
    );
  });

  it.each([
    'https://crm.example.com/leads/*/events',
    'https://crm.example.com/hooks/*',
  ])('fails synthesis when the endpoint path is %s', (endpoint) => {
    const build = buildStage('dev', {
      events: {
        targets: [{ ...CRM_TARGET, endpoint, auth: CRM_API_KEY }],
      },
    });

    expect(build).toThrow(
      'events.targets[0].endpoint: must not contain * in its path',
    );
  });

  it.each([
    ['endpoint', 'https:crm.example.com/hooks'],
    ['endpoint', 'HTTPS://crm.example.com/hooks'],
    ['auth.authorizationEndpoint', 'https:login.example.com/token'],
  ])('fails synthesis when %s is %s', (field, url) => {
    const target =
      field === 'endpoint'
        ? { ...CRM_TARGET, endpoint: url, auth: CRM_API_KEY }
        : { ...CRM_TARGET, auth: { ...CRM_OAUTH, authorizationEndpoint: url } };
    const build = buildStage('dev', { events: { targets: [target] } });

    expect(build).toThrow(
      `events.targets[0].${field}: must start with https:// in lower case`,
    );
  });

  it('fails synthesis when EventBridge rejects the token endpoint', () => {
    const build = buildStage('dev', {
      events: {
        targets: [
          {
            ...CRM_TARGET,
            auth: {
              type: 'oauth-client-credentials',
              authorizationEndpoint: 'https://login.example.com/oauth/token#',
              clientId: 'mql-engine',
              clientSecretName: 'crm/client_secret',
            },
          },
        ],
      },
    });

    expect(build).toThrow(
      'events.targets[0].auth.authorizationEndpoint: must be at most 2048 characters',
    );
  });

  it('fails synthesis when the token endpoint is private', () => {
    const build = buildStage('dev', {
      events: {
        targets: [
          {
            ...CRM_TARGET,
            auth: {
              type: 'oauth-client-credentials',
              authorizationEndpoint: 'https://192.168.0.10/token',
              clientId: 'mql-engine',
              clientSecretName: 'crm/client_secret',
            },
          },
        ],
      },
    });

    expect(build).toThrow(
      'events.targets[0].auth.authorizationEndpoint: must not be a loopback',
    );
  });

  it.each([
    [
      { detail: { score: [{ numeric: ['>', 'eighty'] }] } },
      'detail.score[0].numeric',
    ],
    [
      { detail: { score: [{ numeric: ['>', 80, '>', 90] }] } },
      'detail.score[0].numeric',
    ],
    [
      { detail: { score: [{ numeric: ['~', 80] }] } },
      'detail.score[0].numeric',
    ],
    [{ 'detail-type': [{ 'bogus-operator': 1 }] }, 'detail-type[0]'],
    [{ 'detail-type': [{ prefix: 'Lead', suffix: 'ed' }] }, 'detail-type[0]'],
    [{ 'detail-type': [['nested']] }, 'detail-type[0]'],
    [
      { 'detail-type': [{ 'anything-but': [] }] },
      'detail-type[0].anything-but',
    ],
    [
      { 'detail-type': [{ 'anything-but': ['a', 1] }] },
      'detail-type[0].anything-but',
    ],
    [
      { 'detail-type': [{ 'anything-but': { numeric: ['>', 1] } }] },
      'detail-type[0].anything-but',
    ],
    [{ detail: { email: [{ exists: 'yes' }] } }, 'detail.email[0].exists'],
    [{ 'detail-type': [{ prefix: 7 }] }, 'detail-type[0].prefix'],
    [
      { 'detail-type': [{ prefix: { 'equals-ignore-case': 7 } }] },
      'detail-type[0].prefix',
    ],
    [
      { 'detail-type': [{ 'equals-ignore-case': ['a'] }] },
      'detail-type[0].equals-ignore-case',
    ],
    [{ 'detail-type': [{ wildcard: 'Lead**' }] }, 'detail-type[0].wildcard'],
    [{ 'detail-type': [{ wildcard: 'Lead\\d*' }] }, 'detail-type[0].wildcard'],
    [{ 'detail-type': [{ wildcard: 'Lead *\\' }] }, 'detail-type[0].wildcard'],
    [
      { 'detail-type': [{ 'anything-but': { wildcard: 'Lead**' } }] },
      'detail-type[0].anything-but.wildcard',
    ],
    [{ detail: { ip: [{ cidr: '10.0.0.0' }] } }, 'detail.ip[0].cidr'],
    [{ 'detail-type': ['Lead Qualified'], detail: {} }, 'detail'],
    [{ $or: [{ detail: { score: [1] } }] }, '$or'],
    [{ $or: 'yes' }, '$or'],
    [
      { detail: { score: [{ numeric: ['>', 90, '<', 10] }] } },
      'detail.score[0].numeric',
    ],
    [
      { detail: { score: [{ numeric: ['>=', 10, '<=', 10] }] } },
      'detail.score[0].numeric',
    ],
    [
      { detail: { score: [{ numeric: ['>', 6e9] }] } },
      'detail.score[0].numeric',
    ],
    [
      { detail: { score: [{ numeric: ['=', 0.1234567] }] } },
      'detail.score[0].numeric',
    ],
    [
      { detail: { score: [{ 'anything-but': [1, 1e-7] }] } },
      'detail.score[0].anything-but',
    ],
    [
      { detail: { leadId: [{ 'anything-but': { prefix: '' } }] } },
      'detail.leadId[0].anything-but',
    ],
    [
      { detail: { leadId: [{ 'anything-but': { suffix: '' } }] } },
      'detail.leadId[0].anything-but',
    ],
  ])('fails synthesis when the event pattern is %j', (eventPattern, field) => {
    const build = buildStage('dev', {
      events: { targets: [{ ...SALES_QUEUE_TARGET, eventPattern }] },
    });

    expect(build).toThrow(`events.targets[0].eventPattern.${field}: `);
  });

  it('fails synthesis when a header name has a control character', () => {
    const build = buildStage('dev', {
      events: {
        targets: [
          {
            ...CRM_TARGET,
            auth: { ...CRM_API_KEY, headerName: 'x-api\r\nkey' },
          },
        ],
      },
    });

    expect(build).toThrow('events.targets[0].auth.headerName: must be');
  });

  it.each([
    [
      'a client ID has 513 characters',
      { clientId: 'a'.repeat(513) },
      'events.targets[0].auth.clientId: must be 1 to 512 characters, the limit of EventBridge, but has 513',
    ],
    [
      'a client ID has 513 emoji',
      { clientId: '🔑'.repeat(513) },
      'events.targets[0].auth.clientId: must be 1 to 512 characters, the limit of EventBridge, but has 513',
    ],
    [
      'the client ID is empty',
      { clientId: '' },
      'events.targets[0].auth.clientId: must be 1 to 512 characters, the limit of EventBridge, but has 0',
    ],
    [
      'a client ID contains a colon',
      { clientId: 'tenant:mql-engine' },
      'events.targets[0].auth.clientId: must not contain a colon',
    ],
    [
      'a client ID contains a line break',
      { clientId: 'mql-engine\n' },
      'events.targets[0].auth.clientId: must not contain a colon or a control character other than tab',
    ],
    [
      'a client ID is only white space',
      { clientId: ' \t ' },
      'events.targets[0].auth.clientId: must not be only white space',
    ],
    [
      'a scope contains a space',
      { scopes: ['events.write leads.read'] },
      'events.targets[0].auth.scopes[0]: must be an OAuth scope token',
    ],
    [
      'a scope contains a quote',
      { scopes: ['events"write'] },
      'events.targets[0].auth.scopes[0]: must be an OAuth scope token',
    ],
    [
      'a scope is not ASCII',
      { scopes: ['événements'] },
      'events.targets[0].auth.scopes[0]: must be an OAuth scope token',
    ],
    [
      'the scopes exceed 512 characters',
      { scopes: ['a'.repeat(256), 'b'.repeat(256)] },
      "events.targets[0].auth.scopes: must be at most 512 characters when joined by spaces, the limit of a connection's body parameter, but are 513",
    ],
  ])('fails synthesis when %s', (_case, auth, message) => {
    const build = buildStage('dev', {
      events: {
        targets: [{ ...CRM_TARGET, auth: { ...CRM_OAUTH, ...auth } }],
      },
    });

    expect(build).toThrow(message);
  });

  it('fails synthesis when a header name is too long', () => {
    const build = buildStage('dev', {
      events: {
        targets: [
          {
            ...CRM_TARGET,
            auth: { ...CRM_API_KEY, headerName: 'x'.repeat(513) },
          },
        ],
      },
    });

    expect(build).toThrow(
      'events.targets[0].auth.headerName: must be an HTTP header name: 1 to 512',
    );
  });

  it('fails synthesis when an API destination description is too long', () => {
    const build = buildStage('dev', {
      events: {
        targets: [
          { ...CRM_TARGET, description: 'x'.repeat(496), auth: CRM_API_KEY },
        ],
      },
    });

    expect(build).toThrow('events.targets[0].description: ');
  });

  it('fails synthesis when prod has no alarm action', () => {
    const build = buildStage('prod', {});

    expect(build).toThrow('alarms: must set topicArns or emails');
  });

  it('fails synthesis when prod is unprotected', () => {
    const build = buildStage('prod', { ...PROD_ALARMS, protectData: false });

    expect(build).toThrow('protectData: must be true in the prod stage');
  });

  it('fails synthesis when the stage name is invalid', () => {
    const build = buildStage('Prod', {});

    expect(build).toThrow('stageName: must be 1 to 20 lower-case letters');
  });

  it('fails synthesis when the stage context is not a string', () => {
    const app = createApp('dev');
    app.node.setContext('stage', 42);

    expect(() => addStageStack(app, { configDir: workDir })).toThrow(
      'Invalid stage context',
    );
  });

  it('fails synthesis when a model field is invalid', () => {
    const modelFile = defaultModelWith((model) => {
      const [firstRule] = model.fit.rules;
      if (firstRule !== undefined) firstRule.points = 'high';
    });
    const build = buildStage('dev', { modelFile: MODEL_FILE });

    expect(build).toThrow(`Invalid scoring model ${modelFile}:`);
    expect(build).toThrow('fit.rules[0].points: ');
  });

  it('fails synthesis when the model is too large', () => {
    defaultModelWith((model) => {
      model.description = 'x'.repeat(130_000);
    });
    const build = buildStage('dev', { modelFile: MODEL_FILE });

    expect(build).toThrow(
      /is too large to embed: its compact JSON takes 1\d{5} bytes and must stay under 120000/,
    );
  });

  it('fails synthesis when the model is not JSON', () => {
    const modelFile = join(workDir, 'model.json');
    writeFileSync(modelFile, '{ "name": ');
    const build = buildStage('dev', { modelFile: MODEL_FILE });

    expect(build).toThrow(
      `Scoring model file ${modelFile} is not valid JSON (line 1, column 11: unexpected end of text; '}' missing)`,
    );
  });

  it('fails synthesis when the model is not UTF-8', () => {
    const modelFile = defaultModelWith((model) => {
      model.description = 'Einkäufer';
    });
    const text = readFileSync(modelFile, 'utf8');
    writeFileSync(modelFile, Buffer.from(text, 'latin1'));
    const build = buildStage('dev', { modelFile: MODEL_FILE });

    expect(build).toThrow(`Scoring model file ${modelFile} is not UTF-8`);
  });

  it('fails synthesis when the model file is missing', () => {
    const build = buildStage('dev', { modelFile: 'models/none.json' });

    expect(build).toThrow(
      /Scoring model file \S+none\.json was not found\. Set modelFile/,
    );
    expect(build).not.toThrow(/ENOENT/);
  });
});

describe('synthesizeStageApp', () => {
  it('names events.targets over 500 resources', () => {
    // Each queue target adds 6 resources to the stack's other 90 or so,
    // so 70 targets exceed CloudFormation's 500 per stack.
    const targets = Array.from({ length: 70 }, (_, index) => ({
      ...SALES_QUEUE_TARGET,
      id: `queue-${index}`,
    }));
    writeFileSync(
      join(workDir, 'dev.json'),
      JSON.stringify({ events: { targets } }),
    );
    const app = createApp('dev', {
      outdir: join(workDir, 'cdk.out'),
      bundle: false,
    });
    addStageStack(app, { configDir: workDir });

    let raised: unknown;
    try {
      synthesizeStageApp(app);
    } catch (error) {
      raised = error;
    }

    expect(raised).toBeInstanceOf(ConfigurationError);
    expect((raised as Error).message).toContain(
      'Invalid configuration of stage "dev"',
    );
    expect((raised as Error).message).toContain('  events.targets: ');
    expect((raised as Error).message).toContain(
      'greater than allowed maximum of 500',
    );
  });
});
