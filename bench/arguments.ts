import {
  describeParseArgsError,
  type ParseArgsOptionsConfig,
  parseArgsOnce,
} from '../scripts/command-line.js';

/** Parsed command line of `npm run bench -- [SUITE...] [--no-write]`. */
export interface BenchArguments {
  /** Suites named on the command line, in order; empty for every suite. */
  suites: string[];
  /** Whether each suite's section of BENCHMARKS.md is rewritten. */
  write: boolean;
  /** Whether to print the usage and run nothing. */
  help: boolean;
}

/** Returns the usage of `npm run bench`, listing the suites. */
export function benchUsage(available: readonly string[]): string {
  return (
    'Usage: npm run bench -- [SUITE...] [--no-write]\n\n' +
    'Runs the named suites, or every suite, prints each figure beside its\n' +
    "baseline and rewrites the suite's section of BENCHMARKS.md. Name each\n" +
    'suite once.\n\n' +
    `Suites: ${available.join(', ')}\n\n` +
    'Options:\n' +
    '  --no-write  leave BENCHMARKS.md as it is\n' +
    '  --help      print this help\n'
  );
}

const BENCH_OPTIONS = {
  'no-write': { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} satisfies ParseArgsOptionsConfig;

/** Command-line mistake of `npm run bench`, with the message to print. */
export class BenchUsageError extends Error {}

/**
 * Parses the arguments of `npm run bench`. Raises BenchUsageError for an
 * unknown option or suite, so a mistyped `--no-write` cannot rewrite
 * BENCHMARKS.md, and for a suite named twice, which would run twice and
 * write its section twice.
 */
export function parseBenchArguments(
  argv: readonly string[],
  available: readonly string[],
): BenchArguments {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new BenchUsageError(describeParseArgsError(error, BENCH_OPTIONS));
  }
  const names = parsed.positionals;
  const unknown = names.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    throw new BenchUsageError(
      `Unknown suite: ${unknown.join(', ')}. ` +
        `Choose from: ${available.join(', ')}.`,
    );
  }
  const repeated = names.find((name, index) => names.indexOf(name) < index);
  if (repeated !== undefined) {
    throw new BenchUsageError(
      `Suite ${repeated} is named more than once. Name it once.`,
    );
  }
  return {
    suites: names,
    write: !parsed.values['no-write'],
    help: parsed.values.help,
  };
}

function parse(argv: readonly string[]) {
  return parseArgsOnce({
    args: [...argv],
    allowPositionals: true,
    options: BENCH_OPTIONS,
  });
}
