/**
 * Email addresses as they appear in free text, internationalized ones
 * (RFC 6531) included: letters, marks and digits of any script, and an
 * apostrophe in the local part. The top-level domain starts with a letter
 * and has at least two characters, so package versions such as
 * `zod@4.6.7` stay readable. It matches more than RFC 5322 allows in
 * places, which errs on the side of redacting. A match starts only where
 * no local-part character precedes it, so a long run of letters without
 * an @ is scanned once, not once per starting position.
 */
const EMAIL_ADDRESS =
  /(?<![\p{L}\p{M}\p{N}_.%+'-])[\p{L}\p{M}\p{N}_.%+'-]+@[\p{L}\p{M}\p{N}-]+(?:\.[\p{L}\p{M}\p{N}-]+)*\.\p{L}[\p{L}\p{M}\p{N}-]+/gu;

/** Text that replaces every email address in a log line. */
export const REDACTED_EMAIL = '[email]';

/** Replaces every email address in a text with `[email]`. */
export function redactEmails(text: string): string {
  return text.replace(EMAIL_ADDRESS, REDACTED_EMAIL);
}

/**
 * JSON replacer for the Powertools Logger: redacts email addresses in
 * every string of a log line, error messages and stacks included. Lead ids
 * are Segment user ids, and some tracking setups use the email address.
 */
export function redactLogValue(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? redactEmails(value) : value;
}
