import {
  MalformedBodyError,
  PayloadTooLargeError,
} from '../../domain/errors.js';
import type { HttpRequest } from './responses.js';

/**
 * Decodes a request body (base64 when API Gateway says so) and parses it
 * as JSON whatever the content type says, because tracking clients label
 * JSON as text/plain or form data. Raises PayloadTooLargeError above
 * `maxBytes` and MalformedBodyError when the body is not JSON.
 */
export function parseJsonBody(request: HttpRequest, maxBytes: number): unknown {
  const raw = request.body ?? '';
  const bytes = request.isBase64Encoded
    ? Buffer.from(raw, 'base64')
    : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) {
    throw new PayloadTooLargeError(
      `The request body has ${bytes.length} bytes; the limit is ${maxBytes}. Send fewer events per request.`,
      maxBytes,
    );
  }
  const text = bytes.toString('utf8');
  if (text.trim() === '') {
    throw new MalformedBodyError(
      'The request body is empty; send a JSON object.',
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // The parser's message quotes the payload, so it is not passed on.
    throw new MalformedBodyError(
      'The request body is not valid JSON. Send a JSON object.',
      { cause: error },
    );
  }
}
