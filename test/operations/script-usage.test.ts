import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Runs `npm run SCRIPT -- ...args` without npm. */
function runScript(script: string, args: string[]) {
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', `scripts/${script}.ts`, ...args],
    { encoding: 'utf8', timeout: 60_000 },
  );
}

describe.each([
  { script: 'schemas', output: 'schemas/lead-qualified.json' },
  { script: 'reliability', output: 'RELIABILITY.md' },
])('npm run $script', ({ script, output }) => {
  it('prints usage for --help', () => {
    const before = statSync(output).mtimeMs;

    const run = runScript(script, ['--help']);

    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Usage: npm run ${script}`);
    expect(statSync(output).mtimeMs).toBe(before);
  });

  it('rejects an argument with usage', () => {
    const before = statSync(output).mtimeMs;

    const run = runScript(script, ['prod']);

    expect(run.status).toBe(2);
    expect(run.stderr).toContain("Unexpected argument 'prod'");
    expect(run.stderr).toContain(`Usage: npm run ${script}`);
    expect(statSync(output).mtimeMs).toBe(before);
  });
});
