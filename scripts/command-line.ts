/**
 * Rewrites the errors of Node.js `util.parseArgs` for the project's
 * commands. Its own messages end in advice about `--` and positional
 * arguments that does not fit a mistyped option.
 */

import { type ParseArgsConfig, parseArgs } from 'node:util';

/**
 * Returns the line that follows a usage error of the npm script `script`,
 * such as `Run "npm run replay -- --help" for usage.`. The full usage
 * takes 20 to 40 lines, which would push the error out of view.
 */
export function usageHint(script: string): string {
  const command = script === 'start' ? 'npm start' : `npm run ${script}`;
  return `Run "${command} -- --help" for usage.`;
}

/** The `options` of a `parseArgs` configuration. */
export type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Error of an option given more than once, with the message to print. */
export class RepeatedOptionError extends Error {
  constructor(readonly option: string) {
    super(`${option} is given more than once. Give it once.`);
    this.name = 'RepeatedOptionError';
  }
}

/**
 * Parses a command line as `parseArgs` does, but raises
 * RepeatedOptionError for an option given more than once, unless its
 * configuration sets `multiple`. `parseArgs` alone keeps the last value,
 * so `--table a --table b` would silently use b. A short and a long form
 * of one option, such as `-h --help`, count as a repeat.
 */
export function parseArgsOnce<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  const { tokens = [] } = parseArgs({ ...config, tokens: true });
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const repeatable = config.options?.[token.name]?.multiple === true;
    if (seen.has(token.name) && !repeatable) {
      throw new RepeatedOptionError(`--${token.name}`);
    }
    seen.add(token.name);
  }
  return parseArgs(config);
}

/**
 * Returns the message for an error that `parseArgs` raised with
 * `options`. An unknown option gets the closest known one, or the list of
 * options when the command has no `--help`. An option without its value
 * gets the form to give it in, and a positional argument of a command
 * without them is named. Other errors keep their message.
 */
export function describeParseArgsError(
  error: unknown,
  options: ParseArgsOptionsConfig,
): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    // Node.js writes "Unexpected argument 'ARG'. This command does not
    // take positional arguments", and ARG may contain quotes itself.
    const argument = /^Unexpected argument '(.*)'\. This command/s.exec(
      message,
    )?.[1];
    if (argument !== undefined) {
      return describeUnexpectedArguments(
        [argument],
        'the command takes options only',
      );
    }
  }
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (option === undefined) return message;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return describeUnknownOption(option, Object.keys(options));
  }
  if (code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return message;
  if (message.includes('does not take an argument')) {
    return `${option} takes no value.`;
  }
  if (message.includes('ambiguous')) {
    return (
      `${option} needs a value, but the next argument starts with '-'. ` +
      `Write ${option}=VALUE for a value that starts with '-'.`
    );
  }
  return `${option} needs a value: ${option} VALUE.`;
}

/**
 * Returns the message for positional arguments that a command does not
 * take, such as `Unexpected argument "b": replay takes one FILE.`, where
 * `accepted` is the clause after the colon.
 */
export function describeUnexpectedArguments(
  extra: readonly string[],
  accepted: string,
): string {
  const quoted = extra.map((argument) => `"${argument}"`).join(', ');
  const noun = extra.length === 1 ? 'argument' : 'arguments';
  return `Unexpected ${noun} ${quoted}: ${accepted}.`;
}

/**
 * Returns the name of the first option other than --help that a command
 * line sets, or undefined. A boolean option counts when it is true, so a
 * default of false does not count.
 */
export function firstOptionGiven(
  values: Readonly<Record<string, unknown>>,
): string | undefined {
  return Object.entries(values).find(
    ([name, value]) =>
      name !== 'help' && value !== undefined && value !== false,
  )?.[0];
}

function describeUnknownOption(option: string, names: string[]): string {
  const typed = option.replace(/^-+/, '').split('=')[0] ?? '';
  const closest = names
    .map((name) => ({ name, distance: editDistance(typed, name) }))
    .filter(({ distance }) => distance <= Math.min(2, typed.length - 1))
    .sort((a, b) => a.distance - b.distance)[0];
  if (closest !== undefined) {
    return `Unknown option ${option}. Did you mean --${closest.name}?`;
  }
  // Every command prints the usageHint line after the message, which
  // points a command with --help to it.
  if (names.includes('help')) {
    return `Unknown option ${option}.`;
  }
  const known = names.map((name) => `--${name}`).join(', ');
  return `Unknown option ${option}. The options are ${known}.`;
}

/** Returns the Levenshtein distance of two short strings. */
function editDistance(from: string, to: string): number {
  let previous = Array.from({ length: to.length + 1 }, (_, index) => index);
  for (let i = 1; i <= from.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= to.length; j += 1) {
      const substitution = from[i - 1] === to[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + substitution,
      );
    }
    previous = current;
  }
  return previous[to.length] ?? 0;
}
