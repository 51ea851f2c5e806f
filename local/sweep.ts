import { randomUUID } from 'node:crypto';
import type { SweepResult } from '../functions/use-cases/run-sweep.js';
import {
  type LocalFunctionSettings,
  localLambdaContext,
} from './lambda-context.js';

/**
 * Runs the decay sweep handler once, with a Lambda context whose remaining
 * time counts down from the sweep function's timeout. So a local run
 * stops taking items, and leaves the rest due for the next run, at the
 * point where a deployed run does (see sweepDeadline).
 */
export async function runLocalSweep(
  settings: LocalFunctionSettings,
): Promise<SweepResult> {
  const { handler } = await import('../functions/handlers/sweep.js');
  // The context starts once the handler module is loaded, because Lambda
  // runs a module's top level in its init phase, outside the timeout.
  return handler({}, localLambdaContext('sweep', settings, randomUUID()));
}
