/** One invalid field: a JSON path such as `batch[2].timestamp` and why. */
export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * Base class of every failure the engine raises on purpose. `code` is
 * stable and safe to show to clients; `cause` keeps the underlying error.
 */
export class MqlEngineError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Input that does not match its schema; lists every invalid field. */
export class ValidationError extends MqlEngineError {
  readonly issues: FieldIssue[];

  constructor(message: string, issues: FieldIssue[] = []) {
    super('invalid-request', message);
    this.issues = issues;
  }
}

/** A request body that cannot be read at all (not JSON, bad encoding). */
export class MalformedBodyError extends MqlEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('malformed-body', message, options);
  }
}

/** A request body larger than the route accepts. */
export class PayloadTooLargeError extends MqlEngineError {
  readonly limitBytes: number;

  constructor(message: string, limitBytes: number) {
    super('payload-too-large', message);
    this.limitBytes = limitBytes;
  }
}

/** Missing or wrong credentials. The message never says which. */
export class AuthenticationError extends MqlEngineError {
  constructor(message = 'Missing or invalid credentials.') {
    super('unauthorized', message);
  }
}

/** A lead, account or route that does not exist. */
export class NotFoundError extends MqlEngineError {
  /**
   * Message for traces when `message` names something that logs show
   * only as a hash, such as a company account. Undefined otherwise.
   */
  readonly traceMessage: string | undefined;

  constructor(message: string, options: { traceMessage?: string } = {}) {
    super('not-found', message);
    this.traceMessage = options.traceMessage;
  }
}

/** A request that the resource's current state does not allow. */
export class ConflictError extends MqlEngineError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** A scoring model document that fails validation. */
export class InvalidModelError extends MqlEngineError {
  readonly issues: FieldIssue[];

  constructor(message: string, issues: FieldIssue[]) {
    super('invalid-model', message);
    this.issues = issues;
  }
}

/**
 * A conditional write that kept losing to concurrent writers after every
 * retry. Safe to retry the whole request: nothing of it was stored.
 */
export class ConcurrencyError extends MqlEngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('concurrent-update', message, options);
  }
}

/**
 * A request that DynamoDB (or Secrets Manager, for the write key secret)
 * throttled after the SDK's own retries, because a throughput limit was
 * reached. The throttled call stored nothing, so the request can be sent
 * again unchanged.
 */
export class CapacityExceededError extends MqlEngineError {
  /**
   * @param options.service what throttled the request.
   *   @default 'The lead table'
   */
  constructor(options?: { cause?: unknown; service?: string }) {
    super(
      'capacity-exceeded',
      `${options?.service ?? 'The lead table'} reached its throughput ` +
        'limit and throttled this request. Retry it unchanged after a ' +
        'short delay. Parts of it that were already stored are not ' +
        'stored twice.',
      { cause: options?.cause },
    );
  }
}
