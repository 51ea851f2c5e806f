import { QUARTER_MS } from '../../../functions/domain/time.js';
import { roundCents } from './explanation.js';

/**
 * Returns the share of positive intent left after `elapsedMs` of
 * inactivity: retentionPerQuarter ^ (elapsed / quarter). Exponential decay
 * is memoryless, so decaying in steps equals decaying once, and the score
 * at any time follows from (points, asOf) alone.
 */
export function decayFactor(
  retentionPerQuarter: number,
  elapsedMs: number,
): number {
  if (elapsedMs <= 0 || retentionPerQuarter >= 1) {
    return 1;
  }
  return retentionPerQuarter ** (elapsedMs / QUARTER_MS);
}

/** Positive points decaying from a common time, each at its own rate. */
export interface DecayingTerm {
  points: number;
  retentionPerQuarter: number;
}

/**
 * Returns the first millisecond at or after `fromMs` at which
 * `base + Σ points · decay`, rounded to cents, is below `level`, or
 * undefined when it never is. Terms must have positive points. The time
 * is found by bisection, since the sum falls monotonically.
 */
export function timeBelowLevel(
  fromMs: number,
  base: number,
  terms: readonly DecayingTerm[],
  level: number,
): number | undefined {
  const isBelowAfter = (elapsedMs: number) =>
    roundCents(
      terms.reduce(
        (sum, term) =>
          sum + term.points * decayFactor(term.retentionPerQuarter, elapsedMs),
        base,
      ),
    ) < level;
  if (isBelowAfter(0)) {
    return fromMs;
  }
  const steady = terms
    .filter((term) => term.retentionPerQuarter >= 1)
    .reduce((sum, term) => sum + term.points, base);
  const decays = terms.some((term) => term.retentionPerQuarter < 1);
  if (!decays || roundCents(steady) >= level) {
    return undefined;
  }
  return fromMs + bisectElapsed(isBelowAfter);
}

function bisectElapsed(isBelowAfter: (elapsedMs: number) => boolean): number {
  let below = QUARTER_MS;
  while (!isBelowAfter(below)) {
    below *= 2;
  }
  let above = 0;
  while (below - above > 1) {
    const middle = Math.floor((above + below) / 2);
    if (isBelowAfter(middle)) {
      below = middle;
    } else {
      above = middle;
    }
  }
  return below;
}
