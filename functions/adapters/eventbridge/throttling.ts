/**
 * Error codes of EventBridge throttling, as a request error's name or a
 * PutEvents entry's ErrorCode. EventBridge models ThrottlingException;
 * the others are the AWS-wide throttling codes of the same kind that the
 * SDK's retry strategy (@smithy/service-error-classification) retries.
 */
const THROTTLING_ERROR_CODES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);

/** Tells whether a PutEvents entry failed because it was throttled. */
export function isThrottlingCode(errorCode: string): boolean {
  return THROTTLING_ERROR_CODES.has(errorCode);
}

/**
 * Tells whether an EventBridge call failed because it was throttled:
 * a throttling error name or HTTP status 429.
 */
export function isThrottlingError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } })
    .$metadata?.httpStatusCode;
  return isThrottlingCode(error.name) || status === 429;
}
