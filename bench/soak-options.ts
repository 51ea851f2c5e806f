import {
  describeParseArgsError,
  type ParseArgsOptionsConfig,
  parseArgsOnce,
} from '../scripts/command-line.js';
import { parseIntegerOption } from '../scripts/integer-option.js';
import { UsageError } from '../scripts/replay/errors.js';
import { optionalVariable, resolveUserPath } from '../scripts/user-path.js';

export const SOAK_USAGE = `Usage: npm run soak -- [options]

Replays the UCI online shoppers sessions against the local stack with the
decay sweep running, checks that no event was lost or stored twice, then
fuzzes the ingest route, and writes the figures into RELIABILITY.md.

Options (defaults in brackets):
  --minutes N       whole minutes of replay; 0 skips the replay [3]
  --data FILE       the UCI online_shoppers_intention.csv, relative to
                    the directory npm was run in; the replay is skipped,
                    naming the path, when it is missing
                    [MQL_SOAK_DATA, else a default path]
  --fuzz-cases N    fast-check cases over the ingest route; 0 skips
                    them [10000]
  --concurrency N   requests in flight during the replay [4]
  --no-write        leave RELIABILITY.md as it is
  --help            print this help
`;

/** Settings of one `npm run soak`. */
export interface SoakOptions {
  /** Replay time in minutes, where 0 skips the replay. */
  minutes: number;
  /** Path of the UCI online shoppers CSV file. */
  data: string;
  /** fast-check cases over the ingest route, where 0 skips the fuzzing. */
  fuzzCases: number;
  /** Requests in flight during the replay. */
  concurrency: number;
  /** Whether RELIABILITY.md is rewritten. */
  write: boolean;
}

/** A parsed command line of `npm run soak`. */
export type SoakCommand =
  | { help: true }
  | { help: false; options: SoakOptions };

const SOAK_OPTIONS = {
  minutes: { type: 'string', default: '3' },
  data: { type: 'string' },
  'fuzz-cases': { type: 'string', default: '10000' },
  concurrency: { type: 'string', default: '4' },
  'no-write': { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} satisfies ParseArgsOptionsConfig;

/**
 * Parses the arguments after `npm run soak --`. `--data` defaults to
 * MQL_SOAK_DATA, else to `defaultData`, and a relative path is read from
 * the directory npm was run in. The numbers take decimal digits
 * only, so "1.5", "1e3" and "" are rejected instead of being read as some
 * other number.
 *
 * @throws UsageError naming the invalid option
 */
export function parseSoakArguments(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  defaultData: string,
): SoakCommand {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError(describeParseArgsError(error, SOAK_OPTIONS));
  }
  if (values.help) return { help: true };
  return {
    help: false,
    options: {
      minutes: parseIntegerOption('--minutes', values.minutes, 0),
      data: dataFile(values.data, env, defaultData),
      fuzzCases: parseIntegerOption('--fuzz-cases', values['fuzz-cases'], 0),
      concurrency: parseIntegerOption('--concurrency', values.concurrency, 1),
      write: !values['no-write'],
    },
  };
}

/**
 * Returns the path of the sessions CSV: --data, else MQL_SOAK_DATA, both
 * relative to the directory npm was run in, else `defaultData` as it is.
 */
function dataFile(
  data: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  defaultData: string,
): string {
  if (data?.trim() === '') {
    throw new UsageError(
      '--data must not be empty. Give the path of the CSV file.',
    );
  }
  const file = data ?? optionalVariable(env, 'MQL_SOAK_DATA');
  return file === undefined ? defaultData : resolveUserPath(file, env);
}

function parse(argv: readonly string[]) {
  return parseArgsOnce({ args: [...argv], options: SOAK_OPTIONS });
}
