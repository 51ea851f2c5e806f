import type { ApiRequest } from '../adapters/http/api-request.js';
import { ValidationError } from '../domain/errors.js';
import { displayText } from '../domain/id-text.js';

/**
 * Raises ValidationError naming each query parameter of `request` that is
 * not in `accepted`, so a misspelled `?limt=5` fails as an unknown field
 * of a request body does, instead of being ignored. Names match exactly,
 * because the routes read them that way (`LIMIT` is not `limit`). SigV4
 * signature parameters are accepted on every route.
 */
export function rejectUnknownQueryParameters(
  request: ApiRequest,
  accepted: readonly string[],
): void {
  const unknown = Object.keys(request.queryParameters).filter(
    (name) => !accepted.includes(name) && !isSignatureParameter(name),
  );
  if (unknown.length === 0) {
    rejectRepeatedQueryParameters(request);
    return;
  }
  const message =
    accepted.length === 0
      ? 'is not a known query parameter; this route accepts none. Remove it.'
      : `is not a known query parameter; accepted parameters are ${accepted.join(', ')}. Remove it or correct its spelling.`;
  throw new ValidationError(
    'The query string has parameters that this route does not accept; see errors for each parameter.',
    unknown.map((name) => ({ field: parameterField(name), message })),
  );
}

/**
 * Raises ValidationError naming each query parameter given more than
 * once. API Gateway joins the values with commas, so `?limit=1&limit=2`
 * would read as the limit "1,2".
 */
function rejectRepeatedQueryParameters(request: ApiRequest): void {
  const repeated = (request.repeatedQueryNames ?? []).filter(
    (name) => !isSignatureParameter(name),
  );
  if (repeated.length === 0) return;
  throw new ValidationError(
    'The query string gives a parameter more than once; see errors for each parameter.',
    repeated.map((name) => ({
      field: parameterField(name),
      message: 'is given more than once. Send it once.',
    })),
  );
}

/**
 * Returns whether a parameter belongs to a SigV4 signature sent in the
 * query string (`X-Amz-Signature`, `X-Amz-Credential` and the others),
 * which IAM-authorized clients may use in place of headers.
 */
function isSignatureParameter(name: string): boolean {
  return name.toLowerCase().startsWith('x-amz-');
}

/**
 * Returns a parameter name as the `field` of an issue: escaped and cut as
 * displayText does, because it is the client's text, and `(empty name)`
 * for a parameter without a name, such as `?=5`.
 */
function parameterField(name: string): string {
  return name === '' ? '(empty name)' : displayText(name);
}
