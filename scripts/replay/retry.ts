/** How often and how long to retry a failed request. */
export interface RetryPolicy {
  /** Attempts in total, including the first. */
  attempts: number;
  /** Delay cap of the first retry; it doubles with every retry. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
};

/**
 * Raised by an attempt that may succeed when repeated. `failure` is the
 * error to raise once no attempt is left.
 */
export class RetryableError extends Error {
  readonly failure: Error;
  readonly retryAfterMs: number | undefined;

  constructor(failure: Error, retryAfterMs?: number) {
    super(failure.message, { cause: failure });
    this.name = 'RetryableError';
    this.failure = failure;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Called before each retry with the error and the delay chosen. */
export type RetryListener = (
  error: RetryableError,
  attempt: number,
  delayMs: number,
) => void;

/**
 * Runs `operation` until it succeeds, raises an error that is not a
 * RetryableError, or runs out of attempts. Retries wait with exponential
 * backoff and full jitter, and at least as long as a Retry-After header
 * requests.
 */
export async function withRetry<T>(
  operation: () => Promise<T>,
  policy: RetryPolicy,
  onRetry?: RetryListener,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      if (attempt >= policy.attempts) throw error.failure;
      const delayMs = backoffDelay(policy, attempt, error.retryAfterMs);
      onRetry?.(error, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}

/** Returns the delay before retry number `attempt` (from 1). */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs = 0,
): number {
  const cap = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * 2 ** (attempt - 1),
  );
  return Math.max(retryAfterMs, Math.random() * cap);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
