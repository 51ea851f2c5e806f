process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Handler log lines would mix with the report on stdout.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { usageHint } from '../scripts/command-line.js';
import {
  type BenchArguments,
  BenchUsageError,
  benchUsage,
  parseBenchArguments,
} from './arguments.js';
import { type BenchSuite, createBenchContext } from './context.js';
import { formatSuite, machineDescription } from './format.js';
import { updateBenchmarksFile } from './report-file.js';

/**
 * npm run bench [-- SUITE...] runs the named suites (all when none is
 * named), prints each figure beside its baseline, and rewrites each suite's
 * section of BENCHMARKS.md. A slow figure never fails the run; only an
 * error does.
 */

const SUITES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'suites');

async function availableSuites(): Promise<string[]> {
  const files = await readdir(SUITES_DIR);
  return files
    .filter((file) => file.endsWith('.ts'))
    .map((file) => basename(file, '.ts'))
    .sort();
}

async function loadSuite(name: string): Promise<BenchSuite> {
  const url = pathToFileURL(join(SUITES_DIR, `${name}.ts`)).href;
  return (await import(url)) as BenchSuite;
}

async function main(): Promise<number> {
  const available = await availableSuites();
  let parsed: BenchArguments;
  try {
    parsed = parseBenchArguments(process.argv.slice(2), available);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n${usageHint('bench')}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(benchUsage(available));
    return 0;
  }
  const { suites: args, write: writeFile } = parsed;
  const selected = args.length > 0 ? args : available;
  const command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  const machine = machineDescription();
  process.stdout.write(`${command}\n${machine}\n\n`);

  const { context, stop } = createBenchContext();
  let failed = false;
  try {
    for (const name of selected) {
      const suite = await loadSuite(name);
      context.progress(`[${name}] ${suite.description}`);
      try {
        const report = await suite.run(context);
        const section = formatSuite(report, { command, machine });
        process.stdout.write(`${section}\n`);
        if (writeFile) await updateBenchmarksFile(name, section);
      } catch (error) {
        failed = true;
        process.stderr.write(
          `[${name}] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        );
      }
    }
  } finally {
    await stop();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
