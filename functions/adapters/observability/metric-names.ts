/**
 * Names of the custom metrics, shared by the functions that emit them and
 * the CDK stack that alarms on them and draws them. Every metric has the
 * dimensions `service` (always mql-engine) and `stage`, never a lead id.
 */

/** CloudWatch namespace of the custom metrics. */
export const METRICS_NAMESPACE = 'MqlEngine';

/** Value of the `service` dimension and Powertools service name. */
export const SERVICE_NAME = 'mql-engine';

export const METRIC_NAMES = {
  /** Messages stored and scored (count). */
  eventsIngested: 'EventsIngested',
  /** Messages already stored, ignored (count). */
  duplicates: 'Duplicates',
  /** Messages rejected as invalid (count). */
  rejected: 'Rejected',
  /** Leads that became MQLs (count). */
  mqlsQualified: 'MqlsQualified',
  /** MQLs recycled (count). */
  leadsRecycled: 'LeadsRecycled',
  /** Events the bus did not accept, retryable or not (count). */
  publishFailures: 'PublishFailures',
  /** Events rejected for good, kept as failed outbox entries (count). */
  outboxFailed: 'OutboxFailed',
  /** Due items the sweep read from the review index (count). */
  sweepItemsRead: 'SweepItemsRead',
  /** Leads the sweep changed, each with one or more transitions (count). */
  sweepLeadsChanged: 'SweepLeadsChanged',
  /** Sweep runs that stopped at their deadline with items left (count). */
  sweepIncompleteRuns: 'SweepIncompleteRuns',
  /** Outbox entries the sweep found unpublished (count). */
  outboxPending: 'OutboxPending',
  /** Age of the oldest of those entries (seconds). */
  outboxOldestAge: 'OutboxOldestAgeSeconds',
} as const;

export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];
