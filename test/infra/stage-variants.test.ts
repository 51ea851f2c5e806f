import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../lib/definitions/api-routes.js';
import {
  LINT_TIMEOUT_MS,
  lintTemplate,
  type SynthesizedStage,
  synthesizeStage,
  validationReports,
} from './support/synthesize.js';
import {
  resourceOfType,
  resourcesOfType,
  resourceWithIdPrefix,
  statementsOf,
} from './support/template.js';

/**
 * Stages whose configuration differs from dev and prod in every optional
 * setting. They are synthesized without bundling, which changes only the
 * asset hashes.
 */
const TOPIC_ARNS = [
  'arn:aws:sns:eu-west-1:123456789012:on-call',
  'arn:aws:sns:eu-west-1:123456789012:chat-ops',
];

const QA_CONFIG = {
  account: '123456789012',
  region: 'eu-west-1',
  writeKeySecretName: 'tracking/qa-keys',
  adminAuth: {
    type: 'jwt',
    issuer: 'https://login.example.com/',
    audience: ['mql-engine-admin'],
    scopes: ['leads:read'],
    writeScopes: ['leads:write'],
  },
  functions: {
    ingest: { memorySize: 2048, timeoutSeconds: 20, reservedConcurrency: 30 },
    sweep: { timeoutSeconds: 120 },
  },
  sweepRateMinutes: 2,
  logLevel: 'WARN',
  tracing: false,
  alarms: {
    topicArns: TOPIC_ARNS,
    emails: ['qa@example.com'],
    outboxAgeMinutes: 30,
  },
};

let configDir: string;
const stages = new Map<string, SynthesizedStage>();

beforeAll(() => {
  configDir = mkdtempSync(join(tmpdir(), 'mql-engine-variants-'));
  writeFileSync(join(configDir, 'qa.json'), JSON.stringify(QA_CONFIG));
  stages.set('qa', synthesizeStage('qa', { configDir, bundle: false }));
  stages.set('staging', synthesizeStage('staging', { bundle: false }));
});

afterAll(() => {
  for (const stage of stages.values()) stage.cleanUp();
  rmSync(configDir, { recursive: true, force: true });
});

function stageOf(name: string): SynthesizedStage {
  const stage = stages.get(name);
  if (stage === undefined) throw new Error(`Stage ${name} was not built.`);
  return stage;
}

describe.each(['qa', 'staging'])('stage %s', (name) => {
  it('passes the cdk-nag checks', () => {
    expect(validationReports(stageOf(name))).toEqual([]);
  });

  it(
    'passes cfn-lint',
    () => {
      const lint = lintTemplate(stageOf(name));

      expect(lint.error).toBeUndefined();
      expect(lint.output).toBe('');
      expect(lint.status).toBe(0);
    },
    LINT_TIMEOUT_MS,
  );
});

describe('stage with a JWT admin authorizer', () => {
  let template: Template;

  beforeAll(() => {
    template = stageOf('qa').template;
  });

  it('creates one authorizer for the configured issuer', () => {
    const authorizer = resourceOfType(
      template,
      'AWS::ApiGatewayV2::Authorizer',
    );

    expect(authorizer.Properties.AuthorizerType).toBe('JWT');
    expect(authorizer.Properties.JwtConfiguration).toEqual({
      Issuer: 'https://login.example.com/',
      Audience: ['mql-engine-admin'],
    });
    expect(authorizer.Properties.IdentitySource).toEqual([
      '$request.header.Authorization',
    ]);
  });

  it('guards every admin route and no write-key route', () => {
    const authByKey = new Map(
      API_ROUTES.map((route) => [`${route.method} ${route.path}`, route.auth]),
    );

    for (const route of resourcesOfType(template, 'AWS::ApiGatewayV2::Route')) {
      const { RouteKey, AuthorizationType, AuthorizerId } = route.Properties;

      if (authByKey.get(RouteKey) === 'admin') {
        expect(AuthorizationType).toBe('JWT');
        expect(AuthorizerId).toEqual({
          Ref: expect.stringMatching(/AdminJwt/),
        });
        expect(route.Properties.AuthorizationScopes, RouteKey).toEqual(
          RouteKey.startsWith('GET ') ? ['leads:read'] : ['leads:write'],
        );
      } else {
        expect(AuthorizationType).toBe('NONE');
        expect(AuthorizerId).toBeUndefined();
      }
    }
  });

  it('reads the configured write key secret', () => {
    const ingest = resourceWithIdPrefix(
      template,
      'AWS::Lambda::Function',
      'FunctionsIngest',
    );
    const resources = statementsOf(template, '^FunctionsIngestRole')
      .filter(
        (statement) => statement.Action === 'secretsmanager:GetSecretValue',
      )
      .map((statement) => JSON.stringify(statement.Resource));

    expect(ingest.Properties.Environment.Variables.WRITE_KEY_SECRET_NAME).toBe(
      'tracking/qa-keys',
    );
    expect(resources).toEqual([
      expect.stringContaining(':secret:tracking/qa-keys-??????'),
    ]);
  });

  it('sizes the functions as configured', () => {
    const ingest = resourceWithIdPrefix(
      template,
      'AWS::Lambda::Function',
      'FunctionsIngest',
    );
    const sweep = resourceWithIdPrefix(
      template,
      'AWS::Lambda::Function',
      'FunctionsSweep',
    );

    expect(ingest.Properties.MemorySize).toBe(2048);
    expect(ingest.Properties.Timeout).toBe(20);
    expect(ingest.Properties.ReservedConcurrentExecutions).toBe(30);
    expect(ingest.Properties.Environment.Variables.POWERTOOLS_LOG_LEVEL).toBe(
      'WARN',
    );
    expect(sweep.Properties.Timeout).toBe(120);
  });

  it('traces nothing when tracing is off', () => {
    const actions = statementsOf(template).flatMap((statement) =>
      [statement.Action].flat(),
    );

    for (const fn of resourcesOfType(template, 'AWS::Lambda::Function')) {
      expect(fn.Properties.TracingConfig).toBeUndefined();
    }
    expect(actions.filter((action) => action.startsWith('xray:'))).toEqual([]);
  });

  it('notifies the configured topics and the email topic', () => {
    for (const alarm of resourcesOfType(template, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toEqual([
        ...TOPIC_ARNS,
        { Ref: expect.stringMatching(/^MonitoringAlarmTopic[0-9A-F]{8}$/) },
      ]);
    }
  });

  it('sizes sweep alarm for 2-minute rate', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'mql-engine-qa-sweep-stalled',
      MetricName: 'Invocations',
      Period: 3 * 2 * 60,
    });
  });

  it('raises the outbox alarm at the configured age', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'mql-engine-qa-outbox-age',
      Threshold: 30 * 60,
    });
  });
});

describe('staging', () => {
  it('keeps logs 30 days and logs from INFO', () => {
    const { template } = stageOf('staging');

    for (const group of resourcesOfType(template, 'AWS::Logs::LogGroup')) {
      expect(group.Properties.RetentionInDays).toBe(30);
    }
    for (const fn of resourcesOfType(template, 'AWS::Lambda::Function')) {
      expect(fn.Properties.Environment.Variables.POWERTOOLS_LOG_LEVEL).toBe(
        'INFO',
      );
    }
  });
});

describe('stage region', () => {
  /** Returns the region warnings of a stage with `region`. */
  function regionWarnings(stage: string, region: string) {
    writeFileSync(join(configDir, `${stage}.json`), JSON.stringify({ region }));
    const synthesized = synthesizeStage(stage, { configDir, bundle: false });
    try {
      return Annotations.fromStack(synthesized.stack).findWarning(
        '*',
        Match.stringLikeRegexp('^region '),
      );
    } finally {
      synthesized.cleanUp();
    }
  }

  it('warns of a region aws-cdk-lib does not list', () => {
    const warnings = regionWarnings('far', 'eu-west-9');

    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.entry.data).toMatch(
      /^region eu-west-9 is not a Region that aws-cdk-lib lists/,
    );
  });

  it('accepts a listed region silently', () => {
    expect(regionWarnings('near', 'eu-west-1')).toEqual([]);
  });
});
