import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

/**
 * Limits EventBridge sets on PutEvents entries (Amazon EventBridge User
 * Guide, "Calculating PutEvents event entry size" and the PutEvents API
 * reference). An entry that breaks one fails the same way every time, so
 * it is rejected before sending.
 */

/** The entries of one request must add up to less than 256 KB. */
export const MAX_REQUEST_BYTES = 256 * 1024;
/** DetailType has at most 128 characters. */
export const MAX_DETAIL_TYPE_LENGTH = 128;

/**
 * Returns an entry's size as EventBridge counts it: the UTF-8 bytes of
 * source, detail type and detail, plus 14 bytes for the time.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  return (
    14 +
    Buffer.byteLength(entry.Source ?? '') +
    Buffer.byteLength(entry.DetailType ?? '') +
    Buffer.byteLength(entry.Detail ?? '')
  );
}

/** Returns why an entry would be rejected, or undefined when it is valid. */
export function entryProblem(entry: PutEventsRequestEntry): string | undefined {
  const detailType = entry.DetailType ?? '';
  if (detailType.length === 0 || detailType.length > MAX_DETAIL_TYPE_LENGTH) {
    return `DetailType must have 1 to ${MAX_DETAIL_TYPE_LENGTH} characters, got ${detailType.length}.`;
  }
  const detailProblem = jsonObjectProblem(entry.Detail);
  if (detailProblem !== undefined) {
    return detailProblem;
  }
  const size = entrySize(entry);
  if (size >= MAX_REQUEST_BYTES) {
    return `Entry has ${size} bytes; PutEvents accepts less than ${MAX_REQUEST_BYTES}.`;
  }
  return undefined;
}

function jsonObjectProblem(detail: string | undefined): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail ?? '');
  } catch {
    return 'Detail is not valid JSON.';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return 'Detail must be a JSON object.';
  }
  return undefined;
}
