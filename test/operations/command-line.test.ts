import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  describeParseArgsError,
  describeUnexpectedArguments,
  firstOptionGiven,
  type ParseArgsOptionsConfig,
  parseArgsOnce,
  RepeatedOptionError,
  usageHint,
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
    [['--verbose'], 'Unknown option --verbose.'],
    [['-x'], 'Unknown option -x.'],
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

  it.each([
    ['prod', 'Unexpected argument "prod": the command takes options only.'],
    ["it's", 'Unexpected argument "it\'s": the command takes options only.'],
  ])('names the positional argument %j', (argument, expected) => {
    let message = '';
    try {
      parseArgs({ args: [argument], options: OPTIONS });
    } catch (error) {
      message = describeParseArgsError(error, OPTIONS);
    }

    expect(message).toBe(expected);
  });

  it('keeps the message of other errors', () => {
    expect(describeParseArgsError(new Error('disk full'), OPTIONS)).toBe(
      'disk full',
    );
  });
});

describe('parseArgsOnce', () => {
  it('returns the values of options given once', () => {
    const parsed = parseArgsOnce({
      args: ['--months', '3', '--json', 'conversion'],
      options: OPTIONS,
      allowPositionals: true,
    });

    expect(parsed.values).toEqual({ months: '3', json: true });
    expect(parsed.positionals).toEqual(['conversion']);
  });

  it.each([
    [['--months', '3', '--months', '6'], '--months'],
    [['--months=3', '--months', '6'], '--months'],
    [['--json', '--json'], '--json'],
    [['-h', '--help'], '--help'],
    [['--months', '1', '--json', '--months', '1'], '--months'],
  ])('rejects the repeat in %j', (args, option) => {
    const parse = () =>
      parseArgsOnce({ args, options: OPTIONS, allowPositionals: true });

    expect(parse).toThrow(RepeatedOptionError);
    expect(parse).toThrow(`${option} is given more than once. Give it once.`);
  });

  it('keeps its message through describeParseArgsError', () => {
    let message = '';
    try {
      parseArgsOnce({ args: ['--json', '--json'], options: OPTIONS });
    } catch (error) {
      message = describeParseArgsError(error, OPTIONS);
    }

    expect(message).toBe('--json is given more than once. Give it once.');
  });

  it('accepts a repeat of a multiple option', () => {
    const options = {
      context: { type: 'string', short: 'c', multiple: true },
    } satisfies ParseArgsOptionsConfig;

    const parsed = parseArgsOnce({
      args: ['-c', 'a=1', '--context', 'b=2'],
      options,
    });

    expect(parsed.values.context).toEqual(['a=1', 'b=2']);
  });

  it('reports an unknown option before a repeat', () => {
    const parse = () =>
      parseArgsOnce({ args: ['--json', '--json', '--jsn'], options: OPTIONS });

    expect(parse).toThrow("Unknown option '--jsn'");
  });
});

describe('describeUnexpectedArguments', () => {
  it('names one argument', () => {
    expect(describeUnexpectedArguments(['b'], 'replay takes one FILE')).toBe(
      'Unexpected argument "b": replay takes one FILE.',
    );
  });

  it('names every argument', () => {
    expect(describeUnexpectedArguments(['b', 'c'], 'list takes none')).toBe(
      'Unexpected arguments "b", "c": list takes none.',
    );
  });
});

describe('firstOptionGiven', () => {
  it('skips --help, unset and false options', () => {
    const values = { help: true, json: false, table: undefined };

    expect(firstOptionGiven(values)).toBeUndefined();
  });

  it('returns the first option set', () => {
    const values = { json: false, table: 't', quiet: true };

    expect(firstOptionGiven(values)).toBe('table');
  });
});

describe('usageHint', () => {
  it.each([
    ['replay', 'Run "npm run replay -- --help" for usage.'],
    ['start', 'Run "npm start -- --help" for usage.'],
  ])('names the command of %s', (script, hint) => {
    expect(usageHint(script)).toBe(hint);
  });
});
