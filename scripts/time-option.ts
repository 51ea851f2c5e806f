import {
  outOfRangeTimeMessage,
  parseIsoDateTime,
} from '../functions/domain/messages.js';
import { UsageError } from './replay/errors.js';

/**
 * Parses a time option, an ISO 8601 date or date-time, into epoch
 * milliseconds, or raises UsageError. A leap second or another
 * out-of-range time of day or UTC offset gets the message that a
 * tracking event's timestamp gets.
 */
export function parseTimeOption(name: string, text: string): number {
  const time = parseIsoDateTime(text);
  if (time !== undefined) return time;
  const problem = outOfRangeTimeMessage(text);
  throw new UsageError(
    problem === undefined
      ? `${name} must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z, got "${text}".`
      : `${name} "${text}" ${problem}.`,
  );
}
