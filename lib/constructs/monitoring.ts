import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  type IMetric,
  MathExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMES } from '../../functions/adapters/observability/metric-names.js';
import { resourceName } from '../definitions/event-routing.js';
import type { AlarmSettings, FunctionName } from '../stage-settings.js';
import { engineMetric, MONITORING_PERIOD } from './engine-metrics.js';
import type { TargetDeadLetterQueue } from './event-routing.js';
import { dashboardWidgets } from './monitoring-dashboard.js';

export interface MonitoringProps {
  stageName: string;
  /** Functions by their name in the stage configuration. */
  functions: Record<FunctionName, IFunction>;
  httpApi: IHttpApi;
  /** Queues that consumers read, each with its dead-letter queue. */
  queues: readonly Queue[];
  /** Dead-letter queue of every routing target, alarmed on. */
  deadLetterQueues: readonly TargetDeadLetterQueue[];
  /** Thresholds and where alarms are sent. */
  alarms: AlarmSettings;
  /** Rate of the decay sweep's schedule, which sizes `sweep-stalled`. */
  sweepRate: Duration;
}

/**
 * Requests per period below which the API 5xx rate is taken as 0, so two
 * failures among three requests of a quiet stage do not page anyone.
 */
export const MIN_REQUESTS_FOR_5XX_RATE = 20;

/**
 * Sweep intervals without an invocation that raise `sweep-stalled`. A
 * single late or throttled start needs no page, because the next run
 * catches up.
 */
export const SWEEP_STALLED_INTERVALS = 3;

/** CloudWatch's limit on an alarm's period times its evaluation periods. */
const MAX_ALARM_WINDOW_SECONDS = 86_400;

/**
 * Returns the period of the `sweep-stalled` alarm: SWEEP_STALLED_INTERVALS
 * times the sweep rate, rounded up to whole minutes, because CloudWatch
 * takes periods of 10, 20 or 30 seconds or a multiple of 60. Raises when
 * the period exceeds one day, which CloudWatch rejects.
 */
export function sweepStalledPeriod(sweepRate: Duration): Duration {
  const seconds = SWEEP_STALLED_INTERVALS * sweepRate.toSeconds();
  const period = Duration.minutes(Math.ceil(seconds / 60));
  if (period.toSeconds() > MAX_ALARM_WINDOW_SECONDS) {
    throw new Error(
      `The sweep-stalled alarm period, ${SWEEP_STALLED_INTERVALS} times the sweep rate of ${sweepRate.toHumanString()}, exceeds CloudWatch's limit of one day. Use a sweep rate of at most ${MAX_ALARM_WINDOW_SECONDS / 60 / SWEEP_STALLED_INTERVALS} minutes.`,
    );
  }
  return period;
}

/**
 * The stage's alarms and its CloudWatch dashboard. Alarms cover function
 * errors and throttles, dead-letter queue depth, the age of unpublished
 * outbox entries, a sweep that stopped running and the API 5xx rate. Each one notifies the configured
 * SNS topics, and a topic it creates for `alarms.emails`, when it fires
 * and when it recovers.
 */
export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;
  /** Topic created for the email subscriptions, if any. */
  readonly emailTopic: Topic | undefined;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.emailTopic = this.createEmailTopic(props);
    const topics = this.alarmTopics(props);
    this.addFunctionAlarms(props);
    this.addQueueAlarms(props);
    this.addOutboxAlarm(props);
    this.addSweepAlarm(props);
    this.addApiAlarm(props);
    for (const alarm of this.alarms) {
      for (const topic of topics) {
        alarm.addAlarmAction(new SnsAction(topic));
        alarm.addOkAction(new SnsAction(topic));
      }
    }
    // Dashboard names are global to the account, unlike the stack's other
    // names, so the Region keeps one stage in two Regions apart.
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${resourceName(props.stageName)}-${Stack.of(this).region}`,
      widgets: dashboardWidgets({ ...props, alarms: this.alarms }),
    });
  }

  private addFunctionAlarms(props: MonitoringProps): void {
    for (const [name, fn] of Object.entries(props.functions)) {
      this.addAlarm(props, `${name}-errors`, {
        description: `The ${name} function failed: an uncaught error, a timeout or a crash.`,
        metric: fn.metricErrors({ period: MONITORING_PERIOD }),
        threshold: 1,
      });
      this.addAlarm(props, `${name}-throttles`, {
        description: `Lambda throttled the ${name} function: it reached its reserved or the account's concurrency.`,
        metric: fn.metricThrottles({ period: MONITORING_PERIOD }),
        threshold: 1,
      });
    }
  }

  private addQueueAlarms(props: MonitoringProps): void {
    for (const { targetId, queue: deadLetters } of props.deadLetterQueues) {
      this.addAlarm(props, `${targetId}-dead-letters`, {
        description: `Events are in the dead-letter queue of target ${targetId}: the bus could not deliver them, or a consumer failed them 5 times.`,
        metric: deadLetters.metricApproximateNumberOfMessagesVisible({
          period: MONITORING_PERIOD,
          statistic: 'Maximum',
        }),
        threshold: 1,
      });
    }
  }

  private addOutboxAlarm(props: MonitoringProps): void {
    const { outboxAgeMinutes } = props.alarms;
    this.addAlarm(props, 'outbox-age', {
      description: `An outbox entry stayed unpublished for more than ${outboxAgeMinutes} minutes: the bus keeps rejecting it or the sweep is not running.`,
      metric: engineMetric(props.stageName, METRIC_NAMES.outboxOldestAge, {
        statistic: 'Maximum',
      }),
      threshold: outboxAgeMinutes * 60,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.addAlarm(props, 'outbox-failed', {
      description:
        'The bus rejected an event with a non-retryable error; it is kept as a failed outbox entry until an operator retries it.',
      metric: engineMetric(props.stageName, METRIC_NAMES.outboxFailed),
      threshold: 1,
    });
  }

  /**
   * Adds `sweep-stalled`, which fires when the schedule stopped invoking
   * the sweep. Lambda sends no Invocations data point for a period without
   * invocations, and leaves throttled starts out of it, so missing data
   * counts as breaching. NOTE: a new stage has no data until the first
   * run, so this alarm can fire once right after the first deployment and
   * recovers with that run.
   */
  private addSweepAlarm(props: MonitoringProps): void {
    const period = sweepStalledPeriod(props.sweepRate);
    const minutes = period.toMinutes();
    this.addAlarm(props, 'sweep-stalled', {
      description: `The decay sweep was not invoked for ${minutes} minutes, ${SWEEP_STALLED_INTERVALS} times its interval: its EventBridge Scheduler schedule is disabled, deleted or cannot invoke the function, or Lambda throttled every start. Decay, recycling and outbox retries wait until it runs again.`,
      metric: props.functions.sweep.metricInvocations({
        period,
        statistic: 'Sum',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.BREACHING,
    });
  }

  private addApiAlarm(props: MonitoringProps): void {
    const { api5xxPercent } = props.alarms;
    const rate = new MathExpression({
      label: 'API 5xx rate (%)',
      expression: `IF(requests >= ${MIN_REQUESTS_FOR_5XX_RATE}, 100 * errors / requests, 0)`,
      usingMetrics: {
        errors: props.httpApi.metricServerError({
          period: MONITORING_PERIOD,
          statistic: 'Sum',
        }),
        requests: props.httpApi.metricCount({
          period: MONITORING_PERIOD,
          statistic: 'Sum',
        }),
      },
      period: MONITORING_PERIOD,
    });
    this.addAlarm(props, 'api-5xx-rate', {
      description: `More than ${api5xxPercent} % of API requests were answered with a 5xx status.`,
      metric: rate,
      threshold: api5xxPercent,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
  }

  private addAlarm(
    props: MonitoringProps,
    suffix: string,
    options: {
      description: string;
      metric: IMetric;
      threshold: number;
      comparisonOperator?: ComparisonOperator;
      treatMissingData?: TreatMissingData;
    },
  ): void {
    const alarmName = resourceName(props.stageName, suffix);
    const alarm = new Alarm(this, alarmName, {
      alarmName,
      alarmDescription: `${options.description} Runbook: README, Operations, alarm ${suffix}.`,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator:
        options.comparisonOperator ??
        ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData:
        options.treatMissingData ?? TreatMissingData.NOT_BREACHING,
    });
    this.alarms.push(alarm);
  }

  private alarmTopics(props: MonitoringProps): ITopic[] {
    const topics: ITopic[] = props.alarms.topicArns.map((arn, index) =>
      Topic.fromTopicArn(this, `AlarmTopic${index}`, arn),
    );
    if (this.emailTopic !== undefined) topics.push(this.emailTopic);
    return topics;
  }

  /**
   * Creates the topic for `alarms.emails`, encrypted with its own key,
   * because CloudWatch cannot publish to a topic encrypted with the AWS
   * managed SNS key.
   */
  private createEmailTopic(props: MonitoringProps): Topic | undefined {
    if (props.alarms.emails.length === 0) return undefined;
    // The key keeps the default key policy, which allows kms:* to the
    // account root: that is what lets IAM policies manage the key at all.
    const key = new Key(this, 'AlarmTopicKey', {
      description: `Encrypts the alarm notifications of ${resourceName(props.stageName)}.`,
      enableKeyRotation: true,
      // The key encrypts notifications only while SNS delivers them, so
      // deleting it with the stack loses no stored data.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // SNS documents kms:GenerateDataKey* for publishers to encrypted
    // topics; the conditions limit it to this stage's alarms.
    key.addToResourcePolicy(
      cloudWatchStatement(props.stageName, this, {
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    const topic = new Topic(this, 'AlarmTopic', {
      topicName: resourceName(props.stageName, 'alarms'),
      masterKey: key,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      cloudWatchStatement(props.stageName, this, {
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
      }),
    );
    for (const email of props.alarms.emails) {
      topic.addSubscription(new EmailSubscription(email));
    }
    return topic;
  }
}

/**
 * Returns a resource policy statement for CloudWatch acting for this
 * stage's alarms only, which guards against the confused deputy problem.
 */
function cloudWatchStatement(
  stageName: string,
  scope: Construct,
  grant: { actions: string[]; resources: string[] },
): PolicyStatement {
  const stack = Stack.of(scope);
  const alarmArns = stack.formatArn({
    service: 'cloudwatch',
    resource: 'alarm',
    resourceName: `${resourceName(stageName)}-*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  return new PolicyStatement({
    principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
    ...grant,
    conditions: {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': alarmArns },
    },
  });
}
