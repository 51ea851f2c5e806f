import type { ApiRequest } from '../adapters/http/api-request.js';
import { ValidationError } from '../domain/errors.js';
import { displayText } from '../domain/id-text.js';
import { rejectUnknownQueryParameters } from './query-parameters.js';

export const DEFAULT_HISTORY_LIMIT = 20;
export const MAX_HISTORY_LIMIT = 100;
const MAX_CURSOR_LENGTH = 2048;

/**
 * Reads `limit` and `cursor` of GET /leads/{leadId}/history. Raises
 * ValidationError for any other query parameter.
 */
export function historyPageOf(request: ApiRequest): {
  limit: number;
  cursor: string | undefined;
} {
  rejectUnknownQueryParameters(request, ['limit', 'cursor']);
  const { limit: limitText, cursor } = request.queryParameters;
  const limit = parseLimit(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
    throw new ValidationError('The limit is invalid.', [
      {
        field: 'limit',
        message: `must be an integer from 1 to ${MAX_HISTORY_LIMIT}, got "${displayText(limitText ?? '')}"`,
      },
    ]);
  }
  if (
    cursor !== undefined &&
    (cursor === '' ||
      cursor.length > MAX_CURSOR_LENGTH ||
      !/^[A-Za-z0-9_-]+$/.test(cursor))
  ) {
    throw new ValidationError('The cursor is invalid.', [
      {
        field: 'cursor',
        message:
          'must be the nextCursor of an earlier page; omit it to start from the newest entry',
      },
    ]);
  }
  return { limit, cursor };
}

/**
 * Parses a limit written in decimal digits, returning NaN for any other
 * text, which Number() would read too ("1e2", "0x10", " 5").
 */
function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_HISTORY_LIMIT;
  return /^[1-9][0-9]*$/.test(text) ? Number(text) : Number.NaN;
}
