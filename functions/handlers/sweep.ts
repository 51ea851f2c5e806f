import type { Context } from 'aws-lambda';
import {
  flushMetrics,
  recordSweepMetrics,
} from '../adapters/observability/metrics.js';
import { traceHandler } from '../adapters/observability/tracing.js';
import { runtime, startInvocation } from '../adapters/runtime.js';
import { runSweep, type SweepResult } from '../use-cases/run-sweep.js';

/** Time kept back from the Lambda timeout to finish the current item. */
const SAFETY_MARGIN_MS = 10_000;
/**
 * Run length when there is no Lambda context, as when a test calls the
 * handler.
 */
const DEFAULT_RUN_MS = 50_000;
/** Shortest run, for a function whose timeout is below the margin. */
const MIN_RUN_MS = 1_000;

/**
 * Scheduled decay sweep: recycles MQLs whose decayed score fell below the
 * recycle level, re-evaluates leads whose cooldown ended, and republishes
 * outbox entries left unsent. The schedule's execution id, when the event
 * carries one, becomes the correlation id of the run's log lines.
 */
export async function handler(
  event: unknown,
  context?: Context,
): Promise<SweepResult> {
  const executionId = executionIdOf(event);
  const { deps, metrics, tracer, ready } = startInvocation(
    await runtime(),
    executionId === undefined ? {} : { correlation_id: executionId },
    context,
  );
  const now = deps.clock();
  const deadline = sweepDeadline(now, context?.getRemainingTimeInMillis());
  try {
    await ready();
    const result = await traceHandler(tracer, 'sweep', () =>
      runSweep(deps, { now, deadline }),
    );
    recordSweepMetrics(metrics, result);
    return result;
  } finally {
    flushMetrics(metrics);
  }
}

/**
 * Returns when a run that starts at `now` stops taking new items: the
 * Lambda timeout less SAFETY_MARGIN_MS, or DEFAULT_RUN_MS without a Lambda
 * context, and never less than MIN_RUN_MS so a run always makes progress.
 */
export function sweepDeadline(now: number, remainingMs?: number): number {
  const budget =
    remainingMs === undefined ? DEFAULT_RUN_MS : remainingMs - SAFETY_MARGIN_MS;
  return now + Math.max(budget, MIN_RUN_MS);
}

function executionIdOf(event: unknown): string | undefined {
  if (event === null || typeof event !== 'object') return undefined;
  const { executionId } = event as { executionId?: unknown };
  return typeof executionId === 'string' ? executionId : undefined;
}
