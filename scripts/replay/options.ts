import { writeKeyProblem } from '../../functions/adapters/write-keys.js';
import { adminTokenProblem } from '../../local/admin-token.js';
import {
  describeParseArgsError,
  describeUnexpectedArguments,
  firstOptionGiven,
  type ParseArgsOptionsConfig,
  parseArgsOnce,
} from '../command-line.js';
import { parseIntegerOption } from '../integer-option.js';
import { parseTimeOption } from '../time-option.js';
import { resolvePathArgument } from '../user-path.js';
import { UsageError } from './errors.js';
import type { ReplayOptions } from './run-replay.js';
import { DEFAULT_MAX_VISITS } from './x-education.js';

export const USAGE = `Usage: npm run replay -- FILE [options]
       npm run replay -- maven-crm DIR

Sends the messages of FILE to a running mql-engine API and prints a
summary. FILE is Segment messages as NDJSON (one JSON object per line) or
the X Education leads CSV, whose Converted label is used to evaluate the
final scores (AUC, MQL conversion rate and lift).

maven-crm starts a local stack of its own, sends the Maven CRM sample in
DIR (accounts.csv as group calls, sales_pipeline.csv opportunities as
events) and prints each account's score and coverage. It takes none of
the options below but --help.

A relative FILE or DIR is read from the directory npm was run in.

Options (defaults in brackets):
  --url URL             base URL of the API [http://127.0.0.1:3000]
  --write-key KEY       tracking write key [MQL_WRITE_KEY, dev-write-key]
  --admin-token TOKEN   leads API bearer token, to read final scores
                        [MQL_ADMIN_TOKEN, dev-admin-token]
  --batch-size N        maximum messages per request, of which the API
                        takes 10000; a request body stays under 500 KB
                        whatever N is [100]
  --concurrency N       maximum requests in flight [4]
  --reference-time ISO  end of the 30-day window of the synthetic X
                        Education timestamps [now]
  --max-visits N        maximum page views per X Education lead
                        [${DEFAULT_MAX_VISITS}]
  --json                print the summary as JSON
  --quiet               print no progress on stderr
  -h, --help            print this help
`;

/**
 * Parsed command line: help, a replay of FILE with its output settings,
 * or a Maven CRM replay of DIR.
 */
export type CliRequest =
  | { help: true }
  | {
      help: false;
      command: 'file';
      json: boolean;
      quiet: boolean;
      replay: Omit<ReplayOptions, 'progressStream'>;
    }
  | { help: false; command: 'maven-crm'; directory: string };

const DEFAULT_URL = 'http://127.0.0.1:3000';

/**
 * Parses the arguments after `npm run replay --`, with the write key and
 * admin token defaulting to the environment. A first argument
 * `maven-crm` selects the Maven CRM replay, which takes one DIR and no
 * options but --help.
 *
 * @throws UsageError naming the invalid argument
 */
export function parseCliArguments(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  now: number,
): CliRequest {
  const { values, positionals } = parseWithUsageErrors(args);
  if (values.help) {
    return { help: true };
  }
  if (positionals[0] === 'maven-crm') {
    return mavenCrmRequest(positionals.slice(1), values, env);
  }
  if (positionals.length === 0) {
    throw new UsageError(
      'Missing the input FILE. Give one NDJSON or CSV file.',
    );
  }
  if (positionals.length > 1) {
    throw new UsageError(
      describeUnexpectedArguments(
        positionals.slice(1),
        'replay takes one input FILE, or maven-crm DIR',
      ),
    );
  }
  return {
    help: false,
    command: 'file',
    json: values.json,
    quiet: values.quiet,
    replay: replayOptions(positionals[0] as string, values, env, now),
  };
}

/**
 * Checks the arguments after `maven-crm`. The options of a FILE replay
 * are rejected, because the Maven CRM replay starts a stack of its own
 * with fixed settings and would ignore them.
 */
function mavenCrmRequest(
  args: readonly string[],
  values: ParsedValues,
  env: Readonly<Record<string, string | undefined>>,
): CliRequest {
  const [directory, ...extra] = args;
  if (directory === undefined) {
    throw new UsageError('maven-crm needs the directory of the CSV files.');
  }
  if (extra.length > 0) {
    throw new UsageError(
      describeUnexpectedArguments(extra, 'maven-crm takes one DIR'),
    );
  }
  const option = firstOptionGiven(values);
  if (option !== undefined) {
    throw new UsageError(
      `maven-crm does not take --${option}. Only a FILE replay takes options.`,
    );
  }
  return {
    help: false,
    command: 'maven-crm',
    directory: resolvePathArgument(
      directory,
      'maven-crm DIR',
      'the directory of the CSV files',
      env,
    ),
  };
}

type ParsedValues = ReturnType<typeof parseWithUsageErrors>['values'];

function replayOptions(
  file: string,
  values: ParsedValues,
  env: Readonly<Record<string, string | undefined>>,
  now: number,
): Omit<ReplayOptions, 'progressStream'> {
  return {
    file: resolvePathArgument(
      file,
      'input FILE',
      'an NDJSON or CSV file of messages',
      env,
    ),
    url: parseUrl(values.url ?? DEFAULT_URL),
    writeKey: sendableWriteKey(
      sourced(values['write-key'], '--write-key', env, 'MQL_WRITE_KEY') ?? {
        value: 'dev-write-key',
        source: '--write-key',
      },
    ),
    adminToken: sendableAdminToken(
      sourced(
        values['admin-token'],
        '--admin-token',
        env,
        'MQL_ADMIN_TOKEN',
      ) ?? {
        value: 'dev-admin-token',
        source: '--admin-token',
      },
    ),
    batchSize: parseInteger('--batch-size', values['batch-size'], 100, 1),
    concurrency: parseInteger('--concurrency', values.concurrency, 4, 1),
    referenceTime: parseTime(values['reference-time'], now),
    maxVisits: parseInteger(
      '--max-visits',
      values['max-visits'],
      DEFAULT_MAX_VISITS,
      0,
    ),
  };
}

const REPLAY_OPTIONS = {
  url: { type: 'string' },
  'write-key': { type: 'string' },
  'admin-token': { type: 'string' },
  'batch-size': { type: 'string' },
  concurrency: { type: 'string' },
  'reference-time': { type: 'string' },
  'max-visits': { type: 'string' },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsOptionsConfig;

function parseWithUsageErrors(args: readonly string[]) {
  try {
    return parseArgsOnce({
      args: [...args],
      allowPositionals: true,
      options: REPLAY_OPTIONS,
    });
  } catch (error) {
    throw new UsageError(describeParseArgsError(error, REPLAY_OPTIONS));
  }
}

/**
 * Parses --url. Error messages show the URL without the user name and
 * password it may contain, because a password must not reach a log.
 */
function parseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    const shown = text.replace(/\/\/[^/@]*@/, '//');
    throw new UsageError(`--url must be an http or https URL, got "${shown}".`);
  }
  const hasCredentials = url.username !== '' || url.password !== '';
  url.username = '';
  url.password = '';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(
      `--url must be an http or https URL, got "${url.toString()}".`,
    );
  }
  if (hasCredentials) {
    throw new UsageError(
      '--url must not contain a user name or password, because the ' +
        'replay sends the write key as the HTTP Basic user name. Remove ' +
        `them, as in ${url.toString()}.`,
    );
  }
  return url.toString();
}

function parseInteger(
  name: string,
  text: string | undefined,
  fallback: number,
  min: number,
): number {
  return text === undefined ? fallback : parseIntegerOption(name, text, min);
}

function parseTime(text: string | undefined, now: number): number {
  return text === undefined ? now : parseTimeOption('--reference-time', text);
}

/** A value and the option or variable it came from, named in errors. */
interface Sourced {
  value: string;
  source: string;
}

/** Returns the option's value, else the variable's, else undefined. */
function sourced(
  option: string | undefined,
  optionName: string,
  env: Readonly<Record<string, string | undefined>>,
  variable: string,
): Sourced | undefined {
  if (option !== undefined) return { value: option, source: optionName };
  const value = env[variable];
  return value === undefined ? undefined : { value, source: variable };
}

function sendableWriteKey(writeKeyValue: Sourced): string {
  const writeKey = nonEmpty(writeKeyValue);
  const problem = writeKeyProblem(writeKey);
  if (problem !== undefined) {
    throw new UsageError(`Invalid ${writeKeyValue.source}: ${problem}.`);
  }
  return writeKey;
}

function sendableAdminToken(adminTokenValue: Sourced): string {
  const adminToken = nonEmpty(adminTokenValue);
  const problem = adminTokenProblem(adminToken);
  if (problem !== undefined) {
    throw new UsageError(`Invalid ${adminTokenValue.source}: ${problem}.`);
  }
  return adminToken;
}

function nonEmpty({ value, source }: Sourced): string {
  if (value.trim() === '') {
    throw new UsageError(`${source} must not be empty.`);
  }
  return value;
}
