import { describe, expect, it } from 'vitest';
import { readWriteKeyConfig } from '../../functions/adapters/write-key-config.js';
import { writeKeyProblem } from '../../functions/adapters/write-keys.js';
import { startLocalStack } from '../../local/stack.js';

describe('writeKeyProblem', () => {
  it.each(['k3y:with:colons', ':', 'key:'])('rejects %j', (key) => {
    expect(writeKeyProblem(key)).toContain('must not contain ":"');
  });

  it.each(['   ', ' key', 'key\u00a0', '\u3000key'])('rejects %j', (key) => {
    expect(writeKeyProblem(key)).toContain(
      'must not start or end with white space',
    );
  });

  it.each(['key\n1', 'k\u0000ey', 'key\u0085x'])('rejects %j', (key) => {
    expect(writeKeyProblem(key)).toContain('must not contain control');
  });

  it.each(['dev-write-key', 'a1b2c3', 'key with spaces', 'ключ'])(
    'accepts %j',
    (key) => {
      expect(writeKeyProblem(key)).toBeUndefined();
    },
  );
});

describe('write keys with a colon', () => {
  it('fail the write key configuration', () => {
    const env = { MQL_WRITE_KEY: 'k3y:with:colons' };

    expect(() => readWriteKeyConfig(env)).toThrow(
      'Invalid environment configuration: MQL_WRITE_KEY: must not contain ":"',
    );
  });

  it('fail startLocalStack before it starts services', async () => {
    const statuses: string[] = [];

    // A stack that starts anyway is stopped, so no service outlives the test.
    const outcome = await startLocalStack({
      port: 0,
      writeKey: 'k3y:with:colons',
      adminToken: 'token',
      sweepIntervalSeconds: 0,
      onSalesEvent: () => undefined,
      onStatus: (message) => statuses.push(message),
    }).then(
      async (stack) => {
        await stack.stop();
        return new Error('startLocalStack accepted the write key.');
      },
      (error: unknown) => error,
    );

    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toContain(
      'Invalid writeKey: must not contain ":"',
    );
    expect(statuses).toEqual([]);
  });
});

describe('readWriteKeyConfig', () => {
  it('rejects a secret name and a key together', () => {
    const env = {
      WRITE_KEY_SECRET_NAME: 'mql-engine/test/write-keys',
      MQL_WRITE_KEY: 'dev-write-key',
    };

    expect(() => readWriteKeyConfig(env)).toThrow(
      'set WRITE_KEY_SECRET_NAME or MQL_WRITE_KEY, not both',
    );
  });

  it('names an invalid cache time', () => {
    const env = { WRITE_KEY_CACHE_SECONDS: '-1' };

    expect(() => readWriteKeyConfig(env)).toThrow(
      'Invalid environment configuration: WRITE_KEY_CACHE_SECONDS:',
    );
  });

  it('caches the secret for 300 s by default', () => {
    const config = readWriteKeyConfig({ WRITE_KEY_SECRET_NAME: 'keys' });

    expect(config.WRITE_KEY_CACHE_SECONDS).toBe(300);
  });
});
