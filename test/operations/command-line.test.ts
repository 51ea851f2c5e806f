import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  describeParseArgsError,
  type ParseArgsOptionsConfig,
} from '../../scripts/command-line.js';

const OPTIONS = {
  months: { type: 'string' },
  'band-width': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsOptionsConfig;

/** Returns the message for the parseArgs error of `args`. */
function messageFor(
  args: string[],
  options: ParseArgsOptionsConfig = OPTIONS,
): string {
  try {
    parseArgs({ args, options, allowPositionals: true });
  } catch (error) {
    return describeParseArgsError(error, options);
  }
  throw new Error(`parseArgs accepted ${args.join(' ')}`);
}

describe('describeParseArgsError', () => {
  it.each([
    [['--month', '3'], 'Unknown option --month. Did you mean --months?'],
    [
      ['--band_width', '5'],
      'Unknown option --band_width. Did you mean --band-width?',
    ],
    [['--jsn'], 'Unknown option --jsn. Did you mean --json?'],
    [
      ['--verbose'],
      'Unknown option --verbose. Run with --help to list the options.',
    ],
    [['-x'], 'Unknown option -x. Run with --help to list the options.'],
    [['--months'], '--months needs a value: --months VALUE.'],
    [
      ['--band-width', '-1'],
      "--band-width needs a value, but the next argument starts with '-'. Write --band-width=VALUE for a value that starts with '-'.",
    ],
    [['--json=yes'], '--json takes no value.'],
  ])('explains %j', (args, expected) => {
    expect(messageFor(args)).toBe(expected);
  });

  it('lists the options of a command without --help', () => {
    const options = {
      'no-write': { type: 'boolean' },
    } satisfies ParseArgsOptionsConfig;

    expect(messageFor(['--verbose'], options)).toBe(
      'Unknown option --verbose. The options are --no-write.',
    );
  });

  it('keeps the message of other errors', () => {
    expect(describeParseArgsError(new Error('disk full'), OPTIONS)).toBe(
      'disk full',
    );
  });
});
