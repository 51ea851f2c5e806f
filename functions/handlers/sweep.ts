import type { Context } from 'aws-lambda';
import {
  flushMetrics,
  recordSweepMetrics,
} from '../adapters/observability/metrics.js';
import { traceHandler } from '../adapters/observability/tracing.js';
import { runtime } from '../adapters/runtime.js';
import { runSweep, type SweepResult } from '../use-cases/run-sweep.js';

/** Time kept back from the Lambda timeout to finish the current item. */
const SAFETY_MARGIN_MS = 10_000;
/** Run length when there is no Lambda context (local timer). */
const DEFAULT_RUN_MS = 50_000;

/**
 * Scheduled decay sweep: recycles MQLs whose decayed score fell below the
 * recycle level, re-evaluates leads whose cooldown ended, and republishes
 * outbox entries left unsent. The schedule's execution id, when the event
 * carries one, becomes the correlation id of the run's log lines.
 */
export async function handler(
  event: unknown,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<SweepResult> {
  const { deps, logger, metrics, tracer } = runtime();
  logger.setCorrelationId(executionIdOf(event));
  const now = deps.clock();
  const budget = context
    ? context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS
    : DEFAULT_RUN_MS;
  try {
    const result = await traceHandler(tracer, 'sweep', () =>
      runSweep(deps, { now, deadline: now + Math.max(budget, 1_000) }),
    );
    recordSweepMetrics(metrics, result);
    return result;
  } finally {
    flushMetrics(metrics);
    logger.removeKeys(['correlation_id']);
  }
}

function executionIdOf(event: unknown): string | undefined {
  if (event === null || typeof event !== 'object') return undefined;
  const { executionId } = event as { executionId?: unknown };
  return typeof executionId === 'string' ? executionId : undefined;
}
