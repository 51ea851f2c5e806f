import type { ApiRequest } from '../adapters/http/api-request.js';
import { ValidationError } from '../domain/errors.js';

/**
 * A body that carries nothing: JSON's white space (RFC 8259), with at most
 * one empty object `{}`, which many HTTP clients send on every request.
 */
const EMPTY = /^[ \t\n\r]*(?:\{[ \t\n\r]*\}[ \t\n\r]*)?$/;

/**
 * Raises ValidationError naming `(root)` when `request` has a body other
 * than white space or `{}`, for a route that takes none. A DELETE that carries
 * options such as `{"dryRun": true}` then fails before it changes
 * anything, as an unknown query parameter does, instead of being ignored.
 */
export function rejectBody(request: ApiRequest): void {
  const { body } = request;
  if (body === undefined) return;
  const text = request.isBase64Encoded
    ? Buffer.from(body, 'base64').toString('latin1')
    : body;
  if (EMPTY.test(text)) return;
  throw new ValidationError(
    `${request.method} ${request.routePath ?? request.path} takes no request body, so nothing was changed.`,
    [
      {
        field: '(root)',
        message:
          'must be empty or {}; this route takes no body and no options. Remove the body.',
      },
    ],
  );
}
