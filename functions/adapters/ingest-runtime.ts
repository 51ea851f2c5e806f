import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Log } from '../ports/logger.js';
import type { WriteKeyVerifier } from '../ports/write-keys.js';
import { type Runtime, runtime } from './runtime.js';
import { readWriteKeyConfig, type WriteKeyConfig } from './write-key-config.js';
import { SecretWriteKeyVerifier } from './write-key-secret.js';
import { DigestWriteKeyVerifier, hashWriteKey } from './write-keys.js';

/**
 * The runtime of the ingest function. Only this function checks write
 * keys, so only its bundle carries the verifier and the Secrets Manager
 * client.
 */
export interface IngestRuntime extends Runtime {
  /** Undefined when neither a write key secret nor a key is configured. */
  writeKeys: WriteKeyVerifier | undefined;
}

let current: { base: Runtime; ingest: IngestRuntime } | undefined;

/**
 * Returns the ingest runtime: the shared runtime of runtime() and the
 * write key verifier, which is built once per shared runtime. After
 * resetRuntime, the next call builds a verifier from the environment
 * again. A failed creation is not kept, so the next call tries again.
 */
export async function ingestRuntime(): Promise<IngestRuntime> {
  const base = await runtime();
  if (current?.base !== base) {
    const config = readWriteKeyConfig(process.env);
    const writeKeys = writeKeyVerifier(config, base.tracer, base.deps.log);
    current = { base, ingest: { ...base, writeKeys } };
  }
  return current.ingest;
}

/**
 * Returns the verifier of tracking write keys: the digests in the write
 * key secret in AWS, or the digest of MQL_WRITE_KEY in the local runtime.
 */
function writeKeyVerifier(
  config: WriteKeyConfig,
  tracer: Tracer,
  log: Log,
): WriteKeyVerifier | undefined {
  if (config.WRITE_KEY_SECRET_NAME !== undefined) {
    const client = tracer.captureAWSv3Client(new SecretsManagerClient({}));
    return new SecretWriteKeyVerifier(
      new SecretsProvider({ awsSdkV3Client: client }),
      {
        secretName: config.WRITE_KEY_SECRET_NAME,
        maxAgeSeconds: config.WRITE_KEY_CACHE_SECONDS,
        log,
      },
    );
  }
  if (config.MQL_WRITE_KEY !== undefined) {
    return new DigestWriteKeyVerifier([
      { sourceId: 'default', sha256: hashWriteKey(config.MQL_WRITE_KEY) },
    ]);
  }
  return undefined;
}
