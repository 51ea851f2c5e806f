import { describe, expect, it } from 'vitest';
import { readConfig } from '../../functions/adapters/config.js';
import { readWriteKeyConfig } from '../../functions/adapters/write-key-config.js';

const REQUIRED = { TABLE_NAME: 'leads', EVENT_BUS_NAME: 'mql' };

describe('readConfig', () => {
  it('reads decimal whole numbers', () => {
    const config = readConfig({
      ...REQUIRED,
      REVIEW_SHARDS: '32',
      EVENT_RETENTION_DAYS: '0400',
    });

    expect(config.REVIEW_SHARDS).toBe(32);
    expect(config.EVENT_RETENTION_DAYS).toBe(400);
  });

  it('uses defaults for unset numbers', () => {
    const config = readConfig(REQUIRED);

    expect(config.REVIEW_SHARDS).toBe(16);
    expect(config.EVENT_RETENTION_DAYS).toBe(400);
  });

  it.each(['abc', '', ' 8', '0x10', '1e2', '-1', '+5', '5.0'])(
    'rejects REVIEW_SHARDS=%j as not digits',
    (value) => {
      expect(() => readConfig({ ...REQUIRED, REVIEW_SHARDS: value })).toThrow(
        'Invalid environment configuration: REVIEW_SHARDS: must be a whole ' +
          'number from 1 to 1000 in decimal digits',
      );
    },
  );

  it('rejects REVIEW_SHARDS out of range', () => {
    expect(() => readConfig({ ...REQUIRED, REVIEW_SHARDS: '0' })).toThrow(
      'REVIEW_SHARDS: must be at least 1',
    );
    expect(() => readConfig({ ...REQUIRED, REVIEW_SHARDS: '1001' })).toThrow(
      'REVIEW_SHARDS: must be at most 1000',
    );
  });

  it('names the open range of EVENT_RETENTION_DAYS', () => {
    expect(() =>
      readConfig({ ...REQUIRED, EVENT_RETENTION_DAYS: 'forever' }),
    ).toThrow(
      'EVENT_RETENTION_DAYS: must be a whole number of at least 1 in ' +
        'decimal digits',
    );
  });
});

describe('readWriteKeyConfig', () => {
  it('rejects a cache time that is not digits', () => {
    expect(() =>
      readWriteKeyConfig({ WRITE_KEY_CACHE_SECONDS: '1e3' }),
    ).toThrow(
      'WRITE_KEY_CACHE_SECONDS: must be a whole number of at least 0 in ' +
        'decimal digits',
    );
  });

  it('reads a zero cache time', () => {
    const config = readWriteKeyConfig({ WRITE_KEY_CACHE_SECONDS: '0' });

    expect(config.WRITE_KEY_CACHE_SECONDS).toBe(0);
  });
});
