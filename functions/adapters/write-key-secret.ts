import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod/mini';
import { CapacityExceededError } from '../domain/errors.js';
import { toFieldIssues } from '../domain/issues.js';
import type { Log } from '../ports/logger.js';
import type { WriteKeyVerifier } from '../ports/write-keys.js';
import { DigestWriteKeyVerifier } from './write-keys.js';

/** Digests one secret may hold; every request compares against all. */
const MAX_WRITE_KEYS = 100;

/** Wait after a failed read before the secret is read again. */
const RETRY_AFTER_FAILURE_MS = 30_000;

/**
 * SHA-256 of the empty string, which `printf %s "$KEY" | sha256sum`
 * prints when KEY is unset or empty.
 */
const EMPTY_KEY_DIGEST =
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * The secret's JSON: `{"writeKeys": [{"sourceId", "sha256"}]}`. A source
 * may list several digests, so a key can be rotated without changing the
 * source that scopes its message ids.
 */
export const writeKeySecretSchema = z
  .strictObject({
    writeKeys: z
      .array(
        z.strictObject({
          sourceId: z
            .string()
            .check(
              z.maxLength(32),
              z.regex(/^[\w.-]+$/, 'must be letters, digits, _, . or -'),
            ),
          sha256: z.string().check(
            z.regex(
              /^[0-9a-f]{64}$/,
              'must be the SHA-256 of the write key as 64 lower-case hex digits',
            ),
            z.refine((digest) => digest !== EMPTY_KEY_DIGEST, {
              message:
                'is the SHA-256 of an empty write key, so the key was empty when it was hashed and can never match. Set the key variable and hash the key again.',
            }),
          ),
        }),
      )
      .check(z.maxLength(MAX_WRITE_KEYS)),
  })
  .check(
    z.refine(({ writeKeys }) => hasUniqueDigests(writeKeys), {
      path: ['writeKeys'],
      message: 'must not list a digest twice',
    }),
  );

/** The write key secret could not be read or contains no valid digests. */
export class WriteKeySecretError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WriteKeySecretError';
  }
}

export interface SecretWriteKeyVerifierOptions {
  secretName: string;
  /** Seconds a fetched value is used before the secret is read again. */
  maxAgeSeconds: number;
  log: Log;
  /** Returns the current time in epoch milliseconds. @default Date.now */
  clock?: () => number;
}

interface ParsedSecret {
  raw: string;
  /** Undefined when the value is invalid. */
  verifier: DigestWriteKeyVerifier | undefined;
}

/**
 * Verifies write keys against the digests in a Secrets Manager secret.
 * Powertools caches the value for `maxAgeSeconds`, so a changed secret
 * takes effect within that time and without a deployment. When a read
 * fails or the new value is invalid, the last valid digests stay in use
 * and the failure is logged. Before any valid digests were read, verify
 * raises WriteKeySecretError instead, or CapacityExceededError when
 * Secrets Manager throttled the read. Logs name the secret, never its
 * value.
 */
export class SecretWriteKeyVerifier implements WriteKeyVerifier {
  private current: ParsedSecret | undefined;
  private lastValid: DigestWriteKeyVerifier | undefined;
  private retryAt = 0;

  constructor(
    private readonly provider: SecretsProvider,
    private readonly options: SecretWriteKeyVerifierOptions,
  ) {}

  async verify(writeKey: string): Promise<string | undefined> {
    const verifier = await this.currentVerifier();
    return verifier.verify(writeKey);
  }

  private async currentVerifier(): Promise<DigestWriteKeyVerifier> {
    const now = (this.options.clock ?? Date.now)();
    if (this.lastValid !== undefined && now < this.retryAt) {
      return this.lastValid;
    }
    let raw: string;
    try {
      raw = await this.readSecret();
    } catch (error) {
      return this.fallBack(error, now);
    }
    if (raw !== this.current?.raw) {
      this.current = this.parse(raw);
    }
    this.lastValid = this.current.verifier ?? this.lastValid;
    if (this.lastValid === undefined) {
      throw new WriteKeySecretError(
        `The write key secret ${this.options.secretName} contains no valid digests. Store {"writeKeys": [{"sourceId", "sha256"}]} in it.`,
      );
    }
    return this.lastValid;
  }

  private async readSecret(): Promise<string> {
    const value = await this.provider.get(this.options.secretName, {
      maxAge: this.options.maxAgeSeconds,
    });
    if (typeof value !== 'string') {
      throw new WriteKeySecretError(
        `The write key secret ${this.options.secretName} has no string value; store the digests as SecretString JSON.`,
      );
    }
    return value;
  }

  private fallBack(error: unknown, now: number): DigestWriteKeyVerifier {
    const { secretName, log } = this.options;
    if (this.lastValid === undefined && isThrottling(error)) {
      throw new CapacityExceededError({
        cause: error,
        service: 'Secrets Manager',
      });
    }
    if (this.lastValid === undefined) {
      throw new WriteKeySecretError(
        `The write key secret ${secretName} could not be read. Check that it exists and that the function may read it.`,
        { cause: error },
      );
    }
    this.retryAt = now + RETRY_AFTER_FAILURE_MS;
    log.warn('write key secret read failed, using last digests', {
      secretName,
      retryInMs: RETRY_AFTER_FAILURE_MS,
      error,
    });
    return this.lastValid;
  }

  private parse(raw: string): ParsedSecret {
    const parsed = parseSecretValue(raw);
    if ('issues' in parsed) {
      this.options.log.error('write key secret invalid', {
        secretName: this.options.secretName,
        issues: parsed.issues,
        keepsLastDigests: this.lastValid !== undefined,
      });
      return { raw, verifier: undefined };
    }
    return { raw, verifier: new DigestWriteKeyVerifier(parsed.writeKeys) };
  }
}

type WriteKeySecret = z.output<typeof writeKeySecretSchema>;

/** Error names of AWS SDK v3 calls that Secrets Manager throttled. */
const THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);

/**
 * Tells whether a failed read was throttled. Powertools wraps the SDK's
 * error in a GetParameterError, so its cause is checked too.
 */
function isThrottling(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 3 && current instanceof Error; depth += 1) {
    const status = (current as { $metadata?: { httpStatusCode?: number } })
      .$metadata?.httpStatusCode;
    if (THROTTLING_ERRORS.has(current.name) || status === 429) return true;
    current = current.cause;
  }
  return false;
}

/**
 * Parses a secret value. Issues are `path: message` lines that never
 * quote the value.
 */
function parseSecretValue(raw: string): WriteKeySecret | { issues: string[] } {
  let document: unknown;
  try {
    document = JSON.parse(raw);
  } catch {
    return { issues: ['(root): is not valid JSON'] };
  }
  const parsed = writeKeySecretSchema.safeParse(document);
  if (parsed.success) return parsed.data;
  return {
    issues: toFieldIssues(parsed.error).map(
      (issue) => `${issue.field}: ${issue.message}`,
    ),
  };
}

function hasUniqueDigests(writeKeys: ReadonlyArray<{ sha256: string }>) {
  const digests = writeKeys.map((entry) => entry.sha256);
  return new Set(digests).size === digests.length;
}
