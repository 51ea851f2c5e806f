import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DecaySweep } from './constructs/decay-sweep.js';
import { EventRouting } from './constructs/event-routing.js';
import { LeadTable } from './constructs/lead-table.js';
import { ScoringFunctions } from './constructs/scoring-functions.js';
import { TrackingApi } from './constructs/tracking-api.js';
import { resourceName, SALES_QUEUE } from './definitions/event-routing.js';
import type { BundledModel } from './scoring-model.js';
import { formatWriteKeyDigests, type StageConfig } from './stage-config.js';

export interface MqlEngineStackProps extends StackProps {
  /** Validated configuration of the stage this stack deploys. */
  config: StageConfig;
  /** Validated scoring model embedded in the functions. */
  model: BundledModel;
  /** Repository root, where the function sources are bundled from. */
  projectRoot: string;
}

/** One stage of the engine: table, functions, API, events and sweep. */
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
      archiveRetentionDays: config.eventRetentionDays,
    });
    const functions = new ScoringFunctions(this, 'Functions', {
      projectRoot: props.projectRoot,
      table,
      eventBus: routing.eventBus,
      modelJson: props.model.json,
      writeKeyDigests: formatWriteKeyDigests(config),
      reviewShards: config.reviewShards,
      eventRetentionDays: config.eventRetentionDays,
      // A run ends within one period, so sweeps rarely overlap. An overlap
      // is still safe because every lead write checks the lead's version.
      sweepTimeout: Duration.minutes(Math.min(config.sweepRateMinutes, 5)),
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
    });
    new DecaySweep(this, 'DecaySweep', {
      handler: functions.sweep,
      rate: Duration.minutes(config.sweepRateMinutes),
    });

    this.addOutputs({
      ApiUrl: api.url,
      EventBusName: routing.eventBus.eventBusName,
      TableName: table.tableName,
      SalesQueueUrl: routing.queue(SALES_QUEUE.id).queueUrl,
    });
  }

  private addOutputs(values: Record<string, string>): void {
    for (const [id, value] of Object.entries(values)) {
      new CfnOutput(this, id, { value });
    }
  }
}
