import {
  Annotations,
  CfnOutput,
  Duration,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DecaySweep } from './constructs/decay-sweep.js';
import { EventRouting } from './constructs/event-routing.js';
import { EventSchemas } from './constructs/event-schemas.js';
import { LeadTable } from './constructs/lead-table.js';
import { Monitoring } from './constructs/monitoring.js';
import { ScoringFunctions } from './constructs/scoring-functions.js';
import { TrackingApi } from './constructs/tracking-api.js';
import { hasQueryString } from './definitions/endpoint-url.js';
import {
  queueOf,
  type RoutingTarget,
  resourceName,
} from './definitions/event-routing.js';
import type { BundledModel } from './scoring-model.js';
import type { StageConfig } from './stage-config.js';

export interface MqlEngineStackProps extends StackProps {
  /** Validated configuration of the stage this stack deploys. */
  config: StageConfig;
  /** Validated scoring model embedded in the functions. */
  model: BundledModel;
  /** Repository root, where the function sources are bundled from. */
  projectRoot: string;
}

/**
 * One stage of the engine: table, functions, API, events, sweep, alarms
 * and dashboard.
 */
export class MqlEngineStack extends Stack {
  constructor(scope: Construct, id: string, props: MqlEngineStackProps) {
    super(scope, id, props);
    const { config } = props;

    const { table } = new LeadTable(this, 'Leads', {
      tableName: resourceName(config.stageName),
      protectData: config.protectData,
    });
    const routing = new EventRouting(this, 'Events', {
      stageName: config.stageName,
      targets: config.events.targets,
      archiveRetentionDays: config.eventRetentionDays,
    });
    if (config.events.targets.length === 0) {
      // An empty list may be meant (consumers that add their own rules to
      // the bus), so it is a warning rather than an error.
      Annotations.of(this).addWarningV2(
        'mql-engine:no-routing-targets',
        'events.targets is empty, so no rule routes any event: "Lead ' +
          'Qualified" and every other event reach only the archive. List ' +
          'a target, such as the default sales queue, unless consumers add ' +
          'their own rules to the bus.',
      );
    }
    this.warnOfQueryStrings(config.events.targets);
    new EventSchemas(this, 'Schemas', { stageName: config.stageName });
    const functions = new ScoringFunctions(this, 'Functions', {
      projectRoot: props.projectRoot,
      table,
      eventBus: routing.eventBus,
      modelJson: props.model.json,
      writeKeySecretName: config.writeKeySecretName,
      stageName: config.stageName,
      sizing: config.functions,
      reviewShards: config.reviewShards,
      eventRetentionDays: config.eventRetentionDays,
      eventIncludeEmail: config.events.includeEmail,
      trackingResponse: config.trackingResponse,
      logLevel: config.logLevel,
      tracing: config.tracing,
      logRetention: config.logRetentionDays,
      retainLogs: config.protectData,
    });
    const api = new TrackingApi(this, 'Api', {
      apiName: resourceName(config.stageName),
      handlerFunction: (name) => functions.handlerFunction(name),
      throttling: config.apiThrottling,
      corsAllowedOrigins: config.corsAllowedOrigins,
      logRetention: config.logRetentionDays,
      retainLogs: config.protectData,
      adminAuth: config.adminAuth,
    });
    const decaySweep = new DecaySweep(this, 'DecaySweep', {
      handler: functions.sweep,
      rate: Duration.minutes(config.sweepRateMinutes),
    });
    const monitoring = new Monitoring(this, 'Monitoring', {
      stageName: config.stageName,
      functions: functions.all,
      httpApi: api.httpApi,
      queues: config.events.targets
        .filter((target) => target.type === 'queue')
        .map((target) => routing.queue(target.id)),
      deadLetterQueues: routing.deadLetterQueues,
      alarms: config.alarms,
      sweepRate: decaySweep.rate,
    });

    this.addOutputs({
      ApiUrl: api.url,
      EventBusName: routing.eventBus.eventBusName,
      TableName: table.tableName,
      ...queueUrlOutputs(routing, config),
      WriteKeySecretName: config.writeKeySecretName,
      DashboardName: monitoring.dashboard.dashboardName,
    });
  }

  private addOutputs(values: Record<string, string>): void {
    for (const [id, value] of Object.entries(values)) {
      new CfnOutput(this, id, { value });
    }
  }

  /**
   * Warns of each API destination endpoint and OAuth token endpoint with
   * a query string, because the URL is written into the template, where a
   * token in it is visible to anyone who reads the stack. A query string
   * may also hold values that are not secret, so it is a warning rather
   * than an error.
   */
  private warnOfQueryStrings(targets: readonly RoutingTarget[]): void {
    targets.forEach((target, index) => {
      if (target.type !== 'api-destination') return;
      const urls: Array<[string, string]> = [['endpoint', target.endpoint]];
      if (target.auth.type === 'oauth-client-credentials') {
        urls.push([
          'auth.authorizationEndpoint',
          target.auth.authorizationEndpoint,
        ]);
      }
      for (const [field, url] of urls) {
        if (!hasQueryString(url)) continue;
        Annotations.of(this).addWarningV2(
          'mql-engine:endpoint-query-string',
          `events.targets[${index}].${field} has a query string, which is ` +
            'written into the template. Put a token or other credential in ' +
            "the connection's auth secret instead.",
        );
      }
    });
  }
}

/** Returns an output per queue target, such as SalesQueueUrl. */
function queueUrlOutputs(
  routing: EventRouting,
  config: StageConfig,
): Record<string, string> {
  return Object.fromEntries(
    config.events.targets
      .filter((target) => target.type === 'queue')
      .map((target) => [
        `${queueOf(target).id}Url`,
        routing.queue(target.id).queueUrl,
      ]),
  );
}
