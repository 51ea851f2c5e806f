import type { IncomingMessage } from 'node:http';
import {
  allowedOrigin,
  CORS_ALLOWED_HEADERS,
  CORS_ALLOWED_METHODS,
  CORS_EXPOSED_HEADERS,
  CORS_MAX_AGE_SECONDS,
} from '../lib/definitions/cors.js';

/**
 * The local server's copy of API Gateway's built-in CORS for HTTP APIs,
 * built from the same definitions as the CDK stack: API Gateway responds to
 * preflight requests itself, before routes and authorization, and adds
 * the CORS headers to every response of an allowed origin.
 */

/**
 * Tells whether a request is a CORS preflight: OPTIONS with an Origin and
 * an Access-Control-Request-Method header.
 */
export function isPreflight(request: IncomingMessage): boolean {
  return (
    request.method === 'OPTIONS' &&
    request.headers.origin !== undefined &&
    request.headers['access-control-request-method'] !== undefined
  );
}

/**
 * Returns the headers of a preflight response: the allowed methods, headers
 * and cache time for an allowed origin, and none for another origin, so
 * that the browser blocks the call.
 */
export function preflightHeaders(
  request: IncomingMessage,
  origins: readonly string[],
): Record<string, string> {
  const origin = allowedOrigin(request.headers.origin ?? '', origins);
  if (origin === undefined) {
    return {};
  }
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': CORS_ALLOWED_METHODS.join(','),
    'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(','),
    'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
    ...varyOnOrigin(origin),
  };
}

/**
 * Returns the CORS headers added to an actual response, or none when the
 * request has no Origin or its origin is not allowed.
 */
export function responseCorsHeaders(
  request: IncomingMessage,
  origins: readonly string[],
): Record<string, string> {
  const requestOrigin = request.headers.origin;
  if (requestOrigin === undefined || origins.length === 0) {
    return {};
  }
  const origin = allowedOrigin(requestOrigin, origins);
  if (origin === undefined) {
    return {};
  }
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(','),
    ...varyOnOrigin(origin),
  };
}

/** Drops CORS headers a handler set, as API Gateway ignores them. */
export function withoutCorsHeaders(
  headers: Record<string, string | string[]>,
): Record<string, string | string[]> {
  return Object.fromEntries(
    Object.entries(headers).filter(
      ([name]) => !name.toLowerCase().startsWith('access-control-'),
    ),
  );
}

function varyOnOrigin(origin: string): Record<string, string> {
  return origin === '*' ? {} : { vary: 'origin' };
}
