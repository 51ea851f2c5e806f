import * as z from 'zod/mini';
import { decimalIntegerVariable, parseEnvironment } from './config.js';
import { addWriteKeyIssue } from './write-keys.js';

/** Environment of the write key check of the tracking routes. */
const writeKeyEnvironmentSchema = z.object({
  /** Secrets Manager secret with the digests of accepted write keys. */
  WRITE_KEY_SECRET_NAME: z.optional(z.string().check(z.minLength(1))),
  /** Seconds a fetched write key secret is used before it is read again. */
  WRITE_KEY_CACHE_SECONDS: z._default(decimalIntegerVariable(0), 300),
  /** A plain write key, for the local runtime only. */
  MQL_WRITE_KEY: z.optional(
    z.string().check(z.minLength(1), z.superRefine(addWriteKeyIssue)),
  ),
});

export type WriteKeyConfig = z.output<typeof writeKeyEnvironmentSchema>;

/**
 * Reads and validates the write key settings of the ingest function.
 * The secret name and the key are optional here, and the ingest handler
 * fails tracking requests with 500 when neither is set. Raises an error
 * naming every invalid variable, or when both are set.
 */
export function readWriteKeyConfig(env: NodeJS.ProcessEnv): WriteKeyConfig {
  const config = parseEnvironment(writeKeyEnvironmentSchema, env);
  if (
    config.WRITE_KEY_SECRET_NAME !== undefined &&
    config.MQL_WRITE_KEY !== undefined
  ) {
    throw new Error(
      'Invalid environment configuration: set WRITE_KEY_SECRET_NAME or MQL_WRITE_KEY, not both.',
    );
  }
  return config;
}
