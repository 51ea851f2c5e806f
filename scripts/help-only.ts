import { parseArgs } from 'node:util';

/**
 * Checks the command line of a command that takes no arguments, only
 * `--help`. Prints `usage` to stdout for `--help`, or the problem and
 * `usage` to stderr with exit code 2 for anything else, and returns
 * whether the command should run.
 */
export function shouldRun(
  command: string,
  usage: string,
  argv: readonly string[],
): boolean {
  let help: boolean;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h', default: false } },
    });
    help = values.help;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${command}: ${message}\n\n${usage}`);
    process.exitCode = 2;
    return false;
  }
  if (help) process.stdout.write(usage);
  return !help;
}
