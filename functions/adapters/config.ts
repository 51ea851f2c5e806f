import * as z from 'zod/mini';
import { formatPath } from '../domain/issues.js';

/**
 * Responses of the tracking routes: `scores` gives each message's lead id
 * and the leads' scores, `counts` only statuses, reasons and counts.
 */
export const TRACKING_RESPONSES = ['scores', 'counts'] as const;

export type TrackingResponse = (typeof TRACKING_RESPONSES)[number];

/**
 * Environment of the Lambda functions and the local runtime. The CDK stack
 * sets these; the local runtime sets them for its own endpoints.
 */
const environmentSchema = z.object({
  TABLE_NAME: z.string().check(z.minLength(1)),
  EVENT_BUS_NAME: z.string().check(z.minLength(1)),
  EVENT_SOURCE: z._default(z.string().check(z.minLength(1)), 'mql-engine'),
  REVIEW_SHARDS: z._default(
    z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000)),
    16,
  ),
  EVENT_RETENTION_DAYS: z._default(
    z.coerce.number().check(z.int(), z.minimum(1)),
    400,
  ),
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
