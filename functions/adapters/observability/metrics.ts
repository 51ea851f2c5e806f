import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { IngestResult } from '../../use-cases/ingest-messages.js';
import type { PublishSummary } from '../../use-cases/publish-events.js';
import type { SweepResult } from '../../use-cases/run-sweep.js';
import type { TransitionCounts } from '../../use-cases/transition-counts.js';
import {
  METRIC_NAMES,
  METRICS_NAMESPACE,
  type MetricName,
  SERVICE_NAME,
} from './metric-names.js';

/**
 * Returns a Powertools Metrics instance that writes CloudWatch embedded
 * metric format (EMF) lines with the `service` and `stage` dimensions.
 * POWERTOOLS_METRICS_DISABLED=true turns the output off, as the local
 * runtime does.
 */
export function createMetrics(stageName: string): Metrics {
  return new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: SERVICE_NAME,
    defaultDimensions: { stage: stageName },
  });
}

/** Adds the counts of one ingest request. */
export function recordIngestMetrics(
  metrics: Metrics,
  result: IngestResult,
): void {
  addCount(metrics, METRIC_NAMES.eventsIngested, result.counts.scored);
  addCount(metrics, METRIC_NAMES.duplicates, result.counts.duplicate);
  addCount(metrics, METRIC_NAMES.rejected, result.counts.rejected);
  recordTransitionMetrics(metrics, result.transitions);
  recordPublishMetrics(metrics, result.events);
}

/** Adds the counts of one sweep run. */
export function recordSweepMetrics(
  metrics: Metrics,
  result: SweepResult,
): void {
  addCount(metrics, METRIC_NAMES.sweepItemsRead, result.read);
  addCount(metrics, METRIC_NAMES.sweepLeadsChanged, result.leadsChanged);
  addCount(
    metrics,
    METRIC_NAMES.sweepIncompleteRuns,
    result.incomplete ? 1 : 0,
  );
  recordTransitionMetrics(metrics, result);
  recordPublishMetrics(metrics, result);
  addCount(metrics, METRIC_NAMES.outboxPending, result.outboxPending);
  metrics.addMetric(
    METRIC_NAMES.outboxOldestAge,
    MetricUnit.Seconds,
    Math.round(result.oldestOutboxAgeMs / 1000),
  );
}

/**
 * Adds the status changes of one request or sweep run: qualifications
 * and recycles, such as the recycle or rejection of a sales request and
 * any recycle by decay that came due before it.
 */
export function recordTransitionMetrics(
  metrics: Metrics,
  transitions: TransitionCounts,
): void {
  addCount(metrics, METRIC_NAMES.mqlsQualified, transitions.qualified);
  addCount(metrics, METRIC_NAMES.leadsRecycled, transitions.recycled);
}

/**
 * Adds the publish counts of one ingest, sweep, sales or erasure request.
 * The recycle function records them too, so that the outbox-failed alarm
 * also covers its events.
 */
export function recordPublishMetrics(
  metrics: Metrics,
  summary: PublishSummary,
): void {
  addCount(metrics, METRIC_NAMES.publishFailures, summary.pending);
  addCount(metrics, METRIC_NAMES.outboxFailed, summary.failed);
}

/** Writes the stored metrics, if any, as one EMF line and clears them. */
export function flushMetrics(metrics: Metrics): void {
  if (metrics.hasStoredMetrics()) {
    metrics.publishStoredMetrics();
  }
}

function addCount(metrics: Metrics, name: MetricName, value: number): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}
