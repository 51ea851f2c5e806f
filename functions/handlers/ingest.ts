import type { TrackingResponse } from '../adapters/config.js';
import type { ApiRequest } from '../adapters/http/api-request.js';
import { basicAuthUser } from '../adapters/http/basic-auth.js';
import { readJsonBody } from '../adapters/http/request-body.js';
import { jsonResponse } from '../adapters/http/responses.js';
import {
  bodyWriteKey,
  messagesOf,
  sentMessagesOf,
  withBatchSentAtNotes,
} from '../adapters/http/tracking-body.js';
import {
  type TrackingPayload,
  trackingPayloadOf,
} from '../adapters/http/tracking-routes.js';
import { ingestRuntime } from '../adapters/ingest-runtime.js';
import { recordIngestMetrics } from '../adapters/observability/metrics.js';
import {
  AuthenticationError,
  NotFoundError,
  ValidationError,
} from '../domain/errors.js';
import type { WriteKeyVerifier } from '../ports/write-keys.js';
import {
  type IngestResult,
  ingestMessages,
  type MessageResult,
} from '../use-cases/ingest-messages.js';
import { httpHandler } from './http-handler.js';

/** Maximum body of a tracking request in UTF-8 bytes, as Segment's API. */
export const MAX_BATCH_BYTES = 500 * 1024;

/**
 * Maximum messages of one request. Each message gets a result of about
 * 100 bytes even when it is 2 bytes long (`1,`), so without this limit a
 * 500 KB body could need a response over Lambda's 6 MB.
 */
export const MAX_MESSAGES_PER_REQUEST = 10_000;

/**
 * Maximum response body, measured as the JSON string that embeds it in
 * the Lambda result, where each `"` and `\` takes two bytes. Lambda fails
 * a synchronous result over 6 MB (its invocation payload quota), which
 * API Gateway returns as a 500. The status code and headers take under
 * 100 bytes of the remaining 1 MB.
 */
export const MAX_RESPONSE_BYTES = 5 * 1024 * 1024;

/** The error that replaces a rejected message's errors in a large response. */
export const RESPONSE_TOO_LARGE_MESSAGE = `is invalid; its errors are left out because the response would exceed ${MAX_RESPONSE_BYTES / (1024 * 1024)} MB (${MAX_RESPONSE_BYTES.toLocaleString('en-US')} bytes) as the escaped JSON string that Lambda returns. Send fewer messages per request to see them.`;

/**
 * The Segment tracking routes: `POST /v1/batch` (and `/v1/b`,
 * `/v1/import`) with `{batch: [...], sentAt?, writeKey?}`, and one
 * message per call on `/v1/track`, `/v1/t` and the other single-call
 * routes. The write key is the HTTP Basic user name or `writeKey` in the
 * body, whichever comes first, so each request checks one key. Answers
 * 200 with a result per message, so one bad message never makes a client
 * drop or resend the whole batch.
 */
export const handler = httpHandler(async (request, invocation) => {
  const { deps, metrics } = invocation;
  const payload = routePayload(request);
  const writeKeys = requireWriteKeys(invocation.writeKeys);
  const headerKey = basicAuthUser(request);
  let sourceId =
    headerKey === undefined
      ? undefined
      : await authenticate(writeKeys, headerKey);
  const body = readJsonBody(request, MAX_BATCH_BYTES);
  sourceId ??= await authenticate(writeKeys, bodyWriteKey(body));

  const messages = messagesOf(body, payload);
  checkMessageCount(messages.length);
  const ingested = await ingestMessages(deps, {
    sourceId,
    messages,
    sentMessages: sentMessagesOf(body, payload),
    receivedAt: deps.clock(),
  });
  const result = {
    ...ingested,
    results: withBatchSentAtNotes(body, payload, ingested.results),
  };
  recordIngestMetrics(metrics, result);
  const mode = responseMode(request, invocation.trackingResponse);
  const response = responseBody(result, mode);
  if (responseBytes(response) <= MAX_RESPONSE_BYTES) {
    return jsonResponse(200, response);
  }
  const shortened = { ...result, results: withoutErrorDetails(result.results) };
  return jsonResponse(200, responseBody(shortened, mode));
}, ingestRuntime);

/**
 * Returns `counts` for a request from a browser, which sends an Origin
 * header with every POST, and the stage's setting otherwise. The browser
 * clients of Segment and RudderStack read none of the fields that
 * `counts` leaves out, while any page could read them with the public
 * write key where CORS allows its origin.
 */
function responseMode(
  request: ApiRequest,
  configured: TrackingResponse,
): TrackingResponse {
  return request.headers.origin === undefined ? configured : 'counts';
}

function checkMessageCount(count: number): void {
  if (count <= MAX_MESSAGES_PER_REQUEST) return;
  throw new ValidationError(
    `The batch has more than ${MAX_MESSAGES_PER_REQUEST} messages.`,
    [
      {
        field: 'batch',
        message: `has ${count} messages; the limit is ${MAX_MESSAGES_PER_REQUEST} per request. Send them in several requests.`,
      },
    ],
  );
}

/** Returns the size of a response body as Lambda counts it: a JSON string. */
function responseBytes(body: unknown): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(body)));
}

/**
 * Replaces each rejected message's errors with one short error. Every
 * message keeps its result, so clients still see which ones failed.
 */
function withoutErrorDetails(results: MessageResult[]): MessageResult[] {
  return results.map((entry) =>
    entry.status === 'rejected'
      ? {
          ...entry,
          errors: [{ field: '(root)', message: RESPONSE_TOO_LARGE_MESSAGE }],
        }
      : entry,
  );
}

function routePayload(request: ApiRequest): TrackingPayload {
  const payload =
    trackingPayloadOf(request.routePath ?? request.path) ??
    trackingPayloadOf(request.path);
  if (payload === undefined) {
    throw new NotFoundError(
      `No tracking route at ${request.path}. Send batches to /v1/batch.`,
    );
  }
  return payload;
}

/**
 * Returns the result without the transition counts, which feed metrics
 * only. `counts` also leaves out lead ids, scores and the outgoing event
 * counts. Anyone with a browser source's public write key can send an
 * event for any lead, and would read its score, or see from a published
 * Lead Qualified that the event made it an MQL.
 */
function responseBody(result: IngestResult, response: TrackingResponse) {
  const { transitions: _transitions, ...body } = result;
  if (response === 'scores') return body;
  const { leads: _leads, events: _events, ...counts } = body;
  return {
    ...counts,
    results: body.results.map((entry) => {
      if (entry.status === 'rejected') return entry;
      const { leadId: _leadId, ...rest } = entry;
      return rest;
    }),
  };
}

function requireWriteKeys(
  writeKeys: WriteKeyVerifier | undefined,
): WriteKeyVerifier {
  if (writeKeys === undefined) {
    throw new Error(
      'Invalid environment configuration: set WRITE_KEY_SECRET_NAME (or MQL_WRITE_KEY locally) so that tracking requests can be authenticated.',
    );
  }
  return writeKeys;
}

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
