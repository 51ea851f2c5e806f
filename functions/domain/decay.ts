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
  const isBelowAfter = (elapsedMs: number) =>
    isBelowInCents(
      valueOfTerms(base, points, retentions, count, elapsedMs),
      level,
    );
  if (isBelowAfter(0)) {
    return fromMs;
  }
  // One pass in term order gives the sums that filter and reduce gave.
  let steady = base;
  let decayingPoints = 0;
  let decayingTerms = 0;
  let retention = 1;
  let oneRate = true;
  for (let index = 0; index < count; index += 1) {
    const termPoints = points[index] as number;
    const termRetention = retentions[index] as number;
    if (termRetention >= 1) {
      steady += termPoints;
      continue;
    }
    if (decayingTerms === 0) retention = termRetention;
    else if (termRetention !== retention) oneRate = false;
    decayingTerms += 1;
    decayingPoints += termPoints;
  }
  // The decaying terms only approach zero, so the sum stays above steady.
  if (decayingTerms === 0 || !isBelowInCents(steady, level)) {
    return undefined;
  }
  if (!oneRate) {
    return fromMs + bisectElapsed(isBelowAfter);
  }
  const guess = elapsedToValue(
    centsBoundary(level) - steady,
    decayingPoints,
    retention,
  );
  return fromMs + firstElapsedBelow(isBelowAfter, guess);
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
 * Returns the first whole elapsed millisecond at which `isBelowAfter`
 * returns true, by doubling a quarter until it does and bisecting from 0.
 * It must be false at 0 and, once true, stay true.
 */
function bisectElapsed(isBelowAfter: (elapsedMs: number) => boolean): number {
  let below = QUARTER_MS;
  while (!isBelowAfter(below)) {
    below *= 2;
  }
  return bisectBetween(isBelowAfter, 0, below);
}

/**
 * Returns the first whole elapsed millisecond at which `isBelowAfter`
 * returns true. It must be false at 0 and, once true, stay true. The search
 * brackets that millisecond by doubling steps away from `guess` and then
 * bisects, so a guess n ms off costs about 2 log2(n) evaluations.
 */
function firstElapsedBelow(
  isBelowAfter: (elapsedMs: number) => boolean,
  guess: number,
): number {
  let above = 0;
  let below: number;
  if (isBelowAfter(guess)) {
    below = guess;
    for (let step = 1; below - step > 0; step *= 2) {
      if (!isBelowAfter(below - step)) {
        above = below - step;
        break;
      }
      below -= step;
    }
  } else {
    above = guess;
    let step = 1;
    while (!isBelowAfter(above + step)) {
      above += step;
      step *= 2;
    }
    below = above + step;
  }
  return bisectBetween(isBelowAfter, above, below);
}

/**
 * Returns the first whole millisecond after `falseAt`, up to `trueAt`, at
 * which `isBelowAfter` returns true. It must be false at `falseAt` and
 * true at `trueAt`.
 */
function bisectBetween(
  isBelowAfter: (elapsedMs: number) => boolean,
  falseAt: number,
  trueAt: number,
): number {
  let above = falseAt;
  let below = trueAt;
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
