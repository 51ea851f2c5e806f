import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DEFAULT_STAGE } from '../lib/mql-engine-app.js';

/**
 * `npm run synth -- [STAGE] [cdk synth options]`: synthesizes one stage
 * offline into cdk.out/, as `cdk synth --quiet -c stage=STAGE`. Without
 * STAGE it synthesizes dev. Exits with cdk's exit code.
 */

/**
 * Returns the cdk arguments for the script's arguments: a first argument
 * that is not an option names the stage, and the rest pass through.
 */
export function synthArguments(argv: readonly string[]): string[] {
  const [first, ...rest] = argv;
  const namesStage = first !== undefined && !first.startsWith('-');
  const stage = namesStage ? first : DEFAULT_STAGE;
  const options = namesStage ? rest : [...argv];
  return ['synth', '--quiet', '-c', `stage=${stage}`, ...options];
}

function main(): void {
  const cdk = createRequire(import.meta.url).resolve('aws-cdk/bin/cdk');
  const result = spawnSync(
    process.execPath,
    [cdk, ...synthArguments(process.argv.slice(2))],
    { stdio: 'inherit' },
  );
  if (result.error !== undefined) {
    process.stderr.write(`cdk could not be started: ${result.error.message}\n`);
  }
  process.exitCode = result.status ?? 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main();
}
