import { ValidationError } from '../../domain/errors.js';
import type { MessageResult } from '../../use-cases/ingest-messages.js';
import type { TrackingPayload } from './tracking-routes.js';

/**
 * Returns the messages of a tracking request body. A batch gives its
 * messages, each with the batch's `sentAt` where it has none of its own;
 * a single-call route gives its body as one message of the route's type.
 * The write key is removed from every message, so it never reaches
 * storage or a derived message id. Raises ValidationError when the body
 * has no messages at all; invalid messages are left for the ingest use
 * case to reject one by one.
 */
export function messagesOf(body: unknown, payload: TrackingPayload): unknown[] {
  if (payload === 'batch') {
    return batchMessages(body);
  }
  if (!isObject(body)) {
    throw new ValidationError('The body must be a JSON object: one message.', [
      {
        field: '(root)',
        message: `must be ${withArticle(payload)} message object`,
      },
    ]);
  }
  if (Array.isArray(body.batch)) {
    throw new ValidationError(
      `This route takes one ${payload} message, not a batch. Send batches to /v1/batch.`,
      [
        {
          field: 'batch',
          message: `is accepted only by /v1/batch; post this body there, or send one ${payload} message to this route`,
        },
      ],
    );
  }
  // The route decides the type, as in Segment's HTTP API.
  return [{ ...withoutWriteKey(body), type: payload }];
}

/**
 * Returns the messages of a tracking request body as the client sent
 * them. Unlike messagesOf, it adds no batch `sentAt` and no route `type`,
 * but it also removes `writeKey`. The size limit of a message applies to
 * these. Call it only on a body that messagesOf accepted.
 */
export function sentMessagesOf(
  body: unknown,
  payload: TrackingPayload,
): unknown[] {
  if (!isObject(body)) return [];
  if (payload !== 'batch') return [withoutWriteKey(body)];
  if (!Array.isArray(body.batch)) return [];
  return body.batch.map((message) =>
    isObject(message) ? withoutWriteKey(message) : message,
  );
}

/** Returns the `writeKey` of a body, or undefined when it has none. */
export function bodyWriteKey(body: unknown): string | undefined {
  const key = isObject(body) ? body.writeKey : undefined;
  return typeof key === 'string' && key !== '' ? key : undefined;
}

function batchMessages(body: unknown): unknown[] {
  if (!isObject(body) || !Array.isArray(body.batch)) {
    throw new ValidationError(
      'The body must be an object with a batch array.',
      [{ field: 'batch', message: 'must be an array of messages' }],
    );
  }
  const { sentAt } = body;
  return body.batch.map((message) => {
    if (!isObject(message)) return message;
    const own = withoutWriteKey(message);
    // The batch's sentAt lets each message's clock skew be corrected. A
    // null sentAt of a message counts as absent, as other null fields do.
    return own.sentAt == null && sentAt != null ? { ...own, sentAt } : own;
  });
}

/**
 * Marks each `sentAt` error of a batch message that took the batch's
 * sentAt, so the error does not point at a field the message lacks.
 */
export function withBatchSentAtNotes(
  body: unknown,
  payload: TrackingPayload,
  results: MessageResult[],
): MessageResult[] {
  if (payload !== 'batch' || !isObject(body) || !Array.isArray(body.batch)) {
    return results;
  }
  const { batch, sentAt } = body;
  if (sentAt == null) return results;
  return results.map((result) => {
    const message = batch[result.index];
    if (
      result.status !== 'rejected' ||
      !isObject(message) ||
      message.sentAt != null
    ) {
      return result;
    }
    return {
      ...result,
      errors: result.errors.map((issue) =>
        issue.field === 'sentAt'
          ? { ...issue, message: `${issue.message} ${BATCH_SENT_AT_NOTE}` }
          : issue,
      ),
    };
  });
}

const BATCH_SENT_AT_NOTE =
  "(the batch's sentAt, which applies to each message without its own)";

/** Returns a message type after its indefinite article, such as "an alias". */
function withArticle(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function withoutWriteKey(
  message: Record<string, unknown>,
): Record<string, unknown> {
  const { writeKey: _writeKey, ...rest } = message;
  return rest;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
