import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  type Alarm,
  AlarmStatusWidget,
  GraphWidget,
  type IMetric,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import {
  METRIC_NAMES,
  type MetricName,
} from '../../functions/adapters/observability/metric-names.js';
import type { FunctionName } from '../stage-settings.js';
import { engineMetric, MONITORING_PERIOD } from './engine-metrics.js';
import type { TargetDeadLetterQueue } from './event-routing.js';

/** Sources of the metrics and alarms on one stage's dashboard. */
export interface DashboardSources {
  stageName: string;
  functions: Record<FunctionName, IFunction>;
  httpApi: IHttpApi;
  queues: readonly Queue[];
  /** Dead-letter queue of every routing target, API destinations too. */
  deadLetterQueues: readonly TargetDeadLetterQueue[];
  alarms: readonly Alarm[];
}

const WIDTH = 8;
const HEIGHT = 6;

/**
 * Returns the dashboard's rows: alarm states; API traffic; what ingest and
 * the sweep did; publishing and the outbox; the functions; the queues.
 */
export function dashboardWidgets(sources: DashboardSources): IWidget[][] {
  return [
    [
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...sources.alarms],
        width: 24,
        height: 4,
      }),
    ],
    apiRow(sources.httpApi),
    engineRow(sources.stageName),
    functionRow(sources.functions),
    [queueWidget(sources.queues, sources.deadLetterQueues)],
  ];
}

function apiRow(api: IHttpApi): IWidget[] {
  const sum = { period: MONITORING_PERIOD, statistic: 'Sum' };
  return [
    graph('API requests', [
      api.metricCount({ ...sum, label: 'requests' }),
      api.metricClientError({ ...sum, label: '4xx' }),
      api.metricServerError({ ...sum, label: '5xx' }),
    ]),
    graph('API latency (ms)', [
      api.metricLatency({ period: MONITORING_PERIOD, statistic: 'p50' }),
      api.metricLatency({ period: MONITORING_PERIOD, statistic: 'p99' }),
    ]),
  ];
}

function engineRow(stageName: string): IWidget[] {
  const sums = (names: MetricName[]) =>
    names.map((name) => engineMetric(stageName, name, { label: name }));
  return [
    graph(
      'Tracking messages',
      sums([
        METRIC_NAMES.eventsIngested,
        METRIC_NAMES.duplicates,
        METRIC_NAMES.rejected,
      ]),
    ),
    graph(
      'Lead transitions',
      sums([METRIC_NAMES.mqlsQualified, METRIC_NAMES.leadsRecycled]),
    ),
    graph(
      'Decay sweep',
      sums([
        METRIC_NAMES.sweepItemsRead,
        METRIC_NAMES.sweepLeadsChanged,
        METRIC_NAMES.sweepIncompleteRuns,
      ]),
    ),
    new GraphWidget({
      title: 'Publishing and outbox',
      left: sums([
        METRIC_NAMES.publishFailures,
        METRIC_NAMES.outboxFailed,
        METRIC_NAMES.outboxPending,
      ]),
      right: [
        engineMetric(stageName, METRIC_NAMES.outboxOldestAge, {
          statistic: 'Maximum',
          label: 'oldest outbox entry (s)',
        }),
      ],
      width: WIDTH,
      height: HEIGHT,
    }),
  ];
}

function functionRow(functions: Record<FunctionName, IFunction>): IWidget[] {
  const entries = Object.entries(functions);
  const sum = { period: MONITORING_PERIOD, statistic: 'Sum' };
  return [
    graph(
      'Function errors and throttles',
      entries.flatMap(([name, fn]) => [
        fn.metricErrors({ ...sum, label: `${name} errors` }),
        fn.metricThrottles({ ...sum, label: `${name} throttles` }),
      ]),
    ),
    graph(
      'Function duration p99 (ms)',
      entries.map(([name, fn]) =>
        fn.metricDuration({
          period: MONITORING_PERIOD,
          statistic: 'p99',
          label: name,
        }),
      ),
    ),
    graph(
      'Function invocations',
      entries.map(([name, fn]) =>
        fn.metricInvocations({ ...sum, label: name }),
      ),
    ),
  ];
}

function queueWidget(
  queues: readonly Queue[],
  deadLetterQueues: readonly TargetDeadLetterQueue[],
): IWidget {
  const maximum = { period: MONITORING_PERIOD, statistic: 'Maximum' };
  return graph(
    'Queue depth',
    [
      ...queues.map((queue) =>
        queue.metricApproximateNumberOfMessagesVisible({
          ...maximum,
          label: queue.node.id,
        }),
      ),
      ...deadLetterQueues.map(({ targetId, queue }) =>
        queue.metricApproximateNumberOfMessagesVisible({
          ...maximum,
          label: `${targetId} dead letters`,
        }),
      ),
    ],
    24,
  );
}

function graph(title: string, metrics: IMetric[], width = WIDTH): GraphWidget {
  return new GraphWidget({ title, left: metrics, width, height: HEIGHT });
}
