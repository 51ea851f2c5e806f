import { resolve } from 'node:path';
import {
  describeParseArgsError,
  describeUnexpectedArguments,
  firstOptionGiven,
  type ParseArgsOptionsConfig,
  parseArgsOnce,
} from '../command-line.js';
import {
  dynamoDbEndpointOf,
  tableNameOf,
  tableSourceOf,
} from '../dynamodb-target.js';
import { parseIntegerOption } from '../integer-option.js';
import { UsageError } from '../replay/errors.js';
import { DEFAULT_MAX_VISITS } from '../replay/x-education.js';
import { parseTimeOption } from '../time-option.js';
import {
  optionalVariable,
  PACKAGE_ROOT,
  resolvePathArgument,
  resolveUserPath,
} from '../user-path.js';

export const DEFAULT_TABLE = 'mql-engine-local';
/** The bundled model, relative to the package root. */
export const DEFAULT_MODEL_FILE = 'models/procurement-software.json';

export const USAGE = `Usage: npm run model -- check FILE
       npm run model -- backtest FILE [options]
       npm run model -- rescore FILE [--table NAME] [--endpoint URL]

check     validates the model FILE and prints its rules; exits with 1 and
          the path of every invalid field when it is invalid
backtest  replays events through the candidate model FILE and through the
          live model and compares them: MQLs, qualifications, leads that
          change status and, when outcomes are known, AUC and conversion
rescore   after the model FILE was deployed, makes every lead and account
          that another model checked last, and every account without a
          state that the model qualifies, due for the next sweep, which
          stores and publishes the status the new model gives it; scans
          the table

A relative FILE is read from the directory npm was run in.

Options of backtest (defaults in brackets):
  --live FILE           live model [MQL_MODEL_FILE, else ${DEFAULT_MODEL_FILE}]
  --events FILE         Segment NDJSON or the X Education leads CSV to
                        replay [the events stored in --table]
  --table NAME          lead table to read stored events from; this scans
                        the whole table [TABLE_NAME, else ${DEFAULT_TABLE}]
  --endpoint URL        DynamoDB endpoint, such as the one \`npm start\`
                        prints [AWS_ENDPOINT_URL_DYNAMODB, else AWS]
  --outcomes FILE       known outcomes: CSV lines leadId,converted (1/0),
                        NDJSON {"leadId", "converted"} or the X
                        Education CSV's Converted column; they replace
                        the labels of the X Education CSV, so a subset
                        can be evaluated [none, or the CSV's Converted]
  --as-of ISO           time the final scores are taken at [now]
  --reference-time ISO  end of the 30-day window of the synthetic X
                        Education timestamps [--as-of]
  --max-visits N        page views per X Education lead at most
                        [${DEFAULT_MAX_VISITS}]
  --json                print the result as JSON
  -h, --help            print this help

Options of rescore: --table and --endpoint, as for backtest.
`;

/** Settings of a backtest. */
export interface BacktestOptions {
  candidateFile: string;
  liveFile: string;
  /** `--live` or MQL_MODEL_FILE, named in errors; unset for the bundled model. */
  liveSource?: string;
  eventsFile?: string;
  tableName: string;
  /** `--table` or TABLE_NAME, named in errors; unset for the default. */
  tableSource?: string;
  endpoint?: string;
  /** `--endpoint` or AWS_ENDPOINT_URL_DYNAMODB, named in errors. */
  endpointSource?: string;
  outcomesFile?: string;
  asOf: number;
  referenceTime: number;
  maxVisits: number;
}

/** A parsed command line. */
export type ModelCommand =
  | { command: 'help' }
  | { command: 'check'; file: string }
  | { command: 'backtest'; json: boolean; options: BacktestOptions }
  | { command: 'rescore'; options: RescoreTarget };

/** Model file and table of `npm run model -- rescore`. */
export interface RescoreTarget {
  modelFile: string;
  tableName: string;
  /** `--table` or TABLE_NAME, named in errors; unset for the default. */
  tableSource?: string;
  endpoint?: string;
  /** `--endpoint` or AWS_ENDPOINT_URL_DYNAMODB, named in errors. */
  endpointSource?: string;
}

/**
 * Parses the arguments after `npm run model --`.
 *
 * @throws UsageError naming the invalid argument
 */
export function parseModelArguments(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  now: number,
): ModelCommand {
  const { values, positionals } = parse(args);
  if (values.help) {
    return { command: 'help' };
  }
  const [command, file, ...extra] = positionals;
  if (command === undefined) {
    throw new UsageError(
      'Missing the command. Use check FILE, backtest FILE or rescore FILE.',
    );
  }
  if (command !== 'check' && command !== 'backtest' && command !== 'rescore') {
    throw new UsageError(
      `Unknown command "${command}"; use check, backtest or rescore.`,
    );
  }
  if (file === undefined) {
    throw new UsageError(`Missing the model FILE: ${command} takes one.`);
  }
  if (extra.length > 0) {
    throw new UsageError(
      describeUnexpectedArguments(extra, `${command} takes one model FILE`),
    );
  }
  if (command === 'check') {
    rejectBacktestOptions(values);
    return { command, file: modelFileArgument(file, env) };
  }
  if (command === 'rescore') {
    return { command, options: rescoreTarget(file, values, env) };
  }

  rejectTableOptionsWithEvents(values);
  const asOf = parseTime('--as-of', values['as-of'], now);
  const options: BacktestOptions = {
    candidateFile: modelFileArgument(file, env),
    liveFile: liveModelFile(values.live, env),
    ...liveSourceOf(values.live, env),
    tableName: tableNameOf(values.table, env, DEFAULT_TABLE),
    asOf,
    referenceTime: parseTime(
      '--reference-time',
      values['reference-time'],
      asOf,
    ),
    maxVisits:
      values['max-visits'] === undefined
        ? DEFAULT_MAX_VISITS
        : parseIntegerOption('--max-visits', values['max-visits'], 0),
  };
  const tableSource = tableSourceOf(values.table, env);
  if (tableSource !== undefined) options.tableSource = tableSource;
  const endpoint = dynamoDbEndpointOf(values.endpoint, env);
  if (endpoint !== undefined) {
    options.endpoint = endpoint.url;
    options.endpointSource = endpoint.source;
  }
  if (values.events !== undefined) {
    options.eventsFile = resolvePathArgument(
      values.events,
      '--events',
      'an NDJSON or CSV file of messages',
      env,
    );
  }
  if (values.outcomes !== undefined) {
    options.outcomesFile = resolvePathArgument(
      values.outcomes,
      '--outcomes',
      'a CSV or NDJSON file of outcomes',
      env,
    );
  }
  return { command, json: values.json, options };
}

const MODEL_OPTIONS = {
  live: { type: 'string' },
  events: { type: 'string' },
  table: { type: 'string' },
  endpoint: { type: 'string' },
  outcomes: { type: 'string' },
  'as-of': { type: 'string' },
  'reference-time': { type: 'string' },
  'max-visits': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsOptionsConfig;

/**
 * Raises UsageError for an option of backtest given to check, which
 * would ignore it.
 */
function rejectBacktestOptions(values: ReturnType<typeof parse>['values']) {
  const option = firstOptionGiven(values);
  if (option !== undefined) {
    throw new UsageError(
      `check does not take --${option}. Only backtest and rescore take options.`,
    );
  }
}

/**
 * Returns the settings of rescore. Raises UsageError for an option of
 * backtest other than --table and --endpoint, which rescore would ignore.
 */
function rescoreTarget(
  file: string,
  values: ReturnType<typeof parse>['values'],
  env: Readonly<Record<string, string | undefined>>,
): RescoreTarget {
  const { table, endpoint: endpointOption, ...others } = values;
  const option = firstOptionGiven(others);
  if (option !== undefined) {
    throw new UsageError(
      `rescore does not take --${option}. It takes --table and --endpoint.`,
    );
  }
  const target: RescoreTarget = {
    modelFile: modelFileArgument(file, env),
    tableName: tableNameOf(table, env, DEFAULT_TABLE),
  };
  const tableSource = tableSourceOf(table, env);
  if (tableSource !== undefined) target.tableSource = tableSource;
  const endpoint = dynamoDbEndpointOf(endpointOption, env);
  if (endpoint !== undefined) {
    target.endpoint = endpoint.url;
    target.endpointSource = endpoint.source;
  }
  return target;
}

/**
 * Raises UsageError for --table or --endpoint next to --events, because
 * backtest replays either the file or the table, never both.
 */
function rejectTableOptionsWithEvents(
  values: ReturnType<typeof parse>['values'],
) {
  if (values.events === undefined) return;
  for (const option of ['table', 'endpoint'] as const) {
    if (values[option] !== undefined) {
      throw new UsageError(
        `--events and --${option} conflict: backtest replays the events file or the events stored in the table, not both. Leave out --${option} to replay the file, or --events to replay the table.`,
      );
    }
  }
}

function parse(args: readonly string[]) {
  try {
    return parseArgsOnce({
      args: [...args],
      allowPositionals: true,
      options: MODEL_OPTIONS,
    });
  } catch (error) {
    throw new UsageError(describeParseArgsError(error, MODEL_OPTIONS));
  }
}

/**
 * Returns the path of the live model: --live, else MQL_MODEL_FILE, both
 * relative to the directory npm was run in, else the bundled model.
 */
function liveModelFile(
  live: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (live !== undefined) {
    return resolvePathArgument(live, '--live', 'a model JSON file', env);
  }
  const file = optionalVariable(env, 'MQL_MODEL_FILE');
  return file === undefined
    ? resolve(PACKAGE_ROOT, DEFAULT_MODEL_FILE)
    : resolveUserPath(file, env);
}

function modelFileArgument(
  file: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  return resolvePathArgument(
    file,
    'model FILE',
    'a model JSON file, such as models/procurement-software.json',
    env,
  );
}

function liveSourceOf(
  live: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { liveSource?: string } {
  if (live !== undefined) return { liveSource: '--live' };
  const fromVariable = optionalVariable(env, 'MQL_MODEL_FILE') !== undefined;
  return fromVariable ? { liveSource: 'MQL_MODEL_FILE' } : {};
}

function parseTime(name: string, text: string | undefined, fallback: number) {
  return text === undefined ? fallback : parseTimeOption(name, text);
}
