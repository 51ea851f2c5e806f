import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import {
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  SecretWriteKeyVerifier,
  WriteKeySecretError,
  writeKeySecretSchema,
} from '../../functions/adapters/write-key-secret.js';
import { hashWriteKey } from '../../functions/adapters/write-keys.js';
import { CapacityExceededError } from '../../functions/domain/errors.js';
import { recordingLog } from '../support/dependencies.js';
import {
  createWriteKeySecret,
  secretsClient,
  type TestWriteKey,
  writeKeySecretValue,
} from '../support/secrets.js';

const WEB: TestWriteKey = { sourceId: 'web', key: 'web-key-2026-06' };
const APP: TestWriteKey = { sourceId: 'app', key: 'app-key-2026-06' };
const WEB_NEXT: TestWriteKey = { sourceId: 'web', key: 'web-key-2026-09' };

let client: SecretsManagerClient;
let secretReads: number;

beforeEach(() => {
  client = secretsClient();
  secretReads = 0;
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'GetSecretValueCommand') secretReads += 1;
      return next(args);
    },
    { step: 'initialize' },
  );
});

/** Builds a verifier of a new secret holding `value`. */
async function verifierOf(
  value: string,
  options: { maxAgeSeconds?: number; clock?: () => number } = {},
) {
  const secretName = await createWriteKeySecret(client, value);
  const log = recordingLog();
  const verifier = new SecretWriteKeyVerifier(
    new SecretsProvider({ awsSdkV3Client: client }),
    {
      secretName,
      maxAgeSeconds: options.maxAgeSeconds ?? 0,
      log,
      clock: options.clock,
    },
  );
  const putValue = (next: string) =>
    client.send(
      new PutSecretValueCommand({ SecretId: secretName, SecretString: next }),
    );
  return { verifier, secretName, log, putValue };
}

describe('SecretWriteKeyVerifier on moto', () => {
  it('returns the source of each listed key', async () => {
    const { verifier } = await verifierOf(writeKeySecretValue([WEB, APP]));

    expect(await verifier.verify(WEB.key)).toBe('web');
    expect(await verifier.verify(APP.key)).toBe('app');
  });

  it.each([
    ['an unknown key', 'guessed-key'],
    ['a near miss', `${WEB.key.slice(0, -1)}7`],
    ['an empty key', ''],
    ['a listed digest', hashWriteKey(WEB.key)],
  ])('rejects %s', async (_case, candidate) => {
    const { verifier } = await verifierOf(writeKeySecretValue([WEB, APP]));

    expect(await verifier.verify(candidate)).toBeUndefined();
  });

  it('accepts old and new key of a source during rotation', async () => {
    const { verifier, putValue } = await verifierOf(writeKeySecretValue([WEB]));

    await putValue(writeKeySecretValue([WEB, WEB_NEXT]));
    const during = [
      await verifier.verify(WEB.key),
      await verifier.verify(WEB_NEXT.key),
    ];
    await putValue(writeKeySecretValue([WEB_NEXT]));
    const after = [
      await verifier.verify(WEB.key),
      await verifier.verify(WEB_NEXT.key),
    ];

    expect(during).toEqual(['web', 'web']);
    expect(after).toEqual([undefined, 'web']);
  });

  it('reads the secret once per cache period', async () => {
    const { verifier, putValue } = await verifierOf(
      writeKeySecretValue([WEB]),
      { maxAgeSeconds: 300 },
    );

    for (let request = 0; request < 5; request += 1) {
      await verifier.verify(WEB.key);
    }
    await putValue(writeKeySecretValue([APP]));

    expect(await verifier.verify(WEB.key)).toBe('web');
    expect(await verifier.verify(APP.key)).toBeUndefined();
    expect(secretReads).toBe(1);
  });

  it('keeps the last digests when a new value is invalid', async () => {
    const { verifier, putValue, log, secretName } = await verifierOf(
      writeKeySecretValue([WEB]),
    );
    await verifier.verify(WEB.key);
    const invalid = JSON.stringify({
      writeKeys: [{ sourceId: 'web', sha256: 'not-a-digest' }],
    });

    await putValue(invalid);
    const first = await verifier.verify(WEB.key);
    const second = await verifier.verify(WEB.key);

    expect([first, second]).toEqual(['web', 'web']);
    const errors = log.entries.filter((entry) => entry.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toBe('write key secret invalid');
    expect(errors[0]?.fields).toMatchObject({
      secretName,
      issues: [
        'writeKeys[0].sha256: must be the SHA-256 of the write key as 64 lower-case hex digits',
      ],
      keepsLastDigests: true,
    });
    expect(JSON.stringify(errors[0]?.fields)).not.toContain('not-a-digest');
  });

  it('names an unknown field of a new value', async () => {
    const { verifier, putValue, log } = await verifierOf(
      writeKeySecretValue([WEB]),
    );
    await verifier.verify(WEB.key);
    const document = JSON.parse(writeKeySecretValue([WEB]));

    await putValue(JSON.stringify({ ...document, writeKey: 'x' }));
    await verifier.verify(WEB.key);

    const errors = log.entries.filter((entry) => entry.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields).toMatchObject({
      issues: [
        'writeKey: is not a known field; allowed fields are writeKeys. Remove it or correct its spelling.',
      ],
    });
  });

  it('keeps the last digests while the secret cannot be read', async () => {
    let now = 0;
    const { verifier, secretName, log } = await verifierOf(
      writeKeySecretValue([WEB]),
      { clock: () => now },
    );
    await verifier.verify(WEB.key);
    await client.send(
      new DeleteSecretCommand({
        SecretId: secretName,
        ForceDeleteWithoutRecovery: true,
      }),
    );

    const outage = [
      await verifier.verify(WEB.key),
      await verifier.verify(APP.key),
    ];
    const readsDuringOutage = secretReads;
    now += 30_000;
    const retried = await verifier.verify(WEB.key);

    expect(outage).toEqual(['web', undefined]);
    expect(readsDuringOutage).toBe(2);
    expect(retried).toBe('web');
    expect(secretReads).toBe(3);
    const warnings = log.entries.filter((entry) => entry.level === 'warn');
    expect(warnings.map((entry) => entry.message)).toEqual([
      'write key secret read failed, using last digests',
      'write key secret read failed, using last digests',
    ]);
  });

  it('raises when the secret is missing at the first request', async () => {
    const { verifier, secretName } = await verifierOf(
      writeKeySecretValue([WEB]),
    );
    await client.send(
      new DeleteSecretCommand({
        SecretId: secretName,
        ForceDeleteWithoutRecovery: true,
      }),
    );

    const verifying = verifier.verify(WEB.key);

    await expect(verifying).rejects.toThrow(WriteKeySecretError);
    await expect(verifying).rejects.toThrow(
      `The write key secret ${secretName} could not be read`,
    );
  });

  it('raises a retryable error when the first read is throttled', async () => {
    const throttled = secretsClient();
    mockClient(throttled)
      .on(GetSecretValueCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException',
          $metadata: { httpStatusCode: 400 },
        }),
      );
    const verifier = new SecretWriteKeyVerifier(
      new SecretsProvider({ awsSdkV3Client: throttled }),
      { secretName: 'throttled', maxAgeSeconds: 0, log: recordingLog() },
    );

    const verifying = verifier.verify(WEB.key);

    await expect(verifying).rejects.toThrow(CapacityExceededError);
    await expect(verifying).rejects.toThrow(
      'Secrets Manager reached its throughput limit',
    );
  });

  it.each([
    ['not JSON', 'web-key-2026-06'],
    ['an empty object', '{}'],
    [
      'a digest listed twice',
      JSON.stringify({
        writeKeys: [
          { sourceId: 'web', sha256: hashWriteKey(WEB.key) },
          { sourceId: 'app', sha256: hashWriteKey(WEB.key) },
        ],
      }),
    ],
  ])('raises when the first value is %s', async (_case, value) => {
    const { verifier, log } = await verifierOf(value);

    await expect(verifier.verify(WEB.key)).rejects.toThrow(
      'contains no valid digests',
    );
    expect(JSON.stringify(log.entries)).not.toContain('web-key-2026-06');
  });
});

describe('writeKeySecretSchema', () => {
  it('rejects the digest of an empty key', () => {
    const parsed = writeKeySecretSchema.safeParse({
      writeKeys: [
        { sourceId: 'web', sha256: hashWriteKey(WEB.key) },
        { sourceId: 'app', sha256: hashWriteKey('') },
      ],
    });

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues).toHaveLength(1);
    expect(parsed.error?.issues[0]?.path).toEqual(['writeKeys', 1, 'sha256']);
    expect(parsed.error?.issues[0]?.message).toContain('empty write key');
  });
});
