import { parseJsonBody } from '../adapters/http/request-body.js';
import {
  type HttpRequest,
  headerValue,
  jsonResponse,
} from '../adapters/http/responses.js';
import { AuthenticationError, ValidationError } from '../domain/errors.js';
import type { WriteKeyVerifier } from '../ports/write-keys.js';
import { ingestMessages } from '../use-cases/ingest-messages.js';
import { httpHandler } from './http-handler.js';

/** Maximum body of a batch request in UTF-8 bytes, as Segment's API. */
export const MAX_BATCH_BYTES = 500 * 1024;

/**
 * POST /v1/batch: a Segment batch (`{batch: [...], sentAt?, writeKey?}`),
 * authenticated by the write key as the HTTP Basic user name or in the
 * body. Answers 200 with a result per message, so one bad message never
 * makes a client drop or resend the whole batch.
 */
export const handler = httpHandler(async (request, { deps, writeKeys }) => {
  const headerKey = basicAuthUser(request);
  let sourceId =
    headerKey === undefined
      ? undefined
      : await authenticate(writeKeys, headerKey);
  const body = parseJsonBody(request, MAX_BATCH_BYTES);
  sourceId ??= await authenticate(writeKeys, bodyWriteKey(body));

  const messages = batchMessages(body);
  const result = await ingestMessages(deps, {
    sourceId,
    messages,
    receivedAt: deps.clock(),
  });
  return jsonResponse(200, result);
});

async function authenticate(
  writeKeys: WriteKeyVerifier,
  writeKey: string | undefined,
): Promise<string> {
  const sourceId =
    writeKey === undefined ? undefined : await writeKeys.verify(writeKey);
  if (sourceId === undefined) {
    throw new AuthenticationError(
      'Missing or invalid write key. Send it as the HTTP Basic user name.',
    );
  }
  return sourceId;
}

/** Returns the user name of an HTTP Basic Authorization header. */
export function basicAuthUser(request: HttpRequest): string | undefined {
  const header = headerValue(request, 'authorization');
  const match = header?.match(/^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i);
  if (!match?.[1]) {
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  const user = separator === -1 ? decoded : decoded.slice(0, separator);
  return user === '' ? undefined : user;
}

function bodyWriteKey(body: unknown): string | undefined {
  const key = isObject(body) ? body.writeKey : undefined;
  return typeof key === 'string' && key !== '' ? key : undefined;
}

/**
 * Returns the batch's messages, each with the batch's `sentAt` when it has
 * none of its own, for clock-skew correction.
 */
function batchMessages(body: unknown): unknown[] {
  if (!isObject(body) || !Array.isArray(body.batch)) {
    throw new ValidationError(
      'The body must be an object with a batch array.',
      [{ field: 'batch', message: 'must be an array of messages' }],
    );
  }
  const { sentAt } = body;
  return body.batch.map((message) =>
    isObject(message) && message.sentAt === undefined && sentAt !== undefined
      ? { ...message, sentAt }
      : message,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
