import type { IntentRule } from '../../../functions/domain/model.js';
import { QUARTER_MS } from '../../../functions/domain/time.js';

/**
 * Counted events of one intent rule, kept so that the rule's contribution
 * is a function of the set of its events, whatever order and batches they
 * arrive in.
 *
 * Decay: each counted event adds retention^((yearEnd − t) / quarter), its
 * weight at the end of its calendar-free year (Unix epoch, 365.25 days),
 * to that year's sum. The weight is at most 1 and is rounded to a
 * multiple of 2^-36 (WEIGHT_UNITS), so every sum is an integer number of
 * units below 2^53 and adding or removing events in any order gives the
 * same bits.
 * The value at time T is Σ points · sum_y · retention^((T − yearEnd_y) /
 * quarter), summed in year order.
 *
 * Caps: the counted events of a window are its earliest `max` events.
 * Each window keeps its earliest `max` times, so a late earlier event can
 * displace a later one exactly. Rules that can match an email click keep
 * CAP_RESERVE more, so an event removed as part of a click burst can be
 * replaced by the next one.
 */
export interface IntentTally {
  /** Events that matched the rule and were not quarantined. */
  matched: number;
  /** Matched events counted after caps. */
  counted: number;
  /**
   * Time of the latest matched event, leaving out email clicks that a
   * burst can still take back (see lastMatchedAt in lead.ts).
   */
  lastAt?: number;
  /** Decayed weight in WEIGHT_UNITS per year index. */
  sums: Record<string, number>;
  /** Cap windows by window index, for capped rules only. */
  windows?: Record<string, CapWindow>;
  /** Window index below which cap windows were folded (see foldWindows). */
  foldedBefore?: number;
}

/** Events of one cap window. */
export interface CapWindow {
  /** Earliest event times, ascending, at most `max` plus the reserve. */
  times: number[];
  /** Events in the window, including those beyond `times`. */
  total: number;
}

/**
 * Units of decayed weight per point. A weight is at most 1, so a year's
 * sum stays an exact integer up to 2^17 counted events of one rule, and
 * each event is off by at most 2^-37 of a point before decay.
 */
export const WEIGHT_UNITS = 2 ** 36;

/** Length of a decay-sum year: four quarters of 91.3125 days. */
export const YEAR_MS = 4 * QUARTER_MS;

/**
 * Times a cap window keeps beyond its `max` when its rule can match an
 * email click, whose events a burst can take back.
 */
export const CAP_RESERVE = 16;

/**
 * Age, relative to the rule's latest event, after which cap windows are
 * folded: their times are dropped and their counted weight stays in the
 * year sums. Two years of decay at the default retention leave 10 %.
 */
export const CAP_HORIZON_MS = 2 * YEAR_MS;

/** Returns a tally with no events. */
export function emptyTally(): IntentTally {
  return { matched: 0, counted: 0, sums: {} };
}

/**
 * Adds one matched event at time `at` and returns whether it counts now.
 * An event of a capped rule may later be displaced by an earlier one.
 * `touchLastAt` is false for events that may still be taken back.
 */
export function addEvent(
  tally: IntentTally,
  rule: IntentRule,
  at: number,
  touchLastAt: boolean,
): boolean {
  tally.matched += 1;
  if (touchLastAt) noteLastAt(tally, at);
  if (rule.cap === undefined) {
    addWeight(tally, rule, at, 1);
    tally.counted += 1;
    return true;
  }
  const counted = addCappedEvent(tally, rule, at);
  foldWindows(tally, rule, at);
  return counted;
}

/** Moves the tally's latest event time forward to `at`. */
export function noteLastAt(tally: IntentTally, at: number): void {
  tally.lastAt = tally.lastAt === undefined ? at : Math.max(tally.lastAt, at);
}

/**
 * Removes one matched event at time `at` that an earlier call added, as
 * when a click burst turns out to be a scanner. Under a cap, the next
 * event of the window takes its place.
 */
export function removeEvent(
  tally: IntentTally,
  rule: IntentRule,
  at: number,
): void {
  tally.matched = Math.max(0, tally.matched - 1);
  if (rule.cap === undefined) {
    addWeight(tally, rule, at, -1);
    tally.counted = Math.max(0, tally.counted - 1);
    return;
  }
  removeCappedEvent(tally, rule, at);
}

/**
 * Returns the rule's points at time `at`: positive points decayed from
 * each event's time, negative points as they are, so inactivity never
 * reduces a penalty. `at` must not precede the events.
 */
export function tallyPoints(
  tally: IntentTally,
  rule: IntentRule,
  at: number,
): number {
  if (rule.points <= 0) {
    return rule.points * tally.counted;
  }
  return rule.points * decayedWeight(tally, rule.retentionPerQuarter, at);
}

/** Returns Σ weight of the counted events at time `at`. */
function decayedWeight(
  tally: IntentTally,
  retention: number,
  at: number,
): number {
  let total = 0;
  for (const year of sortedYears(tally.sums)) {
    const units = tally.sums[year] ?? 0;
    const yearEnd = (Number(year) + 1) * YEAR_MS;
    const factor =
      retention >= 1 ? 1 : retention ** ((at - yearEnd) / QUARTER_MS);
    total += (units / WEIGHT_UNITS) * factor;
  }
  return total;
}

/**
 * Returns the year keys in ascending order. Keys of years from 1970 on are
 * array indices, which JavaScript already lists in ascending order, so
 * only negative years need a sort.
 */
function sortedYears(sums: Record<string, number>): string[] {
  const years = Object.keys(sums);
  for (const year of years) {
    if (year.startsWith('-')) {
      return years.sort((a, b) => Number(a) - Number(b));
    }
  }
  return years;
}

function addWeight(
  tally: IntentTally,
  rule: IntentRule,
  at: number,
  sign: 1 | -1,
): void {
  const year = Math.floor(at / YEAR_MS);
  const units = weightUnits(
    rule.retentionPerQuarter,
    (year + 1) * YEAR_MS - at,
  );
  const key = String(year);
  const sum = (tally.sums[key] ?? 0) + sign * units;
  if (sum === 0) {
    delete tally.sums[key];
  } else {
    tally.sums[key] = sum;
  }
}

function weightUnits(retention: number, untilYearEndMs: number): number {
  const factor =
    retention >= 1 ? 1 : retention ** (untilYearEndMs / QUARTER_MS);
  return Math.round(factor * WEIGHT_UNITS);
}

function windowIndexOf(rule: IntentRule, at: number): number {
  const windowMs = rule.cap?.windowMs;
  return windowMs === undefined ? 0 : Math.floor(at / windowMs);
}

function addCappedEvent(
  tally: IntentTally,
  rule: IntentRule,
  at: number,
): boolean {
  const max = rule.cap?.max ?? 1;
  const kept = max + (rule.cap?.reserve ?? 0);
  const index = windowIndexOf(rule, at);
  // NOTE: an event older than the folding horizon arrives after its window
  // was folded, so it cannot displace the window's counted events.
  if (tally.foldedBefore !== undefined && index < tally.foldedBefore) {
    return false;
  }

  tally.windows ??= {};
  const window = tally.windows[index] ?? { times: [], total: 0 };
  tally.windows[index] = window;
  window.total += 1;
  const position = upperBound(window.times, at);
  if (position >= kept) {
    return false;
  }
  window.times.splice(position, 0, at);
  const displaced = position < max ? window.times[max] : undefined;
  if (window.times.length > kept) {
    window.times.pop();
  }
  if (position >= max) {
    return false;
  }

  addWeight(tally, rule, at, 1);
  tally.counted += 1;
  if (displaced !== undefined) {
    addWeight(tally, rule, displaced, -1);
    tally.counted -= 1;
  }
  return true;
}

function removeCappedEvent(
  tally: IntentTally,
  rule: IntentRule,
  at: number,
): void {
  const max = rule.cap?.max ?? 1;
  const key = String(windowIndexOf(rule, at));
  const window = tally.windows?.[key];
  if (window === undefined) {
    return;
  }
  window.total -= 1;
  const position = window.times.lastIndexOf(at);
  if (position !== -1) {
    window.times.splice(position, 1);
    if (position < max) {
      addWeight(tally, rule, at, -1);
      tally.counted -= 1;
      const promoted = window.times[max - 1];
      if (promoted !== undefined) {
        addWeight(tally, rule, promoted, 1);
        tally.counted += 1;
      }
    }
  }
  if (window.total <= 0 && tally.windows !== undefined) {
    delete tally.windows[key];
  }
}

/**
 * Drops the times of cap windows that ended more than CAP_HORIZON_MS
 * before the rule's latest event, so a lead's state stays bounded. Their
 * counted weight stays in the year sums.
 */
function foldWindows(tally: IntentTally, rule: IntentRule, at: number): void {
  if (rule.cap?.windowMs === undefined || tally.windows === undefined) {
    return;
  }
  const latest = Math.max(tally.lastAt ?? at, at);
  const foldBefore = windowIndexOf(rule, latest - CAP_HORIZON_MS);
  if (tally.foldedBefore !== undefined && foldBefore <= tally.foldedBefore) {
    return;
  }
  for (const key of Object.keys(tally.windows)) {
    if (Number(key) < foldBefore) delete tally.windows[key];
  }
  tally.foldedBefore = foldBefore;
}

/** Returns the index after the last element ≤ value in a sorted array. */
function upperBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as number) <= value) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

/** Returns a deep copy of a tally. */
export function cloneTally(tally: IntentTally): IntentTally {
  const copy: IntentTally = {
    matched: tally.matched,
    counted: tally.counted,
    sums: { ...tally.sums },
  };
  if (tally.lastAt !== undefined) copy.lastAt = tally.lastAt;
  if (tally.windows !== undefined) {
    copy.windows = {};
    for (const [key, window] of Object.entries(tally.windows)) {
      copy.windows[key] = { times: [...window.times], total: window.total };
    }
  }
  if (tally.foldedBefore !== undefined) {
    copy.foldedBefore = tally.foldedBefore;
  }
  return copy;
}
