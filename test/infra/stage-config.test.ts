import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lib/configuration-error.js';
import { PROJECT_ROOT } from '../../lib/mql-engine-app.js';
import {
  DEFAULT_MODEL_FILE,
  formatWriteKeyDigests,
  loadStageConfig,
} from '../../lib/stage-config.js';

const SHIPPED_CONFIG_DIR = join(PROJECT_ROOT, 'config', 'stages');
const DIGEST = 'a'.repeat(64);
const KEYS = { writeKeyDigests: [{ sourceId: 'web', sha256: DIGEST }] };

let configDir: string;

beforeEach(() => {
  configDir = mkdtempSync(join(tmpdir(), 'mql-engine-config-'));
});

afterEach(() => {
  rmSync(configDir, { recursive: true, force: true });
});

function writeStageFile(stage: string, values: unknown): void {
  writeFileSync(join(configDir, `${stage}.json`), JSON.stringify(values));
}

describe('loadStageConfig', () => {
  it('applies the dev defaults', () => {
    writeStageFile('dev', KEYS);

    const config = loadStageConfig('dev', configDir);

    expect(config.modelFile).toBe(DEFAULT_MODEL_FILE);
    expect(config.reviewShards).toBe(16);
    expect(config.eventRetentionDays).toBe(400);
    expect(config.sweepRateMinutes).toBe(5);
    expect(config.logRetentionDays).toBe(14);
    expect(config.protectData).toBe(false);
    expect(config.account).toBeUndefined();
    expect(config.region).toBeUndefined();
  });

  it('protects data in prod by default', () => {
    writeStageFile('prod', KEYS);

    const config = loadStageConfig('prod', configDir);

    expect(config.protectData).toBe(true);
    expect(config.logRetentionDays).toBe(365);
    expect(config.apiThrottling).toEqual({ rateLimit: 500, burstLimit: 1000 });
  });

  it.each(['alice', 'constructor'])('gives stage %s dev defaults', (stage) => {
    writeStageFile(stage, KEYS);

    const config = loadStageConfig(stage, configDir);

    expect(config.stageName).toBe(stage);
    expect(config.protectData).toBe(false);
    expect(config.logRetentionDays).toBe(14);
  });

  it('lets the stage file override defaults', () => {
    writeStageFile('staging', {
      ...KEYS,
      account: '123456789012',
      region: 'eu-central-1',
      reviewShards: 4,
      sweepRateMinutes: 15,
      protectData: true,
    });

    const config = loadStageConfig('staging', configDir);

    expect(config.account).toBe('123456789012');
    expect(config.region).toBe('eu-central-1');
    expect(config.reviewShards).toBe(4);
    expect(config.sweepRateMinutes).toBe(15);
    expect(config.protectData).toBe(true);
  });

  it.each(['dev', 'staging', 'prod'])('accepts shipped %s file', (stage) => {
    const config = loadStageConfig(stage, SHIPPED_CONFIG_DIR);

    expect(config.stageName).toBe(stage);
    expect(config.writeKeyDigests.length).toBeGreaterThan(0);
  });

  it.each([
    ['dev', ['*']],
    ['staging', []],
    ['prod', []],
    ['alice', ['*']],
  ])('gives stage %s CORS origins %j', (stage, origins) => {
    writeStageFile(stage, KEYS);

    expect(loadStageConfig(stage, configDir).corsAllowedOrigins).toEqual(
      origins,
    );
  });

  it('accepts explicit CORS origins', () => {
    const origins = [
      'https://www.example.com',
      'http://localhost:8080',
      'http://127.0.0.1:3000',
      'https://*',
    ];
    writeStageFile('prod', { ...KEYS, corsAllowedOrigins: origins });

    expect(loadStageConfig('prod', configDir).corsAllowedOrigins).toEqual(
      origins,
    );
  });

  it.each([
    'https://www.example.com/',
    'https://www.example.com/path',
    'HTTPS://WWW.EXAMPLE.COM',
    'www.example.com',
    'ftp://example.com',
    'https://*.example.com',
  ])('rejects CORS origin %s', (origin) => {
    writeStageFile('dev', { ...KEYS, corsAllowedOrigins: [origin] });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'corsAllowedOrigins[0]: must be *, https://*',
    );
  });

  it('rejects origins listed next to *', () => {
    writeStageFile('dev', {
      ...KEYS,
      corsAllowedOrigins: ['*', 'https://www.example.com'],
    });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'corsAllowedOrigins: must not list other origins next to *',
    );
  });

  it.each([
    ['reviewShards', { reviewShards: 0 }],
    ['eventRetentionDays', { eventRetentionDays: 1.5 }],
    ['sweepRateMinutes', { sweepRateMinutes: 0 }],
    ['logRetentionDays', { logRetentionDays: 10 }],
    ['apiThrottling.burstLimit', { apiThrottling: { rateLimit: 1 } }],
    ['account', { account: '1234' }],
    ['region', { region: 'Europe' }],
    [
      'writeKeyDigests[0].sha256',
      { writeKeyDigests: [{ sourceId: 'web', sha256: 'XYZ' }] },
    ],
    [
      'writeKeyDigests[0].sourceId',
      { writeKeyDigests: [{ sourceId: 'a b', sha256: DIGEST }] },
    ],
  ])('rejects an invalid %s', (field, values) => {
    writeStageFile('dev', { ...KEYS, ...values });

    expect(() => loadStageConfig('dev', configDir)).toThrow(`${field}: `);
  });

  it('rejects a repeated sourceId', () => {
    const digest = { sourceId: 'web', sha256: DIGEST };
    writeStageFile('dev', { writeKeyDigests: [digest, digest] });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'writeKeyDigests: must not repeat a sourceId',
    );
  });

  it('rejects an unknown field', () => {
    writeStageFile('dev', { ...KEYS, reviewShard: 4 });

    expect(() => loadStageConfig('dev', configDir)).toThrow(/reviewShard\b/);
  });

  it('rejects prod without data protection', () => {
    writeStageFile('prod', { ...KEYS, protectData: false });

    expect(() => loadStageConfig('prod', configDir)).toThrow(
      'protectData: must be true in the prod stage',
    );
  });

  it('requires write key digests', () => {
    expect(() => loadStageConfig('alice', configDir)).toThrow(
      'writeKeyDigests: is required',
    );
  });

  it('rejects a stage name in the file', () => {
    writeStageFile('dev', { ...KEYS, stageName: 'prod' });

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      'stageName: must not be set',
    );
  });

  it.each(['Prod', '1st', 'a'.repeat(21), 'dev-', 'dev_1'])(
    'rejects stage name %s',
    (stage) => {
      writeStageFile(stage, KEYS);

      expect(() => loadStageConfig(stage, configDir)).toThrow('stageName: ');
    },
  );

  it('names the file of invalid JSON', () => {
    writeFileSync(join(configDir, 'dev.json'), '{ "reviewShards": ');

    expect(() => loadStageConfig('dev', configDir)).toThrow(
      join(configDir, 'dev.json'),
    );
  });

  it('raises ConfigurationError listing issues', () => {
    writeStageFile('dev', { ...KEYS, reviewShards: 0, sweepRateMinutes: 0 });

    let error: unknown;
    try {
      loadStageConfig('dev', configDir);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).issues).toHaveLength(2);
  });
});

describe('formatWriteKeyDigests', () => {
  it('joins sourceId:sha256 pairs with commas', () => {
    writeStageFile('dev', {
      writeKeyDigests: [
        { sourceId: 'web', sha256: DIGEST },
        { sourceId: 'app', sha256: 'b'.repeat(64) },
      ],
    });

    const value = formatWriteKeyDigests(loadStageConfig('dev', configDir));

    expect(value).toBe(`web:${DIGEST},app:${'b'.repeat(64)}`);
  });
});
