import { describe, expect, it } from 'vitest';
import {
  createProgress,
  type ProgressStream,
  renderBar,
} from '../../scripts/replay/progress.js';

function capture(isTTY: boolean): ProgressStream & { text: string } {
  const stream = {
    text: '',
    isTTY,
    columns: 100,
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream;
}

describe('renderBar', () => {
  it.each([
    [0, '[----------]   0%'],
    [0.25, '[###-------]  25%'],
    [1, '[##########] 100%'],
    [1.5, '[##########] 100%'],
  ])('renders %f', (fraction, expected) => {
    expect(renderBar(fraction, 10)).toBe(expected);
  });
});

describe('createProgress', () => {
  it('redraws one line in place on a TTY', () => {
    const stream = capture(true);
    let now = 0;
    const progress = createProgress(stream, 'sending', { now: () => now });

    progress.update(0.5, 'half');
    now += 1_000;
    progress.update(0.75, 'more');
    progress.done('all');

    expect(stream.text.split('\r\x1b[2K')).toHaveLength(4);
    expect(stream.text).toContain('sending [');
    expect(stream.text.endsWith('100% all\n')).toBe(true);
  });

  it('throttles redraws on a TTY', () => {
    const stream = capture(true);
    const progress = createProgress(stream, 'sending', { now: () => 0 });

    progress.update(0.1, 'a');
    progress.update(0.2, 'b');

    expect(stream.text).toContain('a');
    expect(stream.text).not.toContain('b');
  });

  it('writes periodic lines when not a TTY', () => {
    const stream = capture(false);
    let now = 0;
    const progress = createProgress(stream, 'sending', {
      now: () => now,
      lineIntervalMs: 5_000,
    });

    progress.update(0.1, 'early');
    now = 6_000;
    progress.update(0.5, 'later');
    progress.done('finished');

    expect(stream.text).toBe('sending 50%: later\nsending 100%: finished\n');
    expect(stream.text).not.toContain('\r');
  });

  it('writes nothing without a stream', () => {
    const progress = createProgress(undefined, 'sending');

    expect(() => progress.done('finished')).not.toThrow();
  });
});
