/**
 * Characters of a value that model patterns are matched against. A
 * pattern that passes the ReDoS checks can still take n^2 steps on a
 * text of n characters that it fails to match. That is a few
 * milliseconds at this length, and up to a second at 32 KB, the most an
 * event field can hold.
 */
export const MAX_MATCHED_LENGTH = 2000;

/** Returns the start of `text` that model patterns are matched against. */
export function matchedPart(text: string): string {
  return text.length > MAX_MATCHED_LENGTH
    ? text.slice(0, MAX_MATCHED_LENGTH)
    : text;
}
