/** Milliseconds in one day. */
export const DAY_MS = 86_400_000;

/**
 * Milliseconds in one quarter: a quarter of a Julian year (91.3125 days), so
 * four quarters of decay equal one year whatever the calendar months are.
 */
export const QUARTER_MS = (365.25 / 4) * DAY_MS;

/** Formats epoch milliseconds as an ISO 8601 UTC timestamp. */
export function toIso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
