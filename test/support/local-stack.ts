import {
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from '../../local/stack.js';

/** Options of a test stack: the keys, and any setting to override. */
export type TestStackOptions = Pick<
  LocalStackOptions,
  'writeKey' | 'adminToken'
> &
  Partial<LocalStackOptions>;

/**
 * Starts the local stack on a free port without the sweep timer, so that
 * a test runs each sweep itself. Routed events and status messages are
 * dropped unless `options` handle them.
 */
export function startTestStack(options: TestStackOptions): Promise<LocalStack> {
  return startLocalStack({
    port: 0,
    sweepIntervalSeconds: 0,
    onSalesEvent: () => undefined,
    onStatus: () => undefined,
    ...options,
  });
}
