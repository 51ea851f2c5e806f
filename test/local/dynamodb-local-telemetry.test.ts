import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../local/ports.js';
import { type LocalService, startDynamoDbLocal } from '../../local/services.js';

let started: LocalService | undefined;
const savedTelemetry = process.env.DDB_LOCAL_TELEMETRY;

afterEach(async () => {
  await started?.stop();
  started = undefined;
  if (savedTelemetry === undefined) delete process.env.DDB_LOCAL_TELEMETRY;
  else process.env.DDB_LOCAL_TELEMETRY = savedTelemetry;
});

/** Reads the environment of a running process from /proc (Linux only). */
function environmentOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8')
    .split('\0')
    .filter((entry) => entry.includes('='))
    .map((entry): [string, string] => {
      const separator = entry.indexOf('=');
      return [entry.slice(0, separator), entry.slice(separator + 1)];
    });
  return new Map(entries);
}

describe.runIf(process.platform === 'linux')('startDynamoDbLocal', () => {
  it('turns DynamoDB Local telemetry off', async () => {
    delete process.env.DDB_LOCAL_TELEMETRY;

    started = await startDynamoDbLocal({ port: await freePort() });

    const pid = started.process.pid as number;
    expect(environmentOf(pid).get('DDB_LOCAL_TELEMETRY')).toBe('0');
  });

  it('keeps a telemetry setting of the user', async () => {
    process.env.DDB_LOCAL_TELEMETRY = '1';

    started = await startDynamoDbLocal({ port: await freePort() });

    const pid = started.process.pid as number;
    expect(environmentOf(pid).get('DDB_LOCAL_TELEMETRY')).toBe('1');
  });
});
