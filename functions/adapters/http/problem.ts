import {
  AuthenticationError,
  CapacityExceededError,
  ConcurrencyError,
  ConflictError,
  MalformedBodyError,
  type MqlEngineError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from '../../domain/errors.js';
import type { Log } from '../../ports/logger.js';
import type { HttpResponse } from './responses.js';

/** An RFC 9457 problem details body. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId?: string;
  errors?: Array<{ field: string; message: string }>;
}

const PROBLEM_TYPE_PREFIX = 'urn:mql-engine:problem:';

interface ProblemMapping {
  status: number;
  title: string;
  headers?: Record<string, string>;
}

/** Status and title of each error class that clients can cause or retry. */
const MAPPINGS: Array<
  [new (...args: never[]) => MqlEngineError, ProblemMapping]
> = [
  [ValidationError, { status: 400, title: 'Invalid request' }],
  [MalformedBodyError, { status: 400, title: 'Malformed request body' }],
  [
    AuthenticationError,
    {
      status: 401,
      title: 'Unauthorized',
      headers: { 'www-authenticate': 'Basic realm="mql-engine"' },
    },
  ],
  [NotFoundError, { status: 404, title: 'Not found' }],
  [ConflictError, { status: 409, title: 'Conflict' }],
  [PayloadTooLargeError, { status: 413, title: 'Payload too large' }],
  [
    ConcurrencyError,
    {
      status: 503,
      title: 'Concurrent update',
      headers: { 'retry-after': '1' },
    },
  ],
  [
    CapacityExceededError,
    {
      status: 503,
      title: 'Capacity exceeded',
      headers: { 'retry-after': '1' },
    },
  ],
];

/**
 * Converts any error into a problem+json response. Errors the engine
 * raises on purpose keep their message; anything else becomes a generic
 * 500 and is logged with its cause, never echoed to the client.
 */
export function problemResponse(
  error: unknown,
  log: Log,
  requestId?: string,
): HttpResponse {
  const match = MAPPINGS.find(([type]) => error instanceof type);
  if (match === undefined) {
    log.error('request failed', { error, requestId });
    return problem(
      {
        type: `${PROBLEM_TYPE_PREFIX}internal-error`,
        title: 'Internal error',
        status: 500,
        detail: 'The request failed on the server. Retry it later.',
        ...(requestId === undefined ? {} : { requestId }),
      },
      {},
    );
  }
  const [, mapping] = match;
  const known = error as MqlEngineError;
  const body: ProblemDetails = {
    type: `${PROBLEM_TYPE_PREFIX}${known.code}`,
    title: mapping.title,
    status: mapping.status,
    detail: known.message,
    ...(requestId === undefined ? {} : { requestId }),
  };
  if (known instanceof ValidationError && known.issues.length > 0) {
    body.errors = known.issues;
  }
  log.info('request rejected', {
    status: mapping.status,
    code: known.code,
    requestId,
  });
  return problem(body, mapping.headers ?? {});
}

function problem(
  body: ProblemDetails,
  headers: Record<string, string>,
): HttpResponse {
  return {
    statusCode: body.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify(body),
  };
}
