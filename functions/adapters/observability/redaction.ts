/**
 * Email addresses as they appear in free text. It matches more than RFC
 * 5322 allows in places, which errs on the side of redacting.
 */
const EMAIL_ADDRESS =
  /[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

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
