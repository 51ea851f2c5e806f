import type { TrackingResponse } from '../adapters/config.js';
import type { ApiRequest } from '../adapters/http/api-request.js';
import { basicAuthUser } from '../adapters/http/basic-auth.js';
import { readJsonBody } from '../adapters/http/request-body.js';
import { jsonResponse } from '../adapters/http/responses.js';
import {
  bodyWriteKey,
  messagesOf,
  withBatchSentAtNotes,
} from '../adapters/http/tracking-body.js';
import {
  type TrackingPayload,
  trackingPayloadOf,
} from '../adapters/http/tracking-routes.js';
import { ingestRuntime } from '../adapters/ingest-runtime.js';
import { recordIngestMetrics } from '../adapters/observability/metrics.js';
import { AuthenticationError, NotFoundError } from '../domain/errors.js';
import type { WriteKeyVerifier } from '../ports/write-keys.js';
import {
  type IngestResult,
  ingestMessages,
} from '../use-cases/ingest-messages.js';
import { httpHandler } from './http-handler.js';

/** Maximum body of a tracking request in UTF-8 bytes, as Segment's API. */
export const MAX_BATCH_BYTES = 500 * 1024;

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

  const ingested = await ingestMessages(deps, {
    sourceId,
    messages: messagesOf(body, payload),
    receivedAt: deps.clock(),
  });
  const result = {
    ...ingested,
    results: withBatchSentAtNotes(body, payload, ingested.results),
  };
  recordIngestMetrics(metrics, result);
  return jsonResponse(200, responseBody(result, invocation.trackingResponse));
}, ingestRuntime);

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
 * only. `counts` also leaves out lead ids and scores, because anyone
 * with a browser source's public write key could read any lead's score
 * by sending an event for it.
 */
function responseBody(result: IngestResult, response: TrackingResponse) {
  const { transitions: _transitions, ...body } = result;
  if (response === 'scores') return body;
  const { leads: _leads, ...counts } = body;
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
