import type { Context } from 'aws-lambda';
import { runtime } from '../adapters/runtime.js';
import { runSweep, type SweepResult } from '../use-cases/run-sweep.js';

/** Time kept back from the Lambda timeout to finish the current item. */
const SAFETY_MARGIN_MS = 10_000;
/** Run length when there is no Lambda context (local timer). */
const DEFAULT_RUN_MS = 50_000;

/**
 * Scheduled decay sweep: recycles MQLs whose decayed score fell below the
 * recycle level, re-evaluates leads whose cooldown ended, and republishes
 * outbox entries left unsent.
 */
export async function handler(
  _event: unknown,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<SweepResult> {
  const { deps } = runtime();
  const now = deps.clock();
  const budget = context
    ? context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS
    : DEFAULT_RUN_MS;
  return runSweep(deps, { now, deadline: now + Math.max(budget, 1_000) });
}
