import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describeCause, ReplayError, UsageError } from './replay/errors.js';

/** Node.js socket error codes of an endpoint that did not respond. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
]);

/** A lead table that a command-line tool could not read or write. */
export class TableAccessError extends ReplayError {
  constructor(message: string, cause: unknown) {
    super('table-access', message, { cause });
  }
}

/**
 * Raises a UsageError when the client has neither an endpoint nor an AWS
 * region, which the SDK would report only as "Region is missing".
 */
export async function requireRegion(client: DynamoDBClient): Promise<void> {
  try {
    await client.config.region();
  } catch {
    throw new UsageError(
      'No DynamoDB endpoint and no AWS region. For the local stack, pass ' +
        'the DynamoDB Local endpoint that `npm start` prints as --endpoint ' +
        'or AWS_ENDPOINT_URL_DYNAMODB. For a table in AWS, set AWS_REGION.',
    );
  }
}

/**
 * The options or variables that set a command's table and endpoint,
 * such as `TABLE_NAME`; undefined for a default.
 */
export interface TargetSources {
  table?: string;
  endpoint?: string;
}

/**
 * Returns a TableAccessError that states why a request to `table` failed
 * and what to do: a table that does not exist, or an endpoint that
 * does not respond. The advice names the variable that set the table or
 * endpoint when one did. Other failures keep the message of the SDK.
 */
export function tableAccessError(
  error: unknown,
  table: string,
  endpoint: string | undefined,
  sources: TargetSources = {},
): TableAccessError {
  const where = endpoint ?? 'AWS';
  const name = error instanceof Error ? error.name : '';
  if (name === 'ResourceNotFoundException') {
    return new TableAccessError(
      `The table ${table} was not found at ${where}. ` +
        `${tableAdvice(sources.table)}; \`npm start\` creates mql-engine-local.` +
        (endpoint === undefined
          ? ''
          : ' If the table exists, check that the endpoint is the DynamoDB URL of the "ready:" line of `npm start`, not the moto one.'),
      error,
    );
  }
  if (isConnectionError(error)) {
    return new TableAccessError(
      `Cannot reach DynamoDB at ${where} (${describeCause(error)}). ` +
        `Start the local stack with \`npm start\` and ${endpointAdvice(sources.endpoint)}.`,
      error,
    );
  }
  if (endpoint !== undefined && isTlsMismatch(error)) {
    return new TableAccessError(
      `The endpoint ${endpoint} does not speak TLS, so https:// cannot ` +
        `reach it. DynamoDB Local serves plain HTTP: use ` +
        `${endpoint.replace(/^https:/i, 'http:')}.`,
      error,
    );
  }
  const status = nonDynamoDbStatus(error);
  if (endpoint !== undefined && status !== undefined) {
    return new TableAccessError(
      `The endpoint ${endpoint} is not DynamoDB: it responded with HTTP ` +
        `${status} without a DynamoDB request id, so it is likely another ` +
        `server, such as the mql-engine API. ${capitalize(endpointAdvice(sources.endpoint, 'of `npm start`'))}.`,
      error,
    );
  }
  const failure = `Reading the table ${table} at ${where} failed: ${describeCause(error)}`;
  if (name === 'ValidationException' && isKeySchemaMismatch(error)) {
    return new TableAccessError(
      `${failure.replace(/\.?$/, '.')} The table ${table} does not have the ` +
        `keys and indexes of a lead table. ${tableAdvice(sources.table)}.`,
      error,
    );
  }
  return new TableAccessError(failure, error);
}

/**
 * Tells whether DynamoDB rejected a request because the table lacks a key
 * or index of the lead table, as it does for a table of another
 * application.
 */
function isKeySchemaMismatch(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /key schema element|does not have the specified index/i.test(message);
}

function tableAdvice(source: string | undefined): string {
  if (source === undefined || source.startsWith('--')) {
    return 'Pass the lead table with --table';
  }
  return `${source} set this name; set it to the lead table or pass --table`;
}

function endpointAdvice(source: string | undefined, ofCommand = ''): string {
  const endpoint = `the DynamoDB Local endpoint from the "ready:" line ${ofCommand || 'it prints'}`;
  if (source === undefined || source.startsWith('--')) {
    return `pass ${endpoint} as --endpoint`;
  }
  return `set ${source}, or pass --endpoint, to ${endpoint}`;
}

/**
 * Returns the HTTP status of a response that did not come from DynamoDB,
 * or undefined. DynamoDB and DynamoDB Local send an x-amzn-RequestId
 * header with every response, which the SDK reports as
 * `$metadata.requestId`, so an HTTP response without it came from
 * another server.
 */
function nonDynamoDbStatus(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: unknown } | undefined)?.$metadata;
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const { httpStatusCode, requestId } = metadata as {
    httpStatusCode?: unknown;
    requestId?: unknown;
  };
  if (typeof httpStatusCode !== 'number' || requestId !== undefined) {
    return undefined;
  }
  return httpStatusCode;
}

/**
 * Tells whether a TLS handshake failed because the server responded in
 * plain HTTP, as DynamoDB Local does to an https:// endpoint. OpenSSL
 * then reports "wrong version number" with the code EPROTO.
 */
function isTlsMismatch(error: unknown): boolean {
  let current: unknown = error;
  while (current instanceof Error) {
    const code = (current as { code?: unknown }).code;
    if (
      code === 'EPROTO' ||
      code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
      /wrong version number/i.test(current.message)
    ) {
      return true;
    }
    current = current.cause;
  }
  return false;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Tells whether `error`, or an error that caused it, is a failed connection. */
export function isConnectionError(error: unknown): boolean {
  let current: unknown = error;
  while (current instanceof Error) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) {
      return true;
    }
    current = current.cause;
  }
  return false;
}
