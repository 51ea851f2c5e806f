import { QUARTER_MS } from './time.js';

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

/**
 * Returns ln(retentionPerQuarter) per millisecond, the exponent per
 * millisecond of the same decay as decayFactor.
 */
export function logRetentionPerMs(retentionPerQuarter: number): number {
  return Math.log(retentionPerQuarter) / QUARTER_MS;
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
  if (valueOfTerms(base, terms, 0) < level) {
    return fromMs;
  }
  // One pass in term order gives the sums that filter and reduce gave.
  let steady = base;
  let decayingPoints = 0;
  let decayingTerms = 0;
  let retention = 1;
  let oneRate = true;
  for (const term of terms) {
    if (term.retentionPerQuarter >= 1) {
      steady += term.points;
      continue;
    }
    if (decayingTerms === 0) retention = term.retentionPerQuarter;
    else if (term.retentionPerQuarter !== retention) oneRate = false;
    decayingTerms += 1;
    decayingPoints += term.points;
  }
  if (decayingTerms === 0 || steady >= level) {
    return undefined;
  }
  if (oneRate) {
    const elapsed =
      (QUARTER_MS * Math.log((level - steady) / decayingPoints)) /
      Math.log(retention);
    return fromMs + Math.ceil(elapsed) + 1;
  }
  const valueAfter = (elapsedMs: number) =>
    valueOfTerms(base, terms, elapsedMs);
  return fromMs + bisectElapsed(valueAfter, level);
}

/** Returns base + Σ points · decay after `elapsedMs`, in term order. */
function valueOfTerms(
  base: number,
  terms: readonly DecayingTerm[],
  elapsedMs: number,
): number {
  let value = base;
  for (const term of terms) {
    value += term.points * decayFactor(term.retentionPerQuarter, elapsedMs);
  }
  return value;
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
