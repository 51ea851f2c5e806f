import { describe, expect, it } from 'vitest';
import { synthArguments } from '../../scripts/synth.js';

describe('synthArguments', () => {
  it.each([
    [[], ['synth', '--quiet', '-c', 'stage=dev']],
    [['prod'], ['synth', '--quiet', '-c', 'stage=prod']],
    [
      ['staging', '--verbose'],
      ['synth', '--quiet', '-c', 'stage=staging', '--verbose'],
    ],
    [
      ['--output', 'out'],
      ['synth', '--quiet', '-c', 'stage=dev', '--output', 'out'],
    ],
  ])('maps %j to cdk %j', (argv, expected) => {
    expect(synthArguments(argv)).toEqual(expected);
  });
});
