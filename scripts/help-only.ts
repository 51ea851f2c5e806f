import {
  describeParseArgsError,
  type ParseArgsOptionsConfig,
  parseArgsOnce,
  usageHint,
} from './command-line.js';

/**
 * Checks the command line of a command that takes no arguments, only
 * `--help`. Prints `usage` to stdout for `--help`, or the problem and a
 * pointer to `--help` to stderr with exit code 2 for anything else, and
 * returns whether the command should run.
 */
export function shouldRun(
  command: string,
  usage: string,
  argv: readonly string[],
): boolean {
  const options = {
    help: { type: 'boolean', short: 'h', default: false },
  } satisfies ParseArgsOptionsConfig;
  let help: boolean;
  try {
    const { values } = parseArgsOnce({ args: [...argv], options });
    help = values.help;
  } catch (error) {
    const message = describeParseArgsError(error, options);
    process.stderr.write(`${command}: ${message}\n${usageHint(command)}\n`);
    process.exitCode = 2;
    return false;
  }
  if (help) process.stdout.write(usage);
  return !help;
}
