import { join } from 'node:path';
import {
  ArnFormat,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  LogLevel,
  NodejsFunction,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { TrackingResponse } from '../../functions/adapters/config.js';
import { DEFAULT_REVIEW_SHARDS } from '../../functions/adapters/dynamodb/table-layout.js';
import type { HandlerName } from '../definitions/api-routes.js';
import { EVENT_SOURCE } from '../definitions/event-routing.js';
import type { FunctionName } from '../stage-settings.js';
import { logicalIdOf } from './logical-id.js';
import { XRAY_SDK_MODULE, XRaySdkLayer } from './xray-sdk-layer.js';

/**
 * DynamoDB actions of the read-only leads function. The CDK's read grant
 * would also allow Scan and stream reads, which no handler calls.
 * Without Scan, a compromised function cannot read the table in one call.
 */
const TABLE_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
];

/**
 * DynamoDB actions of the functions that write. A transaction needs the
 * action of each kind of item it contains, ConditionCheckItem included.
 * The infra tests compare this list with the commands the adapters send.
 */
const TABLE_WRITE_ACTIONS = [
  ...TABLE_READ_ACTIONS,
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

export interface ScoringFunctionsProps {
  /** Repository root: esbuild runs there and reads package-lock.json. */
  projectRoot: string;
  /** Table the functions read and write. */
  table: TableV2;
  /** Bus the ingest and sweep functions publish to. */
  eventBus: IEventBus;
  /**
   * Scoring model document as compact JSON, embedded in every bundle.
   * The functions do not validate it, so it must be the validated
   * document with defaults filled in, as loadScoringModel returns it.
   */
  modelJson: string;
  /** Secrets Manager secret with the write key digests, read by ingest. */
  writeKeySecretName: string;
  /** Stage name, the `stage` dimension of the custom metrics. */
  stageName: string;
  /** Memory, timeout and reserved concurrency of each function. */
  sizing: Record<FunctionName, FunctionSizing>;
  /** Shards of the review index. @default 16 */
  reviewShards?: number;
  /** Days raw events are kept. @default 400 */
  eventRetentionDays?: number;
  /** Whether lead event details carry the email. @default false */
  eventIncludeEmail?: boolean;
  /**
   * Response of the tracking routes: lead ids and scores, or counts only.
   * @default 'scores'
   */
  trackingResponse?: TrackingResponse;
  /** Powertools log level, POWERTOOLS_LOG_LEVEL. @default 'INFO' */
  logLevel?: string;
  /** X-Ray active tracing. @default true */
  tracing?: boolean;
  /** Retention of the function logs. @default RetentionDays.TWO_WEEKS */
  logRetention?: RetentionDays;
  /** Keep the log groups when the stack is deleted. @default false */
  retainLogs?: boolean;
}

const FUNCTION_RUNTIME = Runtime.NODEJS_22_X;
const FUNCTION_ARCHITECTURE = Architecture.ARM_64;

/** Memory, timeout and reserved concurrency of one function. */
export interface FunctionSizing {
  /** Memory in MiB. */
  memorySize: number;
  timeoutSeconds: number;
  /** Reserved concurrent executions. @default - the unreserved pool */
  reservedConcurrency?: number;
}

interface FunctionSettings {
  entry: string;
  description: string;
  sizing: FunctionSizing;
  /** Variables only this function receives. */
  environment?: Record<string, string>;
}

/**
 * The four Lambda functions of the engine, bundled from
 * functions/handlers/ by esbuild, and the layer with the X-Ray SDK they
 * share. Each has its own role and log group, and its role grants only
 * the log writes, X-Ray writes and the table, bus and secret access its
 * handler uses, with no AWS managed policy.
 */
export class ScoringFunctions extends Construct {
  /** POST /v1/batch: scores tracking events. */
  readonly ingest: NodejsFunction;
  /**
   * Read-only admin routes: GET /leads/{leadId}, its history and
   * GET /accounts/{accountId}.
   */
  readonly leads: NodejsFunction;
  /**
   * Sales feedback and erasure: POST /leads/{leadId}/disposition, its
   * alias POST /leads/{leadId}/recycle, and DELETE /leads/{leadId}.
   */
  readonly recycle: NodejsFunction;
  /** Scheduled decay sweep and outbox republisher. */
  readonly sweep: NodejsFunction;
  /** The AWS X-Ray SDK, minified, attached to every function. */
  readonly xraySdk: XRaySdkLayer;

  constructor(scope: Construct, id: string, props: ScoringFunctionsProps) {
    super(scope, id);
    this.xraySdk = new XRaySdkLayer(this, 'XRaySdk', {
      projectRoot: props.projectRoot,
      runtime: FUNCTION_RUNTIME,
      architecture: FUNCTION_ARCHITECTURE,
    });
    this.ingest = this.createFunction('Ingest', props, {
      entry: 'ingest',
      description: 'Scores tracking batches and publishes lead transitions.',
      sizing: props.sizing.ingest,
      environment: { WRITE_KEY_SECRET_NAME: props.writeKeySecretName },
    });
    this.leads = this.createFunction('Leads', props, {
      entry: 'leads',
      description: 'Returns lead and account scores and lead history.',
      sizing: props.sizing.leads,
    });
    this.recycle = this.createFunction('Recycle', props, {
      entry: 'recycle',
      description: 'Records sales dispositions and erases leads.',
      sizing: props.sizing.recycle,
    });
    this.sweep = this.createFunction('Sweep', props, {
      entry: 'sweep',
      description: 'Applies decay transitions and republishes the outbox.',
      sizing: props.sizing.sweep,
    });
    this.grantAccess(props);
    if (props.tracing ?? true) suppressTracingFinding(this);
  }

  /** The functions with their names in the stage configuration. */
  get all(): Record<FunctionName, NodejsFunction> {
    return {
      ingest: this.ingest,
      leads: this.leads,
      recycle: this.recycle,
      sweep: this.sweep,
    };
  }

  /** Returns the function that serves an HTTP handler module. */
  handlerFunction(name: HandlerName): NodejsFunction {
    switch (name) {
      case 'ingest':
        return this.ingest;
      case 'leads':
        return this.leads;
      case 'recycle':
        return this.recycle;
    }
  }

  private grantAccess(props: ScoringFunctionsProps): void {
    for (const fn of [this.ingest, this.sweep, this.recycle]) {
      props.table.grant(fn, ...TABLE_WRITE_ACTIONS);
      props.eventBus.grantPutEventsTo(fn);
    }
    props.table.grant(this.leads, ...TABLE_READ_ACTIONS);
    // Every function confirms at cold start that its bus exists.
    const describeBus = new PolicyStatement({
      actions: ['events:DescribeEventBus'],
      resources: [props.eventBus.eventBusArn],
    });
    for (const fn of [this.ingest, this.sweep, this.recycle, this.leads]) {
      fn.addToRolePolicy(describeBus);
    }
    this.ingest.addToRolePolicy(
      readSecretStatement(this, props.writeKeySecretName),
    );
    const indexFinding = `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.table)}.Arn>/index/*]`;
    Validations.of(this).acknowledge({
      id: indexFinding,
      reason:
        'Table grants cover every index as <table ARN>/index/*, and the table has only the review index, which the sweep queries.',
    });
  }

  private createFunction(
    id: string,
    props: ScoringFunctionsProps,
    settings: FunctionSettings,
  ): NodejsFunction {
    const logGroup = this.createLogGroup(id, props);
    const role = new Role(this, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: settings.description,
    });
    logGroup.grantWrite(role);
    const fn = new NodejsFunction(this, id, {
      entry: join(
        props.projectRoot,
        'functions/handlers',
        `${settings.entry}.ts`,
      ),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: FUNCTION_ARCHITECTURE,
      description: settings.description,
      memorySize: settings.sizing.memorySize,
      timeout: Duration.seconds(settings.sizing.timeoutSeconds),
      reservedConcurrentExecutions: settings.sizing.reservedConcurrency,
      tracing: (props.tracing ?? true) ? Tracing.ACTIVE : Tracing.DISABLED,
      environment: {
        ...functionEnvironment(props),
        ...settings.environment,
      },
      role,
      logGroup,
      layers: [this.xraySdk.layer],
      bundling: bundlingOptions(props.modelJson),
    });
    suppressRuntimeFinding(fn);
    return fn;
  }

  private createLogGroup(id: string, props: ScoringFunctionsProps): LogGroup {
    return new LogGroup(this, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.TWO_WEEKS,
      removalPolicy: props.retainLogs
        ? RemovalPolicy.RETAIN
        : RemovalPolicy.DESTROY,
    });
  }
}

/** Returns the variables that every function reads. */
function functionEnvironment(
  props: ScoringFunctionsProps,
): Record<string, string> {
  return {
    TABLE_NAME: props.table.tableName,
    EVENT_BUS_NAME: props.eventBus.eventBusName,
    EVENT_SOURCE,
    REVIEW_SHARDS: String(props.reviewShards ?? DEFAULT_REVIEW_SHARDS),
    EVENT_RETENTION_DAYS: String(props.eventRetentionDays ?? 400),
    EVENT_INCLUDE_EMAIL: String(props.eventIncludeEmail ?? false),
    TRACKING_RESPONSE: props.trackingResponse ?? 'scores',
    STAGE_NAME: props.stageName,
    POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
    // Stack traces in the logs point into the TypeScript sources.
    NODE_OPTIONS: '--enable-source-maps',
  };
}

/**
 * Allows reading the write key secret by name. Secrets Manager appends a
 * hyphen and six random characters to a secret's ARN, so the ARN is
 * matched with six `?` wildcards: one character each, never more.
 * NOTE: no kms:Decrypt is granted, so the secret must be encrypted with
 * the aws/secretsmanager key.
 */
function readSecretStatement(
  scope: Construct,
  secretName: string,
): PolicyStatement {
  return new PolicyStatement({
    actions: ['secretsmanager:GetSecretValue'],
    resources: [
      Stack.of(scope).formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${secretName}-??????`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ],
  });
}

/**
 * Returns the esbuild options of every function's bundle. The bundles
 * benchmark synthesizes the stack and measures the bundles CDK builds.
 */
export function bundlingOptions(modelJson: string) {
  return {
    format: OutputFormat.CJS,
    minify: true,
    sourceMap: true,
    logLevel: LogLevel.WARNING,
    // The model becomes a string literal in the bundle, so a function
    // never reads it from a file or a variable at run time, and never
    // bundles the model schema (see functions/adapters/runtime-model.ts).
    define: { MQL_EMBEDDED_MODEL_JSON: JSON.stringify(modelJson) },
    // NOTE: the nodejs22.x runtime provides its own AWS SDK v3 release,
    // which can be older than the one in package-lock.json. XRaySdkLayer
    // provides the X-Ray SDK.
    externalModules: ['@aws-sdk/*', XRAY_SDK_MODULE],
  };
}

function suppressRuntimeFinding(fn: NodejsFunction): void {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'The handlers are built and tested for nodejs22.x. A newer runtime needs its own test run before it is deployed.',
  });
}

function suppressTracingFinding(scope: Construct): void {
  Validations.of(scope).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions, so active tracing grants them on *. No other action is granted on *.',
  });
}
