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
    ...queueWidgets(sources.queues, sources.deadLetterQueues).map((widget) => [
      widget,
    ]),
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

/**
 * CloudWatch's limit of metrics and expressions in one metric widget
 * ("One metrics array can include 0–100 metrics and expressions", as the
 * Pulumi awsx CloudWatch docs restate CloudWatch's dashboard body syntax).
 * NOTE: taken from that restatement, not from an AWS page.
 */
const MAX_WIDGET_METRICS = 100;

/**
 * Returns the queue depth graphs: every queue, then every dead-letter
 * queue, at most MAX_WIDGET_METRICS per graph. A stage with more than 50
 * queue targets has more, and CloudWatch rejects a larger graph.
 */
function queueWidgets(
  queues: readonly Queue[],
  deadLetterQueues: readonly TargetDeadLetterQueue[],
): IWidget[] {
  const maximum = { period: MONITORING_PERIOD, statistic: 'Maximum' };
  const metrics = [
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
  ];
  const widgets: IWidget[] = [];
  for (let start = 0; start < metrics.length; start += MAX_WIDGET_METRICS) {
    const part = widgets.length === 0 ? '' : ` (${widgets.length + 1})`;
    widgets.push(
      graph(
        `Queue depth${part}`,
        metrics.slice(start, start + MAX_WIDGET_METRICS),
        24,
      ),
    );
  }
  return widgets;
}

function graph(title: string, metrics: IMetric[], width = WIDTH): GraphWidget {
  return new GraphWidget({ title, left: metrics, width, height: HEIGHT });
}
