import { QUARTER_MS } from '../../../functions/domain/time.js';

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
 * Returns the time after `fromMs` at which `base + Σ points · decay` first
 * drops below `level`, or undefined when it never does. Terms must have
 * positive points. With a single retention the time has a closed form,
 * otherwise it is found by bisection to the millisecond (the sum falls
 * monotonically).
 */
export function timeBelowLevel(
  fromMs: number,
  base: number,
  terms: readonly DecayingTerm[],
  level: number,
): number | undefined {
  const valueAfter = (elapsedMs: number) =>
    terms.reduce(
      (sum, term) =>
        sum + term.points * decayFactor(term.retentionPerQuarter, elapsedMs),
      base,
    );
  if (valueAfter(0) < level) {
    return fromMs;
  }
  const decaying = terms.filter((term) => term.retentionPerQuarter < 1);
  const steady = terms
    .filter((term) => term.retentionPerQuarter >= 1)
    .reduce((sum, term) => sum + term.points, base);
  if (decaying.length === 0 || steady >= level) {
    return undefined;
  }
  const rates = new Set(decaying.map((term) => term.retentionPerQuarter));
  if (rates.size === 1) {
    const retention = decaying[0]?.retentionPerQuarter ?? 1;
    const points = decaying.reduce((sum, term) => sum + term.points, 0);
    const elapsed =
      (QUARTER_MS * Math.log((level - steady) / points)) / Math.log(retention);
    return fromMs + Math.ceil(elapsed) + 1;
  }
  return fromMs + bisectElapsed(valueAfter, level);
}

function bisectElapsed(
  valueAfter: (elapsedMs: number) => number,
  level: number,
): number {
  let below = QUARTER_MS;
  while (valueAfter(below) >= level) {
    below *= 2;
  }
  let above = 0;
  while (below - above > 1) {
    const middle = Math.floor((above + below) / 2);
    if (valueAfter(middle) < level) {
      below = middle;
    } else {
      above = middle;
    }
  }
  return below;
}
