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
  return timeTermsBelowLevel(
    fromMs,
    base,
    terms.map((term) => term.points),
    terms.map((term) => term.retentionPerQuarter),
    level,
  );
}

/**
 * Returns what timeBelowLevel returns for the terms whose points and
 * retentions per quarter are at the same index of `points` and
 * `retentions`. Two arrays of numbers, because an evaluation of an MQL
 * calls it with one term per rule, and an object per term made up a
 * large share of its allocations (core benchmark).
 */
export function timeTermsBelowLevel(
  fromMs: number,
  base: number,
  points: readonly number[],
  retentions: readonly number[],
  level: number,
): number | undefined {
  if (valueOfTerms(base, points, retentions, 0) < level) {
    return fromMs;
  }
  // One pass in term order gives the sums that filter and reduce gave.
  let steady = base;
  let decayingPoints = 0;
  let decayingTerms = 0;
  let retention = 1;
  let oneRate = true;
  for (let index = 0; index < points.length; index += 1) {
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
    valueOfTerms(base, points, retentions, elapsedMs);
  return fromMs + bisectElapsed(valueAfter, level);
}

/** Returns base + Σ points · decay after `elapsedMs`, in term order. */
function valueOfTerms(
  base: number,
  points: readonly number[],
  retentions: readonly number[],
  elapsedMs: number,
): number {
  let value = base;
  for (let index = 0; index < points.length; index += 1) {
    const factor = decayFactor(retentions[index] as number, elapsedMs);
    value += (points[index] as number) * factor;
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
