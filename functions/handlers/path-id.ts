import { ValidationError } from '../domain/errors.js';
import { MAX_ID_BYTES } from '../domain/id-text.js';
import { ANONYMOUS_PREFIX } from '../domain/identity.js';

/**
 * Maximum size in UTF-8 bytes of a lead id in a path: the longest lead
 * id, an anonymous id of the most bytes ingest accepts under the `anon:`
 * prefix. DynamoDB rejects partition keys of 2048 bytes or more.
 */
export const MAX_LEAD_PATH_ID_BYTES = MAX_ID_BYTES + ANONYMOUS_PREFIX.length;

/**
 * Maximum size in UTF-8 bytes of an account id in a path. It exceeds
 * MAX_ACCOUNT_ID_BYTES, because a path may give a long name in full and
 * GET /accounts shortens it as ingest does. A company trait of 1,000
 * UTF-16 code units, the most ingest keeps, takes at most 3,000 bytes.
 */
export const MAX_ACCOUNT_PATH_ID_BYTES = 4096;

/** Returns whether an id is at most `limit` bytes in UTF-8. */
export function fitsBytes(id: string, limit: number): boolean {
  return Buffer.byteLength(id, 'utf8') <= limit;
}

/**
 * Returns the error of a path id that breaks the rules ingest applies to
 * ids, with one issue per rule. Neither the error nor its issues quote
 * the id, because it can contain characters that change how the response
 * displays.
 */
export function rejectedPathIdError(
  field: 'leadId' | 'accountId',
  issues: readonly string[],
): ValidationError {
  const subject = field === 'leadId' ? 'lead' : 'account';
  return new ValidationError(
    `The ${subject} id in the path breaks a rule that ingest applies to ids, so no ${subject} can have it. Each error names the rule and the fix.`,
    issues.map((message) => ({ field, message })),
  );
}
