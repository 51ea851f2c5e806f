import { z } from 'zod';
import {
  isValidAt,
  whenReadable,
} from '../../functions/domain/valid-fields.js';

/**
 * Cross-origin settings of the HTTP API, shared by the CDK stack (API
 * Gateway's built-in CORS) and the local server, which responds to preflight
 * requests the same way. The allowed origins are a stage setting.
 */

/** Methods a browser may use across origins. */
export const CORS_ALLOWED_METHODS = ['GET', 'POST', 'OPTIONS'] as const;

/**
 * Request headers a browser may send across origins. analytics.js 2.0
 * sends `authorization` (the write key) and `x-retry-count`, and labels
 * its JSON as text/plain.
 */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'content-encoding',
  'x-retry-count',
] as const;

/** Response headers scripts may read: the delay asked by a 429 or 503. */
export const CORS_EXPOSED_HEADERS = ['retry-after'] as const;

/**
 * Seconds a browser may cache a preflight response. Chromium caps the value
 * at 7,200 and Firefox at 86,400.
 */
export const CORS_MAX_AGE_SECONDS = 7200;

/**
 * An allowed origin as API Gateway accepts it: `*` (any origin),
 * `https://*` or `http://*` (any origin of that scheme), or one origin
 * such as `https://www.example.com` or `http://localhost:8080`.
 */
export const ORIGIN_PATTERN =
  /^(\*|https?:\/\/\*|https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)(:\d{1,5})?)$/;

/** A list of allowed origins: `*` alone, or up to 50 origins. */
export const corsOriginsSchema = z
  .array(
    z
      .string()
      .regex(
        ORIGIN_PATTERN,
        'must be *, https://*, http://* or an origin such as https://www.example.com (lower case, no path)',
      ),
  )
  .max(50)
  .refine((origins) => !origins.includes('*') || origins.length === 1, {
    message: 'must not list other origins next to *',
    when: whenReadable([]),
  })
  .superRefine(
    (origins, context) => {
      origins.forEach((origin, index) => {
        if (!isValidAt(context.issues, [index])) return;
        const first = origins.indexOf(origin);
        if (first === index) return;
        context.addIssue({
          code: 'custom',
          path: [index],
          message: `must not repeat the origin at index ${first}. Remove one of them.`,
        });
      });
    },
    { when: whenReadable([]) },
  );

/**
 * Returns the value of Access-Control-Allow-Origin for a request from
 * `origin`, or undefined when no allowed origin matches it.
 */
export function allowedOrigin(
  origin: string,
  allowedOrigins: readonly string[],
): string | undefined {
  if (allowedOrigins.includes('*')) {
    return '*';
  }
  const lower = origin.toLowerCase();
  const matches = allowedOrigins.some(
    (allowed) =>
      allowed === lower ||
      (allowed.endsWith('://*') && lower.startsWith(allowed.slice(0, -1))),
  );
  return matches ? origin : undefined;
}
