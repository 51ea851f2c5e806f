import * as z from 'zod/mini';
import { formatPath } from '../domain/issues.js';
import {
  DEFAULT_REVIEW_SHARDS,
  MAX_REVIEW_SHARDS,
} from './dynamodb/table-layout.js';

/**
 * Responses of the tracking routes: `scores` gives each message's lead id
 * and the leads' scores, `counts` only statuses, reasons and counts.
 */
export const TRACKING_RESPONSES = ['scores', 'counts'] as const;

export type TrackingResponse = (typeof TRACKING_RESPONSES)[number];

/**
 * Returns the schema of an environment variable that contains a whole
 * number in decimal digits, from `minimum` to `maximum`. An empty value,
 * a sign, a fraction and forms such as `0x10` or `1e3`, which Number()
 * would read, are invalid.
 */
export function decimalIntegerVariable(
  minimum: number,
  maximum = Number.MAX_SAFE_INTEGER,
) {
  const range =
    maximum === Number.MAX_SAFE_INTEGER
      ? `of at least ${minimum}`
      : `from ${minimum} to ${maximum}`;
  return z.pipe(
    z.pipe(
      z.string().check(
        z.regex(/^[0-9]+$/, {
          error: `must be a whole number ${range} in decimal digits`,
        }),
      ),
      z.transform(Number),
    ),
    z.number().check(z.int(), z.minimum(minimum), z.maximum(maximum)),
  );
}

/**
 * Environment of the Lambda functions and the local runtime. The CDK stack
 * sets these; the local runtime sets them for its own endpoints.
 */
const environmentSchema = z.object({
  TABLE_NAME: z.string().check(z.minLength(1)),
  EVENT_BUS_NAME: z.string().check(z.minLength(1)),
  EVENT_SOURCE: z._default(z.string().check(z.minLength(1)), 'mql-engine'),
  REVIEW_SHARDS: z._default(
    decimalIntegerVariable(1, MAX_REVIEW_SHARDS),
    DEFAULT_REVIEW_SHARDS,
  ),
  EVENT_RETENTION_DAYS: z._default(decimalIntegerVariable(1), 400),
  /** Path of a model JSON file; the bundled default model otherwise. */
  MQL_MODEL_FILE: z.optional(z.string().check(z.minLength(1))),
  /** Whether lead event details carry the lead's email (CRM sync). */
  EVENT_INCLUDE_EMAIL: z._default(z.enum(['true', 'false']), 'false'),
  /** Response of the tracking routes, see TRACKING_RESPONSES. */
  TRACKING_RESPONSE: z._default(z.enum(TRACKING_RESPONSES), 'scores'),
  /** Stage name, the `stage` dimension of every metric. */
  STAGE_NAME: z._default(z.string().check(z.minLength(1)), 'local'),
});

export type RuntimeConfig = z.output<typeof environmentSchema>;

/**
 * Reads and validates the runtime configuration. Raises an error naming
 * every invalid variable, so a misconfigured function fails at cold start.
 * The write key settings are read by readWriteKeyConfig, because only the
 * ingest function authenticates tracking requests.
 */
export function readConfig(env: NodeJS.ProcessEnv): RuntimeConfig {
  return parseEnvironment(environmentSchema, env);
}

/**
 * Parses the environment with a schema, or raises an error that names
 * every invalid variable.
 */
export function parseEnvironment<Schema extends z.ZodMiniType>(
  schema: Schema,
  env: NodeJS.ProcessEnv,
): z.output<Schema> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${formatPath(issue.path)}: ${issue.message}`)
      .join('; ');
    throw new Error(`Invalid environment configuration: ${problems}`);
  }
  return parsed.data;
}
