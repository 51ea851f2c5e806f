import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestRuntime } from '../../functions/adapters/ingest-runtime.js';
import { resetRuntime, runtime } from '../../functions/adapters/runtime.js';
import {
  startTrackingBackend,
  type TrackingBackend,
  WRITE_KEY,
} from '../support/tracking-api.js';

const ROTATED_KEY = 'rotated-test-write-key';

let backend: TrackingBackend;

beforeAll(async () => {
  backend = await startTrackingBackend();
});

afterAll(async () => {
  process.env.MQL_WRITE_KEY = WRITE_KEY;
  await backend?.stop();
});

describe('ingestRuntime', () => {
  it('builds the verifier once per runtime', async () => {
    const first = await ingestRuntime();
    const second = await ingestRuntime();

    expect(first.writeKeys).toBeDefined();
    expect(second.writeKeys).toBe(first.writeKeys);
  });

  it('shares the components of runtime()', async () => {
    const base = await runtime();
    const ingest = await ingestRuntime();

    expect(ingest.deps).toBe(base.deps);
    expect(ingest.logger).toBe(base.logger);
    expect(ingest.ready).toBe(base.ready);
  });

  it('reads the key again after resetRuntime', async () => {
    const before = await ingestRuntime();
    process.env.MQL_WRITE_KEY = ROTATED_KEY;
    resetRuntime();
    try {
      const after = await ingestRuntime();

      expect(after.writeKeys).not.toBe(before.writeKeys);
      expect(await after.writeKeys?.verify(ROTATED_KEY)).toBe('default');
      expect(await after.writeKeys?.verify(WRITE_KEY)).toBeUndefined();
    } finally {
      process.env.MQL_WRITE_KEY = WRITE_KEY;
      resetRuntime();
    }
  });

  it('has no verifier without a key or secret', async () => {
    delete process.env.MQL_WRITE_KEY;
    resetRuntime();
    try {
      expect((await ingestRuntime()).writeKeys).toBeUndefined();
    } finally {
      process.env.MQL_WRITE_KEY = WRITE_KEY;
      resetRuntime();
    }
  });

  it('rejects an invalid key, then retries', async () => {
    process.env.MQL_WRITE_KEY = 'k3y:with:colons';
    resetRuntime();
    try {
      await expect(ingestRuntime()).rejects.toThrow(
        'MQL_WRITE_KEY: must not contain ":"',
      );
    } finally {
      process.env.MQL_WRITE_KEY = WRITE_KEY;
    }

    const retried = await ingestRuntime();
    expect(await retried.writeKeys?.verify(WRITE_KEY)).toBe('default');
  });
});
