import { isBelowInCents } from './explanation.js';
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
 * Returns the first millisecond at or after `fromMs` at which
 * `base + Σ points · decay`, rounded to cents, is below `level`
 * (isBelowInCents), or undefined when it never is. Terms must have
 * positive points. The millisecond is found by bisection, because the
 * sum falls monotonically. With a single retention the search starts
 * from a closed-form guess, so it takes a few evaluations, and with
 * several it doubles a quarter until the sum is below.
 */
export function timeBelowLevel(
  fromMs: number,
  base: number,
  terms: readonly DecayingTerm[],
  level: number,
): number | undefined {
  return timeTermsBelowLevel(
    fromMs,
    base,
    terms.map((term) => term.points),
    terms.map((term) => term.retentionPerQuarter),
    level,
  );
}

/**
 * Returns what timeBelowLevel returns for the first `count` terms, whose
 * points and retentions per quarter are at the same index of `points` and
 * `retentions`. Arrays of numbers, because an evaluation of an MQL calls
 * it with one term per rule, and an object per term made up a large share
 * of its allocations (core benchmark). `count` lets a caller pass buffers
 * that it reuses.
 */
export function timeTermsBelowLevel(
  fromMs: number,
  base: number,
  points: ArrayLike<number>,
  retentions: ArrayLike<number>,
  level: number,
  count = points.length,
): number | undefined {
  // One pass in term order gives the sums that filter and reduce gave,
  // and the sum at `fromMs`. That sum equals valueOfTerms at 0 ms,
  // because every factor there is exactly 1.
  let valueAtStart = base;
  let steady = base;
  let decayingPoints = 0;
  let decayingTerms = 0;
  let retention = 1;
  let oneRate = true;
  for (let index = 0; index < count; index += 1) {
    const termPoints = points[index] as number;
    const termRetention = retentions[index] as number;
    valueAtStart += termPoints;
    if (termRetention >= 1) {
      steady += termPoints;
      continue;
    }
    if (decayingTerms === 0) retention = termRetention;
    else if (termRetention !== retention) oneRate = false;
    decayingTerms += 1;
    decayingPoints += termPoints;
  }
  if (isBelowInCents(valueAtStart, level)) {
    return fromMs;
  }
  // The decaying terms only approach zero, so the sum stays above steady.
  if (decayingTerms === 0 || !isBelowInCents(steady, level)) {
    return undefined;
  }
  // Plain functions over a record, not a closure, because tsx keeps
  // function names: each new closure cost a property definition.
  const sum: DecayingSum = { base, points, retentions, count, level };
  if (!oneRate) {
    return fromMs + bisectElapsed(sum);
  }
  const guess = elapsedToValue(
    centsBoundary(level) - steady,
    decayingPoints,
    retention,
  );
  return fromMs + firstElapsedBelow(sum, guess);
}

/** A sum of decaying terms and the level that its search compares with. */
interface DecayingSum {
  base: number;
  points: ArrayLike<number>;
  retentions: ArrayLike<number>;
  count: number;
  level: number;
}

/** Tells whether the sum, rounded to cents, is below its level. */
function isBelowAfter(sum: DecayingSum, elapsedMs: number): boolean {
  const value = valueOfTerms(
    sum.base,
    sum.points,
    sum.retentions,
    sum.count,
    elapsedMs,
  );
  return isBelowInCents(value, sum.level);
}

/**
 * Returns about the value under which a score rounds below `level` in
 * cents: half a cent under a level given in cents. Only a first guess
 * for the search, because a level with more decimals or a product
 * rounded by floating point moves the true boundary.
 */
function centsBoundary(level: number): number {
  return (Math.round(level * 100) - 0.5) / 100;
}

/**
 * Returns the milliseconds after which `points` decaying at `retention`
 * per quarter are down to `remaining`, rounded up, or a quarter when the
 * logarithm has no finite value.
 */
function elapsedToValue(
  remaining: number,
  points: number,
  retention: number,
): number {
  const elapsed =
    (QUARTER_MS * Math.log(remaining / points)) / Math.log(retention);
  return Number.isFinite(elapsed) && elapsed > 0
    ? Math.ceil(elapsed)
    : QUARTER_MS;
}

/**
 * Returns base + Σ points · decay of the first `count` terms after
 * `elapsedMs`, in term order. A term at the retention of the term before
 * reuses its factor, which is the same number, so a sum at one retention
 * takes one power.
 */
function valueOfTerms(
  base: number,
  points: ArrayLike<number>,
  retentions: ArrayLike<number>,
  count: number,
  elapsedMs: number,
): number {
  let value = base;
  let retention = Number.NaN;
  let factor = 1;
  for (let index = 0; index < count; index += 1) {
    const termRetention = retentions[index] as number;
    if (termRetention !== retention) {
      retention = termRetention;
      factor = decayFactor(retention, elapsedMs);
    }
    value += (points[index] as number) * factor;
  }
  return value;
}

/**
 * Returns the first whole elapsed millisecond at which the sum is below
 * its level, by doubling a quarter until it is and bisecting from 0. It
 * must not be below at 0, and once below, it stays below.
 */
function bisectElapsed(sum: DecayingSum): number {
  let below = QUARTER_MS;
  while (!isBelowAfter(sum, below)) {
    below *= 2;
  }
  return bisectBetween(sum, 0, below);
}

/**
 * Returns the first whole elapsed millisecond at which the sum is below
 * its level. It must not be below at 0, and once below, it stays below. The search
 * brackets that millisecond by doubling steps away from `guess` and then
 * bisects, so a guess n ms off costs about 2 log2(n) evaluations.
 */
function firstElapsedBelow(sum: DecayingSum, guess: number): number {
  let above = 0;
  let below: number;
  if (isBelowAfter(sum, guess)) {
    below = guess;
    for (let step = 1; below - step > 0; step *= 2) {
      if (!isBelowAfter(sum, below - step)) {
        above = below - step;
        break;
      }
      below -= step;
    }
  } else {
    above = guess;
    let step = 1;
    while (!isBelowAfter(sum, above + step)) {
      above += step;
      step *= 2;
    }
    below = above + step;
  }
  return bisectBetween(sum, above, below);
}

/**
 * Returns the first whole millisecond after `falseAt`, up to `trueAt`, at
 * which the sum is below its level. It must not be below at `falseAt`
 * and must be below at `trueAt`.
 */
function bisectBetween(
  sum: DecayingSum,
  falseAt: number,
  trueAt: number,
): number {
  let above = falseAt;
  let below = trueAt;
  while (below - above > 1) {
    const middle = Math.floor((above + below) / 2);
    if (isBelowAfter(sum, middle)) {
      below = middle;
    } else {
      above = middle;
    }
  }
  return below;
}
