import { describe, expect, it } from 'vitest';
import { sweepDeadline } from '../../functions/handlers/sweep.js';

describe('sweepDeadline', () => {
  const now = Date.parse('2026-10-25T01:00:00Z');

  it('keeps ten seconds of the Lambda time in reserve', () => {
    expect(sweepDeadline(now, 300_000)).toBe(now + 290_000);
  });

  it('runs at least one second when little time remains', () => {
    expect(sweepDeadline(now, 4_000)).toBe(now + 1_000);
  });

  it('runs fifty seconds without a Lambda context', () => {
    expect(sweepDeadline(now)).toBe(now + 50_000);
  });
});
