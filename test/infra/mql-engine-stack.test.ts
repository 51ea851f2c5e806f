import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createTableInput,
  TABLE_LAYOUT,
} from '../../functions/adapters/dynamodb/table-layout.js';
import {
  LAYER_MODULES_DIR,
  XRAY_SDK_MODULE,
} from '../../lib/constructs/xray-sdk-layer.js';
import { API_ROUTES } from '../../lib/definitions/api-routes.js';
import {
  CORS_ALLOWED_HEADERS,
  CORS_ALLOWED_METHODS,
  CORS_EXPOSED_HEADERS,
  CORS_MAX_AGE_SECONDS,
} from '../../lib/definitions/cors.js';
import {
  DEFAULT_ROUTING_TARGETS,
  queueOf,
  resourceName,
  ruleOf,
} from '../../lib/definitions/event-routing.js';
import { addStageStack, PROJECT_ROOT } from '../../lib/mql-engine-app.js';
import { loadScoringModel } from '../../lib/scoring-model.js';
import { loadStageConfig, type StageConfig } from '../../lib/stage-config.js';
import { LOCAL_AWS } from '../../local/services.js';
import { createTestRouting } from '../support/aws.js';
import { invokeBundle } from './support/bundle.js';
import {
  assetDirectory,
  createApp,
  LINT_TIMEOUT_MS,
  layerDirectory,
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
  type TemplateResource,
} from './support/template.js';

const STAGES = [
  {
    stage: 'dev',
    protectData: false,
    deletionPolicy: 'Delete',
    corsOrigins: ['*'],
    logLevel: 'DEBUG',
    trackingResponse: 'scores',
    reservedConcurrency: {
      ingest: undefined,
      leads: undefined,
      recycle: undefined,
      sweep: undefined,
    },
  },
  {
    stage: 'prod',
    protectData: true,
    deletionPolicy: 'Retain',
    corsOrigins: [],
    logLevel: 'INFO',
    trackingResponse: 'counts',
    reservedConcurrency: { ingest: 100, leads: 10, recycle: 2, sweep: 1 },
  },
] as const;

/**
 * IAM actions of each DynamoDB command. A transaction needs the action
 * of each kind of item it contains.
 */
const COMMAND_ACTIONS: Record<string, string[]> = {
  GetItemCommand: ['dynamodb:GetItem'],
  BatchGetItemCommand: ['dynamodb:BatchGetItem'],
  QueryCommand: ['dynamodb:Query'],
  PutItemCommand: ['dynamodb:PutItem'],
  UpdateItemCommand: ['dynamodb:UpdateItem'],
  DeleteItemCommand: ['dynamodb:DeleteItem'],
  BatchWriteItemCommand: ['dynamodb:BatchWriteItem'],
  TransactWriteItemsCommand: [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
  ],
};

/** Returns the DynamoDB commands the functions' adapters send. */
function dynamoDbCommandsSent(): string[] {
  const directory = join(PROJECT_ROOT, 'functions/adapters/dynamodb');
  const commands = new Set<string>();
  for (const file of readdirSync(directory)) {
    const source = readFileSync(join(directory, file), 'utf8');
    for (const match of source.matchAll(/new (\w+Command)\(/g)) {
      commands.add(match[1] as string);
    }
  }
  return [...commands].sort();
}

/** Returns the DynamoDB actions a role's statements grant. */
function dynamoDbActionsOf(template: Template, rolePattern: string) {
  return statementsOf(template, rolePattern)
    .flatMap((statement) => [statement.Action].flat())
    .filter((action) => action.startsWith('dynamodb:'));
}

/** Part of a message of functions/adapters/write-keys.ts. */
const WRITE_KEYS_MARKER = 'which ends at the first colon (RFC 7617)';
/** Part of a message of functions/adapters/write-key-secret.ts. */
const WRITE_KEY_SECRET_MARKER = 'contains no valid digests';
/** The SDK is external to the bundles, so a client is a require call. */
const SECRETS_MANAGER_REQUIRE = 'require("@aws-sdk/client-secrets-manager")';

const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'events:PutEvents',
];

describe.each(STAGES)('MqlEngineStack ($stage)', (expected) => {
  let synthesized: SynthesizedStage;
  let template: Template;
  let config: StageConfig;

  beforeAll(() => {
    synthesized = synthesizeStage(expected.stage);
    template = synthesized.template;
    config = loadStageConfig(
      expected.stage,
      join(PROJECT_ROOT, 'config', 'stages'),
    );
  });

  afterAll(() => synthesized?.cleanUp());

  function readBundle(fn: TemplateResource): string {
    return readFileSync(
      join(assetDirectory(synthesized, fn), 'index.js'),
      'utf8',
    );
  }

  /** nodejs/node_modules of the synthesized X-Ray SDK layer. */
  function layerModules(): string {
    const layer = resourceOfType(template, 'AWS::Lambda::LayerVersion');
    return join(layerDirectory(synthesized, layer), LAYER_MODULES_DIR);
  }

  describe('lead table', () => {
    const layout = createTableInput('layout');

    it('uses the keys of the table layout', () => {
      const table = resourceOfType(template, 'AWS::DynamoDB::GlobalTable');

      expect(table.Properties.TableName).toBe(resourceName(expected.stage));
      expect(table.Properties.KeySchema).toEqual(layout.KeySchema);
      expect(table.Properties.AttributeDefinitions).toEqual(
        expect.arrayContaining(layout.AttributeDefinitions ?? []),
      );
      expect(table.Properties.AttributeDefinitions).toHaveLength(
        layout.AttributeDefinitions?.length ?? 0,
      );
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    });

    it('has the sparse review index', () => {
      const table = resourceOfType(template, 'AWS::DynamoDB::GlobalTable');

      expect(table.Properties.GlobalSecondaryIndexes).toEqual(
        layout.GlobalSecondaryIndexes,
      );
    });

    it('expires items by the TTL attribute', () => {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TimeToLiveSpecification: {
          AttributeName: TABLE_LAYOUT.timeToLiveAttribute,
          Enabled: true,
        },
      });
    });

    it('encrypts at rest with the AWS managed key', () => {
      const table = resourceOfType(template, 'AWS::DynamoDB::GlobalTable');

      expect(table.Properties.SSESpecification).toEqual({
        SSEEnabled: true,
        SSEType: 'KMS',
      });
    });

    it('protects data only when configured', () => {
      const table = resourceOfType(template, 'AWS::DynamoDB::GlobalTable');
      const [replica] = table.Properties.Replicas;

      expect(replica.PointInTimeRecoverySpecification).toEqual({
        PointInTimeRecoveryEnabled: expected.protectData,
      });
      expect(replica.DeletionProtectionEnabled).toBe(expected.protectData);
      expect(table.DeletionPolicy).toBe(expected.deletionPolicy);
      expect(table.UpdateReplacePolicy).toBe(expected.deletionPolicy);
    });
  });

  describe('functions', () => {
    it('run on nodejs22.x and arm64', () => {
      const functions = resourcesOfType(template, 'AWS::Lambda::Function');

      expect(functions).toHaveLength(4);
      for (const fn of functions) {
        expect(fn.Properties.Runtime).toBe('nodejs22.x');
        expect(fn.Properties.Architectures).toEqual(['arm64']);
        expect(fn.Properties.Handler).toBe('index.handler');
      }
    });

    it('receive the runtime configuration', () => {
      for (const fn of resourcesOfType(template, 'AWS::Lambda::Function')) {
        const variables = fn.Properties.Environment.Variables;

        expect(variables.TABLE_NAME).toEqual({
          Ref: expect.stringMatching(/^LeadsTable/),
        });
        expect(variables.EVENT_BUS_NAME).toEqual({
          Ref: expect.stringMatching(/^EventsBus/),
        });
        expect(variables.EVENT_SOURCE).toBe('mql-engine');
        expect(variables.REVIEW_SHARDS).toBe(String(config.reviewShards));
        expect(variables.EVENT_RETENTION_DAYS).toBe(
          String(config.eventRetentionDays),
        );
        expect(variables.STAGE_NAME).toBe(expected.stage);
        expect(variables.POWERTOOLS_LOG_LEVEL).toBe(expected.logLevel);
        expect(variables.TRACKING_RESPONSE).toBe(expected.trackingResponse);
      }
    });

    it('give only ingest the write key secret name', () => {
      const named = Object.entries(
        template.findResources('AWS::Lambda::Function'),
      )
        .filter(
          ([, fn]) => fn.Properties.Environment.Variables.WRITE_KEY_SECRET_NAME,
        )
        .map(([id, fn]) => [
          id.replace(/[0-9A-F]{8}$/, ''),
          fn.Properties.Environment.Variables.WRITE_KEY_SECRET_NAME,
        ]);

      expect(named).toEqual([
        ['FunctionsIngest', `mql-engine/${expected.stage}/write-keys`],
      ]);
    });

    it.each([
      ['Ingest', 'ingest'],
      ['Leads', 'leads'],
      ['Recycle', 'recycle'],
      ['Sweep', 'sweep'],
    ] as const)('size %s as configured', (id, name) => {
      const fn = resourceWithIdPrefix(
        template,
        'AWS::Lambda::Function',
        `Functions${id}`,
      );
      const sizing = config.functions[name];

      expect(fn.Properties.MemorySize).toBe(sizing.memorySize);
      expect(fn.Properties.Timeout).toBe(sizing.timeoutSeconds);
      expect(fn.Properties.ReservedConcurrentExecutions).toBe(
        expected.reservedConcurrency[name],
      );
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    });

    it('load the model embedded at bundling', async () => {
      const leads = resourceWithIdPrefix(
        template,
        'AWS::Lambda::Function',
        'FunctionsLeads',
      );
      const bundle = join(assetDirectory(synthesized, leads), 'index.js');
      // The cold start confirms the bus exists, so the bundle gets a bus
      // on the local moto server and never calls AWS.
      const routing = await createTestRouting();

      // The handler reads the model before it validates the path. A model
      // file that does not exist proves the embedded JSON was used.
      const { result: response } = invokeBundle<{
        statusCode: number;
        body: string;
      }>(
        bundle,
        layerModules(),
        {
          TABLE_NAME: 'leads',
          EVENT_BUS_NAME: routing.eventBusName,
          AWS_REGION: LOCAL_AWS.region,
          AWS_ENDPOINT_URL_EVENTBRIDGE: inject('motoEndpoint'),
          AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
          MQL_MODEL_FILE: join(synthesized.assemblyDir, 'missing-model.json'),
        },
        {
          routeKey: 'GET /leads/{leadId}',
          rawPath: '/leads/',
          headers: {},
          pathParameters: {},
          requestContext: { requestId: 'bundle-test' },
        },
      );

      expect(response.statusCode).toBe(400);
      expect(response.body).toContain('leadId');
    });

    it('share the X-Ray SDK layer', () => {
      const layer = resourceOfType(template, 'AWS::Lambda::LayerVersion');
      const [layerId] = Object.keys(
        template.findResources('AWS::Lambda::LayerVersion'),
      );

      expect(layer.Properties.CompatibleRuntimes).toEqual(['nodejs22.x']);
      expect(layer.Properties.CompatibleArchitectures).toEqual(['arm64']);
      for (const fn of resourcesOfType(template, 'AWS::Lambda::Function')) {
        expect(fn.Properties.Layers).toEqual([{ Ref: layerId }]);
      }
    });

    it('leave the X-Ray SDK to the layer', () => {
      for (const fn of resourcesOfType(template, 'AWS::Lambda::Function')) {
        const bundle = readBundle(fn);

        expect(bundle).toContain(`require("${XRAY_SDK_MODULE}")`);
        // Read by the X-Ray SDK only, so present only if it was bundled.
        expect(bundle).not.toContain('AWS_XRAY_DAEMON_ADDRESS');
      }
    });

    it('embed the model only once', () => {
      const model = loadScoringModel(join(PROJECT_ROOT, config.modelFile));

      for (const fn of resourcesOfType(template, 'AWS::Lambda::Function')) {
        // The embedded JSON names the model once. A second occurrence is
        // the default model document, which the bundles must not carry.
        const occurrences = readBundle(fn).split(model.name).length - 1;

        expect(occurrences).toBe(1);
      }
    });

    it('leave the model schema to synthesis', () => {
      for (const fn of resourcesOfType(template, 'AWS::Lambda::Function')) {
        // Part of a message of the model schema's ReDoS check.
        expect(readBundle(fn)).not.toContain('(ReDoS)');
      }
    });

    it('leave JSON Schema generation to the tools', () => {
      for (const fn of resourcesOfType(template, 'AWS::Lambda::Function')) {
        // A message of zod's JSON Schema generator, which any import of
        // the chained zod API brings into a bundle, unlike zod/mini.
        expect(readBundle(fn)).not.toContain(
          'cannot be represented in JSON Schema',
        );
      }
    });

    it('leave the write key check to ingest', () => {
      for (const prefix of [
        'FunctionsLeads',
        'FunctionsRecycle',
        'FunctionsSweep',
      ]) {
        const bundle = readBundle(
          resourceWithIdPrefix(template, 'AWS::Lambda::Function', prefix),
        );

        expect(bundle, prefix).not.toContain(WRITE_KEYS_MARKER);
        expect(bundle, prefix).not.toContain(WRITE_KEY_SECRET_MARKER);
        expect(bundle, prefix).not.toContain(SECRETS_MANAGER_REQUIRE);
      }
    });

    it('check write keys in ingest', () => {
      // Shows that the markers of the test above are in the built code.
      const bundle = readBundle(
        resourceWithIdPrefix(
          template,
          'AWS::Lambda::Function',
          'FunctionsIngest',
        ),
      );

      expect(bundle).toContain(WRITE_KEYS_MARKER);
      expect(bundle).toContain(WRITE_KEY_SECRET_MARKER);
      expect(bundle).toContain(SECRETS_MANAGER_REQUIRE);
    });

    it('keep logs for the configured days', () => {
      for (const group of resourcesOfType(template, 'AWS::Logs::LogGroup')) {
        expect(group.Properties.RetentionInDays).toBe(config.logRetentionDays);
        expect(group.DeletionPolicy).toBe(expected.deletionPolicy);
      }
    });
  });

  describe('HTTP API', () => {
    it('has exactly the shared routes', () => {
      const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route');
      const routeKeys = routes.map((route) => route.Properties.RouteKey);

      expect(routeKeys.sort()).toEqual(
        API_ROUTES.map((route) => `${route.method} ${route.path}`).sort(),
      );
    });

    it.each(API_ROUTES)('authorizes $method $path', (route) => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `${route.method} ${route.path}`,
        AuthorizationType: route.auth === 'admin' ? 'AWS_IAM' : 'NONE',
      });
    });

    it('guards every admin route and no write-key route', () => {
      const auth = new Map(
        API_ROUTES.map((route) => [`${route.method} ${route.path}`, route]),
      );

      for (const route of resourcesOfType(
        template,
        'AWS::ApiGatewayV2::Route',
      )) {
        const { RouteKey, AuthorizationType } = route.Properties;
        const isAdmin = auth.get(RouteKey)?.auth === 'admin';

        expect(AuthorizationType).toBe(isAdmin ? 'AWS_IAM' : 'NONE');
        expect(route.Properties.AuthorizerId).toBeUndefined();
      }
    });

    it.each(API_ROUTES)('sends $method $path to its handler', (route) => {
      const functionId = functionOfRoute(
        template,
        `${route.method} ${route.path}`,
      );
      const prefix = `Functions${capitalize(route.handler)}`;

      expect(functionId.startsWith(prefix)).toBe(true);
    });

    it('configures CORS for the stage origins only', () => {
      const [api] = resourcesOfType(template, 'AWS::ApiGatewayV2::Api');
      const cors = api?.Properties.CorsConfiguration;

      expect(config.corsAllowedOrigins).toEqual(expected.corsOrigins);
      if (expected.corsOrigins.length === 0) {
        expect(cors).toBeUndefined();
        return;
      }
      expect(cors).toEqual({
        AllowOrigins: expected.corsOrigins,
        AllowMethods: [...CORS_ALLOWED_METHODS],
        AllowHeaders: [...CORS_ALLOWED_HEADERS],
        ExposeHeaders: [...CORS_EXPOSED_HEADERS],
        MaxAge: CORS_MAX_AGE_SECONDS,
      });
    });

    it('throttles the default stage', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: {
          ThrottlingRateLimit: config.apiThrottling.rateLimit,
          ThrottlingBurstLimit: config.apiThrottling.burstLimit,
        },
        AccessLogSettings: Match.objectLike({
          Format: Match.stringLikeRegexp('\\$context.requestId'),
        }),
      });
    });
  });

  describe('event routing', () => {
    it('names the bus after the stage', () => {
      template.hasResourceProperties('AWS::Events::EventBus', {
        Name: resourceName(expected.stage),
      });
    });

    const RULES = DEFAULT_ROUTING_TARGETS.map(ruleOf);
    const QUEUES = DEFAULT_ROUTING_TARGETS.flatMap((target) =>
      target.type === 'queue' ? [queueOf(target)] : [],
    );

    it.each(RULES)('routes $id as defined', (rule) => {
      const [resource] = resourcesOfType(template, 'AWS::Events::Rule').filter(
        (candidate) =>
          candidate.Properties.Name ===
          resourceName(expected.stage, rule.nameSuffix),
      );

      expect(resource?.Properties.EventPattern).toEqual(rule.eventPattern);
      expect(resource?.Properties.Targets).toEqual([
        expect.objectContaining({
          Arn: {
            'Fn::GetAtt': [expect.stringMatching(/^EventsSalesQueue/), 'Arn'],
          },
          RetryPolicy: {
            MaximumRetryAttempts: rule.target.retryPolicy.maximumRetryAttempts,
            MaximumEventAgeInSeconds:
              rule.target.retryPolicy.maximumEventAgeSeconds,
          },
          DeadLetterConfig: {
            Arn: {
              'Fn::GetAtt': [
                expect.stringMatching(/^EventsSalesQueueDeadLetter/),
                'Arn',
              ],
            },
          },
        }),
      ]);
    });

    it.each(QUEUES)('encrypts $id and its DLQ', (queue) => {
      const name = resourceName(expected.stage, queue.nameSuffix);

      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: name,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: {
            'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetter'), 'Arn'],
          },
          maxReceiveCount: 5,
        },
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `${name}-dlq`,
        SqsManagedSseEnabled: true,
      });
    });

    it('denies queue requests without TLS', () => {
      const policies = resourcesOfType(template, 'AWS::SQS::QueuePolicy');

      expect(policies).toHaveLength(QUEUES.length * 2);
      for (const policy of policies) {
        expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        );
      }
    });
  });

  describe('decay sweep', () => {
    it('invokes the sweep at the configured rate', () => {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: `rate(${config.sweepRateMinutes} minutes)`,
        State: 'ENABLED',
        Target: Match.objectLike({
          Arn: {
            'Fn::GetAtt': [Match.stringLikeRegexp('^FunctionsSweep'), 'Arn'],
          },
        }),
      });
    });

    it('trusts Scheduler only for its schedule group', () => {
      const role = resourceWithIdPrefix(
        template,
        'AWS::IAM::Role',
        'DecaySweepRole',
      );

      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: {
            StringEquals: {
              'aws:SourceAccount': { Ref: 'AWS::AccountId' },
              'aws:SourceArn': {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    ':scheduler:',
                    { Ref: 'AWS::Region' },
                    ':',
                    { Ref: 'AWS::AccountId' },
                    ':schedule-group/default',
                  ],
                ],
              },
            },
          },
        },
      ]);
    });

    it('keeps the schedule in the default group', () => {
      const schedule = resourceOfType(template, 'AWS::Scheduler::Schedule');

      expect(schedule.Properties.GroupName).toBeUndefined();
    });
  });

  describe('IAM', () => {
    it('grants no wildcard actions', () => {
      for (const statement of statementsOf(template)) {
        for (const action of [statement.Action].flat()) {
          expect(action).not.toContain('*');
        }
      }
    });

    it('attaches no managed policies', () => {
      for (const role of resourcesOfType(template, 'AWS::IAM::Role')) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it('lets the leads function only read', () => {
      const actions = statementsOf(template, '^FunctionsLeadsRole').flatMap(
        (statement) => [statement.Action].flat(),
      );

      expect(actions).toContain('dynamodb:GetItem');
      for (const action of WRITE_ACTIONS) {
        expect(actions).not.toContain(action);
      }
    });

    it('lets only ingest read the write key secret', () => {
      const secretStatements = statementsOf(template).filter((statement) =>
        [statement.Action]
          .flat()
          .some((action) => action.startsWith('secretsmanager:')),
      );
      const ingest = statementsOf(template, '^FunctionsIngestRole').filter(
        (statement) => secretStatements.includes(statement),
      );

      expect(secretStatements).toHaveLength(1);
      expect(ingest).toHaveLength(1);
      expect(ingest[0]?.Action).toBe('secretsmanager:GetSecretValue');
      expect(JSON.stringify(ingest[0]?.Resource)).toContain(
        `:secret:mql-engine/${expected.stage}/write-keys-??????`,
      );
    });

    it('grants only X-Ray writes on every resource', () => {
      const onEveryResource = statementsOf(template).filter(
        (statement) => statement.Resource === '*',
      );

      for (const statement of onEveryResource) {
        expect([statement.Action].flat().sort()).toEqual([
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ]);
      }
      expect(onEveryResource).toHaveLength(4);
    });

    it.each(['Ingest', 'Sweep', 'Recycle'])(
      'grants %s each DynamoDB action sent',
      (name) => {
        const granted = dynamoDbActionsOf(template, `^Functions${name}Role`);

        for (const command of dynamoDbCommandsSent()) {
          const actions = COMMAND_ACTIONS[command];
          expect(actions, `${command} has no IAM actions`).toBeDefined();
          for (const action of actions ?? []) {
            expect(granted).toContain(action);
          }
        }
      },
    );

    it('grants no DynamoDB action never sent', () => {
      const sent = new Set(
        dynamoDbCommandsSent().flatMap((c) => COMMAND_ACTIONS[c] ?? []),
      );
      const granted = dynamoDbActionsOf(template, '^Functions');

      const unused = granted.filter((action) => !sent.has(action));

      expect([...new Set(unused)]).toEqual([]);
    });

    it('lets the leads function read items only', () => {
      const granted = dynamoDbActionsOf(template, '^FunctionsLeadsRole');

      expect(granted.sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
      ]);
    });

    it.each(['Ingest', 'Sweep', 'Recycle'])(
      'lets %s write and publish',
      (name) => {
        const actions = statementsOf(template, `^Functions${name}Role`).flatMap(
          (statement) => [statement.Action].flat(),
        );

        for (const action of WRITE_ACTIONS) {
          expect(actions).toContain(action);
        }
      },
    );
  });

  it('exports the stage outputs', () => {
    for (const output of [
      'ApiUrl',
      'EventBusName',
      'TableName',
      'SalesQueueUrl',
      'WriteKeySecretName',
      'DashboardName',
    ]) {
      template.hasOutput(output, { Value: Match.anyValue() });
    }
  });

  it('loads the X-Ray SDK layer alone', () => {
    const module = join(layerModules(), XRAY_SDK_MODULE);
    // Outside the repository and without NODE_PATH, so only the files of
    // the layer can satisfy the require.
    const child = spawnSync(
      process.execPath,
      [
        '-e',
        `process.stdout.write(typeof require(${JSON.stringify(module)}).captureAWSv3Client)`,
      ],
      { cwd: tmpdir(), encoding: 'utf8', env: { PATH: process.env.PATH } },
    );

    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('function');
  });

  it('ships the licenses of the X-Ray SDK layer', () => {
    const licenses = join(layerModules(), XRAY_SDK_MODULE, 'licenses');

    for (const name of [XRAY_SDK_MODULE, 'semver', 'cls-hooked']) {
      expect(existsSync(join(licenses, name, 'LICENSE'))).toBe(true);
    }
  });

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
});

describe('cdk-nag checks', () => {
  it('fail synthesis on a noncompliant queue', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'mql-engine-nag-'));
    const app = createApp('dev', { outdir, bundle: false });
    const stack = addStageStack(app);
    new Queue(stack, 'PlainQueue', {
      encryption: QueueEncryption.UNENCRYPTED,
    });

    try {
      expect(() => app.synth()).toThrow('AwsSolutions-SQS4');
      const report = readFileSync(join(outdir, 'validation-report.json'));
      expect(report.toString()).toContain('AwsSolutions-SQS4');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

/** Returns the logical id of the function a route's integration invokes. */
function functionOfRoute(template: Template, routeKey: string): string {
  const route = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').find(
    (candidate) => candidate.Properties.RouteKey === routeKey,
  );
  const integrationId = route?.Properties.Target['Fn::Join'][1][1].Ref;
  const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
  const uri = integrations[integrationId]?.Properties.IntegrationUri;
  return uri?.['Fn::GetAtt']?.[0] ?? '';
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
