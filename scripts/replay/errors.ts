import { blockedPortReason } from '../../local/fetch-failure.js';

/**
 * Base class of the failures that stop a replay. `code` is stable, so
 * callers can branch on it, and the message states what failed and what
 * to do next.
 */
export class ReplayError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A command-line option or argument that is missing or invalid. */
export class UsageError extends ReplayError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** An input file that is missing, unreadable or of an unknown format. */
export class InputFileError extends ReplayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('input-file', message, options);
  }
}

/** The API did not respond: nothing listens at the URL, or it timed out. */
export class ApiUnreachableError extends ReplayError {
  constructor(url: string, cause: unknown) {
    const blocked = blockedPortReason(cause, url);
    super(
      'api-unreachable',
      blocked === undefined
        ? `Cannot reach the mql-engine API at ${url} (${describeCause(cause)}). ` +
            'Start the local stack with `npm start` first, or pass --url.'
        : `Cannot reach the mql-engine API at ${url}: ${blocked}. ` +
            'Start the API on another port, such as `PORT=3000 npm start`, and pass its URL as --url.',
      { cause },
    );
  }
}

/** The API rejected the write key with 401. */
export class WriteKeyRejectedError extends ReplayError {
  constructor(url: string) {
    super(
      'write-key-rejected',
      `The API at ${url} rejected the write key (401 Unauthorized). ` +
        'Pass the key the API was started with, in MQL_WRITE_KEY or ' +
        '--write-key.',
    );
  }
}

/** The leads API rejected the admin token with 401. */
export class AdminTokenRejectedError extends ReplayError {
  constructor(url: string) {
    super(
      'admin-token-rejected',
      `The leads API at ${url} rejected the admin token (401 Unauthorized). ` +
        'Pass the token the API was started with, in MQL_ADMIN_TOKEN or ' +
        '--admin-token.',
    );
  }
}

/** A request that failed with a status that retrying cannot fix. */
export class RequestFailedError extends ReplayError {
  readonly status: number;

  constructor(description: string, status: number, detail: string) {
    super(
      'request-failed',
      `${description} failed with HTTP ${status}: ${detail}`,
    );
    this.status = status;
  }
}

/** Returns the most specific message of an error and its causes. */
export function describeCause(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const code = (error as { code?: unknown }).code;
  if (error.cause !== undefined) {
    return describeCause(error.cause);
  }
  return typeof code === 'string' && !error.message.includes(code)
    ? `${code}: ${error.message}`
    : error.message;
}
