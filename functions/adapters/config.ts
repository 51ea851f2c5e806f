import { z } from 'zod';
import { formatPath } from '../domain/issues.js';

/**
 * Environment of the Lambda functions and the local runtime. The CDK stack
 * sets these; the local runtime sets them for its own endpoints.
 */
const environmentSchema = z.object({
  TABLE_NAME: z.string().min(1),
  EVENT_BUS_NAME: z.string().min(1),
  EVENT_SOURCE: z.string().min(1).default('mql-engine'),
  REVIEW_SHARDS: z.coerce.number().int().min(1).max(1000).default(16),
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).default(400),
  /** Comma-separated `sourceId:sha256` pairs of accepted write keys. */
  WRITE_KEY_DIGESTS: z
    .string()
    .regex(
      /^[\w.-]+:[0-9a-f]{64}(,[\w.-]+:[0-9a-f]{64})*$/,
      'must be comma-separated sourceId:sha256-hex pairs',
    )
    .optional(),
  /** A plain write key, for the local runtime only. */
  MQL_WRITE_KEY: z.string().min(1).optional(),
  /** Path of a model JSON file; the bundled default model otherwise. */
  MQL_MODEL_FILE: z.string().min(1).optional(),
});

export type RuntimeConfig = z.output<typeof environmentSchema>;

/**
 * Reads and validates the runtime configuration. Raises an error naming
 * every invalid variable, so a misconfigured function fails at cold start.
 */
export function readConfig(env: NodeJS.ProcessEnv): RuntimeConfig {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${formatPath(issue.path)}: ${issue.message}`)
      .join('; ');
    throw new Error(`Invalid environment configuration: ${problems}`);
  }
  const config = parsed.data;
  if (
    config.WRITE_KEY_DIGESTS === undefined &&
    config.MQL_WRITE_KEY === undefined
  ) {
    throw new Error(
      'Invalid environment configuration: set WRITE_KEY_DIGESTS or MQL_WRITE_KEY so that tracking requests can be authenticated.',
    );
  }
  return config;
}
