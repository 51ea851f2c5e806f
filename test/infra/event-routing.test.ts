import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detailJsonSchemas } from '../../lib/definitions/event-schemas.js';
import {
  LINT_TIMEOUT_MS,
  lintTemplate,
  type SynthesizedStage,
  synthesizeStage,
  validationReports,
} from './support/synthesize.js';
import { resourcesOfType, type TemplateResource } from './support/template.js';

/** A stage that routes to a queue and to two CRM webhooks. */
const CRM_CONFIG = {
  events: {
    includeEmail: true,
    targets: [
      {
        type: 'queue',
        id: 'hot-leads',
        description: 'MQLs scoring above 80.',
        eventPattern: {
          'detail-type': ['Lead Qualified'],
          detail: { score: [{ numeric: ['>', 80] }] },
        },
        retryPolicy: { maximumRetryAttempts: 10, maximumEventAgeSeconds: 600 },
      },
      {
        type: 'api-destination',
        id: 'crm-key',
        description: 'CRM webhook with an API key.',
        eventPattern: { 'detail-type': ['Lead Qualified', 'Lead Erased'] },
        endpoint: 'https://crm.example.com/hooks/mql',
        rateLimitPerSecond: 5,
        auth: {
          type: 'api-key',
          headerName: 'x-api-key',
          secretName: 'crm/api-key',
        },
      },
      {
        type: 'api-destination',
        id: 'crm-oauth',
        description: 'CRM webhook with OAuth client credentials.',
        eventPattern: { 'detail-type': ['Lead Disposition Changed'] },
        endpoint: 'https://api.crm.example.com/v2/events',
        httpMethod: 'PUT',
        auth: {
          type: 'oauth-client-credentials',
          authorizationEndpoint: 'https://login.crm.example.com/oauth/token',
          clientId: 'mql-engine',
          clientSecretName: 'crm/oauth/client_secret',
          scopes: ['events.write', 'leads.write'],
        },
      },
    ],
  },
};

let configDir: string;
let synthesized: SynthesizedStage;
let template: Template;

beforeAll(() => {
  configDir = mkdtempSync(join(tmpdir(), 'mql-engine-routing-'));
  writeFileSync(join(configDir, 'crm.json'), JSON.stringify(CRM_CONFIG));
  synthesized = synthesizeStage('crm', { configDir, bundle: false });
  template = synthesized.template;
});

afterAll(() => {
  synthesized?.cleanUp();
  rmSync(configDir, { recursive: true, force: true });
});

function ruleNamed(name: string): TemplateResource {
  const rule = resourcesOfType(template, 'AWS::Events::Rule').find(
    (candidate) => candidate.Properties.Name === name,
  );
  if (rule === undefined) throw new Error(`No rule ${name}`);
  return rule;
}

describe('stage with API destinations', () => {
  it('passes the cdk-nag checks', () => {
    expect(validationReports(synthesized)).toEqual([]);
  });

  it(
    'passes cfn-lint',
    () => {
      const lint = lintTemplate(synthesized);

      expect(lint.error).toBeUndefined();
      expect(lint.output).toBe('');
      expect(lint.status).toBe(0);
    },
    LINT_TIMEOUT_MS,
  );

  it('creates one rule per target with its pattern', () => {
    const rule = ruleNamed('mql-engine-crm-to-hot-leads');

    expect(rule.Properties.EventPattern).toEqual({
      source: ['mql-engine'],
      'detail-type': ['Lead Qualified'],
      detail: { score: [{ numeric: ['>', 80] }] },
    });
    expect(resourcesOfType(template, 'AWS::Events::Rule')).toHaveLength(3);
  });

  it('sets the retry policy and dead-letter queue of each target', () => {
    const [target] = ruleNamed('mql-engine-crm-to-hot-leads').Properties
      .Targets;

    expect(target.RetryPolicy).toEqual({
      MaximumRetryAttempts: 10,
      MaximumEventAgeInSeconds: 600,
    });
    expect(target.DeadLetterConfig.Arn['Fn::GetAtt'][0]).toMatch(
      /^EventsHotLeadsQueueDeadLetter/,
    );
  });

  it('sends API destination failures to their own queue', () => {
    const [target] = ruleNamed('mql-engine-crm-to-crm-key').Properties.Targets;
    const queues = resourcesOfType(template, 'AWS::SQS::Queue').map(
      (queue) => queue.Properties.QueueName,
    );

    expect(target.Arn['Fn::GetAtt'][0]).toMatch(/^EventsCrmKeyDestination/);
    expect(target.DeadLetterConfig.Arn['Fn::GetAtt'][0]).toMatch(
      /^EventsCrmKeyDeadLetter/,
    );
    expect(target.RetryPolicy.MaximumRetryAttempts).toBe(185);
    expect(queues).toContain('mql-engine-crm-crm-key-dlq');
    expect(queues).toContain('mql-engine-crm-crm-oauth-dlq');
  });

  it('restricts destination role to its rule', () => {
    const [target] = ruleNamed('mql-engine-crm-to-crm-key').Properties.Targets;
    const roleId = target.RoleArn['Fn::GetAtt'][0];
    const role = template.toJSON().Resources[roleId];
    const [statement] = role.Properties.AssumeRolePolicyDocument.Statement;
    const sourceArn = JSON.stringify(
      statement.Condition.StringEquals['aws:SourceArn'],
    );

    expect(statement.Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(statement.Condition.StringEquals['aws:SourceAccount']).toEqual({
      Ref: 'AWS::AccountId',
    });
    expect(sourceArn).toContain(
      ':rule/mql-engine-crm/mql-engine-crm-to-crm-key',
    );
  });

  it('authorizes with an API key from Secrets Manager', () => {
    const connection = resourcesOfType(
      template,
      'AWS::Events::Connection',
    ).find((c) => c.Properties.Name === 'mql-engine-crm-crm-key');
    const auth = connection?.Properties.AuthParameters;

    expect(connection?.Properties.AuthorizationType).toBe('API_KEY');
    expect(auth.ApiKeyAuthParameters.ApiKeyName).toBe('x-api-key');
    expect(JSON.stringify(auth.ApiKeyAuthParameters.ApiKeyValue)).toContain(
      '{{resolve:secretsmanager:crm/api-key',
    );
  });

  it('authorizes with OAuth client credentials', () => {
    const connection = resourcesOfType(
      template,
      'AWS::Events::Connection',
    ).find((c) => c.Properties.Name === 'mql-engine-crm-crm-oauth');
    const oauth = connection?.Properties.AuthParameters.OAuthParameters;

    expect(connection?.Properties.AuthorizationType).toBe(
      'OAUTH_CLIENT_CREDENTIALS',
    );
    expect(oauth.AuthorizationEndpoint).toBe(
      'https://login.crm.example.com/oauth/token',
    );
    expect(oauth.ClientParameters.ClientID).toBe('mql-engine');
    expect(JSON.stringify(oauth.ClientParameters.ClientSecret)).toContain(
      '{{resolve:secretsmanager:crm/oauth/client_secret',
    );
    expect(oauth.OAuthHttpParameters.BodyParameters).toEqual([
      {
        Key: 'grant_type',
        Value: 'client_credentials',
        IsValueSecret: false,
      },
      { Key: 'scope', Value: 'events.write leads.write', IsValueSecret: false },
    ]);
  });

  it('calls each endpoint with its method and rate', () => {
    const destinations = resourcesOfType(
      template,
      'AWS::Events::ApiDestination',
    ).map((d) => d.Properties);

    expect(destinations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Name: 'mql-engine-crm-crm-key',
          InvocationEndpoint: 'https://crm.example.com/hooks/mql',
          HttpMethod: 'POST',
          InvocationRateLimitPerSecond: 5,
        }),
        expect.objectContaining({
          Name: 'mql-engine-crm-crm-oauth',
          HttpMethod: 'PUT',
          InvocationRateLimitPerSecond: 10,
        }),
      ]),
    );
  });

  it('alarms on every dead-letter queue', () => {
    const names = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(
      (alarm) => alarm.Properties.AlarmName,
    );

    for (const id of ['hot-leads', 'crm-key', 'crm-oauth']) {
      expect(names).toContain(`mql-engine-crm-${id}-dead-letters`);
    }
  });

  it('shows every dead-letter queue on the dashboard', () => {
    const queueIds = Object.entries(template.findResources('AWS::SQS::Queue'))
      .filter(([, queue]) => queue.Properties.QueueName.endsWith('-dlq'))
      .map(([logicalId]) => logicalId);
    const [dashboard] = resourcesOfType(template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);

    expect(queueIds).toHaveLength(3);
    for (const logicalId of queueIds) {
      expect(body).toContain(
        JSON.stringify({ 'Fn::GetAtt': [logicalId, 'QueueName'] }),
      );
    }
    for (const id of ['hot-leads', 'crm-key', 'crm-oauth']) {
      expect(body).toContain(`${id} dead letters`);
    }
  });

  it('passes the email option to the functions', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');

    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables.EVENT_INCLUDE_EMAIL).toBe(
        'true',
      );
    }
  });
});

describe('schema registry', () => {
  it('registers every detail type as a draft 4 schema', () => {
    const [registry] = resourcesOfType(template, 'AWS::EventSchemas::Registry');
    const schemas = resourcesOfType(template, 'AWS::EventSchemas::Schema');

    expect(registry?.Properties.RegistryName).toBe('mql-engine-crm');
    expect(schemas.map((s) => s.Properties.SchemaName).sort()).toEqual(
      detailJsonSchemas()
        .map((schema) => schema.registryName)
        .sort(),
    );
    const [registryId] = Object.keys(
      template.findResources('AWS::EventSchemas::Registry'),
    );
    for (const schema of schemas) {
      // The attribute reference makes CloudFormation create the registry
      // first.
      expect(schema.Properties.RegistryName).toEqual({
        'Fn::GetAtt': [registryId, 'RegistryName'],
      });
      expect(schema.Properties.Type).toBe('JSONSchemaDraft4');
      const content = JSON.parse(schema.Properties.Content);
      expect(content.properties.detail.type).toBe('object');
    }
  });
});

describe('stage without routing targets', () => {
  let emptyDir: string;
  let empty: SynthesizedStage;

  beforeAll(() => {
    emptyDir = mkdtempSync(join(tmpdir(), 'mql-engine-routing-'));
    writeFileSync(
      join(emptyDir, 'quiet.json'),
      JSON.stringify({ events: { targets: [] } }),
    );
    empty = synthesizeStage('quiet', { configDir: emptyDir, bundle: false });
  });

  afterAll(() => {
    empty?.cleanUp();
    rmSync(emptyDir, { recursive: true, force: true });
  });

  it('warns that no event is routed', () => {
    const warnings = Annotations.fromStack(empty.stack).findWarning(
      '*',
      Match.stringLikeRegexp('events\\.targets is empty'),
    );

    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]?.entry.data)).toContain(
      'reach only the archive',
    );
  });

  it('creates no rule and keeps the archive', () => {
    const { template: quiet } = empty;

    expect(resourcesOfType(quiet, 'AWS::Events::Rule')).toHaveLength(0);
    expect(resourcesOfType(quiet, 'AWS::Events::Archive')).toHaveLength(1);
  });

  it('gives no warning to a stage with targets', () => {
    const warnings = Annotations.fromStack(synthesized.stack).findWarning(
      '*',
      Match.stringLikeRegexp('events\\.targets'),
    );

    expect(warnings).toHaveLength(0);
  });
});

describe('API destination with a query string', () => {
  let configDir: string;
  let stage: SynthesizedStage;

  beforeAll(() => {
    configDir = mkdtempSync(join(tmpdir(), 'mql-engine-routing-'));
    writeFileSync(
      join(configDir, 'query.json'),
      JSON.stringify({
        events: {
          targets: [
            {
              type: 'api-destination',
              id: 'crm',
              description: 'CRM webhook with a token in the URL.',
              eventPattern: { 'detail-type': ['Lead Qualified'] },
              endpoint: 'https://crm.example.com/hooks?token=abc',
              auth: {
                type: 'api-key',
                headerName: 'x-api-key',
                secretName: 'crm/api-key',
              },
            },
            {
              type: 'api-destination',
              id: 'erp',
              description: 'ERP webhook with a token in the token URL.',
              eventPattern: { 'detail-type': ['Lead Qualified'] },
              endpoint: 'https://erp.example.com/hooks',
              auth: {
                type: 'oauth-client-credentials',
                authorizationEndpoint:
                  'https://login.example.com/token?key=abc',
                clientId: 'mql-engine',
                clientSecretName: 'erp/client_secret',
              },
            },
          ],
        },
      }),
    );
    stage = synthesizeStage('query', { configDir, bundle: false });
  });

  afterAll(() => {
    stage?.cleanUp();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('warns naming the endpoint field', () => {
    const warnings = Annotations.fromStack(stage.stack).findWarning(
      '*',
      Match.stringLikeRegexp('events\\.targets\\[0\\]\\.endpoint'),
    );

    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]?.entry.data)).toContain(
      "connection's auth secret",
    );
    expect(JSON.stringify(warnings[0]?.entry.data)).not.toContain('abc');
  });

  it('warns naming the token endpoint field', () => {
    const warnings = Annotations.fromStack(stage.stack).findWarning(
      '*',
      Match.stringLikeRegexp(
        'events\\.targets\\[1\\]\\.auth\\.authorizationEndpoint',
      ),
    );

    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]?.entry.data)).not.toContain('abc');
  });

  it('gives no warning to an endpoint without one', () => {
    const warnings = Annotations.fromStack(synthesized.stack).findWarning(
      '*',
      Match.stringLikeRegexp('query string'),
    );

    expect(warnings).toHaveLength(0);
  });
});
