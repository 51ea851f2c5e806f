/**
 * Event bus, routing rules and queues, as plain data. The CDK stack builds
 * them in AWS and the local runtime builds the same ones in moto, so
 * routing is exercised locally exactly as it is defined.
 */

/** Source of every event the engine publishes. */
export const EVENT_SOURCE = 'mql-engine';

export interface QueueDefinition {
  /** Construct id in the CDK stack. */
  id: string;
  /** Queue name suffix; the full name is `mql-engine-<stage>-<suffix>`. */
  nameSuffix: string;
  description: string;
}

export interface RuleDefinition {
  /** Construct id in the CDK stack. */
  id: string;
  /** Rule name suffix; the full name is `mql-engine-<stage>-<suffix>`. */
  nameSuffix: string;
  description: string;
  eventPattern: Record<string, unknown>;
  /** Id of the queue the rule delivers to. */
  targetQueueId: string;
}

export const SALES_QUEUE: QueueDefinition = {
  id: 'SalesQueue',
  nameSuffix: 'sales',
  description: 'Lead Qualified events for sales-tool connectors.',
};

export const LEAD_QUALIFIED_TO_SALES: RuleDefinition = {
  id: 'LeadQualifiedToSales',
  nameSuffix: 'lead-qualified-to-sales',
  description: 'Routes every Lead Qualified event to the sales queue.',
  eventPattern: {
    source: [EVENT_SOURCE],
    'detail-type': ['Lead Qualified'],
  },
  targetQueueId: SALES_QUEUE.id,
};

export const QUEUES: readonly QueueDefinition[] = [SALES_QUEUE];
export const RULES: readonly RuleDefinition[] = [LEAD_QUALIFIED_TO_SALES];

/** Returns the name of a stage's resource: `mql-engine-<stage>[-suffix]`. */
export function resourceName(stage: string, suffix?: string): string {
  return suffix === undefined
    ? `mql-engine-${stage}`
    : `mql-engine-${stage}-${suffix}`;
}
