import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseBenchArguments } from '../../bench/arguments.js';

const SUITES = ['core', 'ingest', 'sweep'];

describe('parseBenchArguments', () => {
  it('runs every suite when none is named', () => {
    expect(parseBenchArguments([], SUITES)).toEqual({
      suites: [],
      write: true,
      help: false,
    });
  });

  it('keeps named suites and --no-write', () => {
    expect(
      parseBenchArguments(['sweep', 'core', '--no-write'], SUITES),
    ).toEqual({ suites: ['sweep', 'core'], write: false, help: false });
  });

  it('rejects an unknown suite', () => {
    expect(() => parseBenchArguments(['cor'], SUITES)).toThrow(
      'Unknown suite: cor. Choose from: core, ingest, sweep.',
    );
  });

  it.each([
    [['core', 'core'], 'Suite core is named more than once. Name it once.'],
    [
      ['sweep', 'core', 'sweep', '--no-write'],
      'Suite sweep is named more than once. Name it once.',
    ],
  ])('rejects the repeated suite in %j', (args, message) => {
    const parse = () => parseBenchArguments(args, SUITES);

    expect(parse).toThrow(BenchUsageError);
    expect(parse).toThrow(message);
  });

  it('rejects a mistyped --no-write', () => {
    const parse = () => parseBenchArguments(['core', '--no-wirte'], SUITES);

    expect(parse).toThrow(BenchUsageError);
    expect(parse).toThrow('Did you mean --no-write?');
  });

  it('rejects a repeated --no-write', () => {
    const parse = () =>
      parseBenchArguments(['core', '--no-write', '--no-write'], SUITES);

    expect(parse).toThrow(BenchUsageError);
    expect(parse).toThrow('--no-write is given more than once. Give it once.');
  });
});
