import { Duration } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import {
  METRICS_NAMESPACE,
  type MetricName,
  SERVICE_NAME,
} from '../../functions/adapters/observability/metric-names.js';

/** Period of every alarm and dashboard metric. */
export const MONITORING_PERIOD = Duration.minutes(5);

/**
 * Returns a custom metric of the engine for one stage, with the dimensions
 * that the functions' Powertools Metrics write.
 */
export function engineMetric(
  stageName: string,
  name: MetricName,
  options: { statistic?: string; label?: string } = {},
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME, stage: stageName },
    statistic: options.statistic ?? 'Sum',
    period: MONITORING_PERIOD,
    label: options.label,
  });
}
