import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Time for the other service to start, then stop, with room to spare. */
const RUN_TIMEOUT_MS = 90_000;

/** Time the processes of a finished run get to exit. */
const GRACE_MS = 5_000;

/**
 * Returns a directory with an executable `name` that passes the
 * dependency check of local/services.ts and exits with 1 at start.
 */
function failingProgram(name: string, checkOutput: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'mql-fail-start-'));
  const file = join(directory, name);
  writeFileSync(
    file,
    '#!/bin/sh\n' +
      'case "$1" in\n' +
      `  -version|--help) echo '${checkOutput}' >&2; exit 0 ;;\n` +
      'esac\n' +
      `echo '${name}: simulated start failure' >&2\n` +
      'exit 1\n',
  );
  chmodSync(file, 0o755);
  return directory;
}

interface Run {
  code: number | null;
  stderr: string;
  /** Whether a process of the run's process group outlived the run. */
  leftRunning: boolean;
}

/**
 * Runs `npm run reliability` in a process group of its own, with
 * `directory` first on PATH. A run that outlives RUN_TIMEOUT_MS is
 * killed with its group, and its code is null.
 */
function runReliability(directory: string): Promise<Run> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/reliability.ts'],
    {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        PATH: `${directory}${delimiter}${process.env.PATH ?? ''}`,
        MQL_RELIABILITY_MQLS: '1',
      },
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const group = child.pid as number;
  return new Promise((resolve) => {
    const timer = setTimeout(() => killGroup(group), RUN_TIMEOUT_MS);
    child.once('exit', async (code) => {
      clearTimeout(timer);
      const leftRunning = await groupOutlives(group, GRACE_MS);
      killGroup(group);
      resolve({ code, stderr, leftRunning });
    });
  });
}

/**
 * Returns whether a process of `group` still runs after `ms`. The esbuild
 * service that tsx starts exits shortly after the script, but a service
 * that nothing stopped runs on.
 */
async function groupOutlives(group: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (groupIsAlive(group)) {
    if (Date.now() >= deadline) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

function groupIsAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // The group has no process left.
  }
}

describe('npm run reliability with a service that fails to start', () => {
  it.each([
    {
      service: 'moto_server',
      program: failingProgram('moto_server', 'usage: moto_server'),
    },
    {
      service: 'DynamoDB Local',
      program: failingProgram('java', 'openjdk version "17.0.1"'),
    },
  ])(
    'stops the other service when $service fails',
    async ({ service, program }) => {
      const before = statSync('RELIABILITY.md').mtimeMs;

      const run = await runReliability(program);

      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`reliability: ${service} failed to start`);
      expect(run.leftRunning).toBe(false);
      expect(statSync('RELIABILITY.md').mtimeMs).toBe(before);
    },
    RUN_TIMEOUT_MS + GRACE_MS + 10_000,
  );
});
