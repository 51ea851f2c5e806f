import { describe, expect, it } from 'vitest';
import { findOptionalRun } from '../../functions/domain/regex-optional-runs.js';

describe('findOptionalRun', () => {
  it.each([
    [`^${'\\w?'.repeat(40)}!`, '\\w?'.repeat(10)],
    [`^${'\\w{0,16}'.repeat(10)}!`, '\\w{0,16}'.repeat(3)],
    [`^${'a?'.repeat(29)}${'a'.repeat(29)}$`, 'a?'.repeat(10)],
    ['^(?:a|b)?(?:a|bc)?x?a{0,10}a{0,10}a{0,10}!', 'a{0,10}a{0,10}a{0,10}'],
    ['^x(?:\\d{0,10}\\d{0,10}\\d{0,10}|y)$', '\\d{0,10}\\d{0,10}\\d{0,10}'],
  ])('finds the run in %s', (pattern, run) => {
    expect(findOptionalRun(pattern)).toBe(run);
  });

  it.each([
    '.{0,16}.{0,16}x',
    'a{1,5}a{1,5}a{1,5}a*',
    '^(senior |sr\\.? |lead )?(procurement|purchasing) (manager|analyst)$',
    `^${'a?b'.repeat(20)}$`,
    '(\\d{1,3}\\.){3}\\d{1,3}',
    '^\\w{0,16}-\\w{0,16}-\\w{0,16}-\\w{0,16}$',
  ])('accepts %s', (pattern) => {
    expect(findOptionalRun(pattern)).toBeUndefined();
  });
});
