import { MAX_ACCOUNT_ID_BYTES } from '../domain/account.js';
import { ANONYMOUS_PREFIX } from '../domain/identity.js';
import { MAX_ID_BYTES } from '../domain/messages.js';

/**
 * Maximum size in UTF-8 bytes of a lead id in a path: the longest lead
 * id, an anonymous id of the most bytes ingest accepts under the `anon:`
 * prefix. DynamoDB rejects partition keys of 2048 bytes or more.
 */
export const MAX_LEAD_PATH_ID_BYTES = MAX_ID_BYTES + ANONYMOUS_PREFIX.length;

/** Maximum size in UTF-8 bytes of an account id in a path. */
export const MAX_ACCOUNT_PATH_ID_BYTES = MAX_ACCOUNT_ID_BYTES;

/** Returns whether an id is at most `limit` bytes in UTF-8. */
export function fitsBytes(id: string, limit: number): boolean {
  return Buffer.byteLength(id, 'utf8') <= limit;
}
