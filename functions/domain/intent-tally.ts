import type { IntentRule } from './model.js';
import { QUARTER_MS } from './time.js';

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

/** Returns a tally with no events, whose records `owned` lists. */
export function emptyTally(owned?: OwnedRecords): IntentTally {
  const tally: IntentTally = { matched: 0, counted: 0, sums: {} };
  owned?.add(tally.sums);
  return tally;
}

/**
 * Records and windows that one request created, and so may change in
 * place. A tally copied by shareTally shares its records with the
 * original, and addEvent and removeEvent copy a record not in this set
 * before changing it. Without the set, they change records in place.
 */
export type OwnedRecords = Set<object>;

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
  owned?: OwnedRecords,
): boolean {
  tally.matched += 1;
  if (touchLastAt) noteLastAt(tally, at);
  if (rule.cap === undefined) {
    addWeight(tally, rule, at, 1, owned);
    tally.counted += 1;
    return true;
  }
  const opensRecord = tally.windows === undefined;
  const counted = addCappedEvent(tally, rule, at, owned);
  foldWindows(tally, rule, at, opensRecord, owned);
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
  owned?: OwnedRecords,
): void {
  tally.matched = Math.max(0, tally.matched - 1);
  if (rule.cap === undefined) {
    addWeight(tally, rule, at, -1, owned);
    tally.counted = Math.max(0, tally.counted - 1);
    return;
  }
  removeCappedEvent(tally, rule, at, owned);
}

/**
 * Returns the rule's points at time `at`: positive points decayed from
 * each event's time, negative points as they are, so inactivity never
 * reduces a penalty. `at` must not precede the events. `span`, when
 * given, contains the time of every event of the tally (see yearSpan).
 */
export function tallyPoints(
  tally: IntentTally,
  rule: IntentRule,
  at: number,
  span?: YearSpan,
): number {
  if (rule.points <= 0) {
    return rule.points * tally.counted;
  }
  return rule.points * decayedWeight(tally, rule.retentionPerQuarter, at, span);
}

/** Years of the decay sums, as indices of YEAR_MS periods since 1970. */
export interface YearSpan {
  first: number;
  last: number;
}

/**
 * Years from which a span is not used, because reading each of its years
 * would cost more than listing a record's keys.
 */
const MAX_SPAN_YEARS = 64;

/**
 * Returns the years between two times, which a lead's first and last
 * event times bound for all of its tallies. Listing the keys of a record
 * keyed by array indices is slow in V8, and reading a few known years is
 * not. Undefined when the span is too long to be worth it.
 */
export function yearSpan(from: number, to: number): YearSpan | undefined {
  const first = Math.floor(from / YEAR_MS);
  const last = Math.floor(to / YEAR_MS);
  if (!(last >= first && last - first <= MAX_SPAN_YEARS)) return undefined;
  return { first, last };
}

/** Returns Σ weight of the counted events at time `at`. */
function decayedWeight(
  tally: IntentTally,
  retention: number,
  at: number,
  span: YearSpan | undefined,
): number {
  const { sums } = tally;
  let total = 0;
  if (span === undefined) {
    for (const year of yearsOf(sums)) {
      total += yearWeight(sums[year] ?? 0, retention, year, at);
    }
    return total;
  }
  // Same years in the same order as yearsOf, because every year with a
  // sum lies in the span: skipping the others adds nothing.
  for (let year = span.first; year <= span.last; year += 1) {
    const units = sums[year];
    if (units !== undefined) {
      total += yearWeight(units, retention, year, at);
    }
  }
  return total;
}

function yearWeight(
  units: number,
  retention: number,
  year: number,
  at: number,
): number {
  const factor = retention >= 1 ? 1 : yearEndFactor(retention, year, at);
  return (units / WEIGHT_UNITS) * factor;
}

/**
 * The last decay factor computed, because scoring a lead decays every
 * rule's sums from the same year end to the same time, and most rules
 * share the model's retention.
 */
const lastFactor = { retention: Number.NaN, year: 0, at: 0, factor: 1 };

/** Returns retention^((at − end of `year`) / quarter). */
function yearEndFactor(retention: number, year: number, at: number): number {
  const last = lastFactor;
  if (last.retention === retention && last.year === year && last.at === at) {
    return last.factor;
  }
  const yearEnd = (year + 1) * YEAR_MS;
  const factor = retention ** ((at - yearEnd) / QUARTER_MS);
  last.retention = retention;
  last.year = year;
  last.at = at;
  last.factor = factor;
  return factor;
}

/** Returns the years of a sums record, ascending. */
function yearsOf(sums: Record<string, number>): number[] {
  return Object.keys(sums)
    .map(Number)
    .sort((a, b) => a - b);
}

function addWeight(
  tally: IntentTally,
  rule: IntentRule,
  at: number,
  sign: 1 | -1,
  owned: OwnedRecords | undefined,
): void {
  const year = Math.floor(at / YEAR_MS);
  const units = weightUnits(
    rule.retentionPerQuarter,
    (year + 1) * YEAR_MS - at,
  );
  const sums = writableSums(tally, owned);
  const sum = (sums[year] ?? 0) + sign * units;
  if (sum === 0) {
    delete sums[year];
  } else {
    sums[year] = sum;
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
  owned: OwnedRecords | undefined,
): boolean {
  const max = rule.cap?.max ?? 1;
  const kept = max + (rule.cap?.reserve ?? 0);
  const index = windowIndexOf(rule, at);
  // NOTE: an event older than the folding horizon arrives after its window
  // was folded, so it cannot displace the window's counted events.
  if (tally.foldedBefore !== undefined && index < tally.foldedBefore) {
    return false;
  }

  const window = writableWindow(tally, index, owned);
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

  addWeight(tally, rule, at, 1, owned);
  tally.counted += 1;
  if (displaced !== undefined) {
    addWeight(tally, rule, displaced, -1, owned);
    tally.counted -= 1;
  }
  return true;
}

function removeCappedEvent(
  tally: IntentTally,
  rule: IntentRule,
  at: number,
  owned: OwnedRecords | undefined,
): void {
  const max = rule.cap?.max ?? 1;
  const index = windowIndexOf(rule, at);
  if (tally.windows?.[index] === undefined) {
    return;
  }
  const window = writableWindow(tally, index, owned);
  window.total -= 1;
  const position = window.times.lastIndexOf(at);
  if (position !== -1) {
    window.times.splice(position, 1);
    if (position < max) {
      addWeight(tally, rule, at, -1, owned);
      tally.counted -= 1;
      const promoted = window.times[max - 1];
      if (promoted !== undefined) {
        addWeight(tally, rule, promoted, 1, owned);
        tally.counted += 1;
      }
    }
  }
  if (window.total <= 0) {
    delete writableWindows(tally, owned)[index];
  }
}

/**
 * Drops the times of cap windows that ended more than CAP_HORIZON_MS
 * before the rule's latest event, so a lead's state stays bounded. Their
 * counted weight stays in the year sums. `opensRecord` is true when the
 * event at `at` opened the tally's window record, which then has no
 * other window.
 */
function foldWindows(
  tally: IntentTally,
  rule: IntentRule,
  at: number,
  opensRecord: boolean,
  owned: OwnedRecords | undefined,
): void {
  if (rule.cap?.windowMs === undefined || tally.windows === undefined) {
    return;
  }
  const latest = Math.max(tally.lastAt ?? at, at);
  const foldBefore = windowIndexOf(rule, latest - CAP_HORIZON_MS);
  const foldedBefore = tally.foldedBefore;
  if (foldedBefore !== undefined && foldBefore <= foldedBefore) {
    return;
  }
  if (opensRecord) {
    const index = windowIndexOf(rule, at);
    if (index < foldBefore && tally.windows[index] !== undefined) {
      delete writableWindows(tally, owned)[index];
    }
  } else if (
    foldedBefore !== undefined &&
    foldBefore - foldedBefore <= MAX_FOLD_STEPS
  ) {
    // No window precedes foldedBefore (addCappedEvent opens none there),
    // so only the indices from there on can go, which is faster than
    // listing the keys of a record keyed by array indices.
    for (let index = foldedBefore; index < foldBefore; index += 1) {
      if (tally.windows[index] !== undefined) {
        delete writableWindows(tally, owned)[index];
      }
    }
  } else {
    for (const key of Object.keys(tally.windows)) {
      if (Number(key) < foldBefore) {
        delete writableWindows(tally, owned)[key];
      }
    }
  }
  tally.foldedBefore = foldBefore;
}

/** Window indices that foldWindows checks one by one at most. */
const MAX_FOLD_STEPS = 16;

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

function writableSums(
  tally: IntentTally,
  owned: OwnedRecords | undefined,
): Record<string, number> {
  const sums = tally.sums;
  if (owned === undefined || owned.has(sums)) return sums;
  const copy = { ...sums };
  owned.add(copy);
  tally.sums = copy;
  return copy;
}

/**
 * Returns the tally's window record, copied first if it is shared.
 * NOTE: window indices count windows since 1970 (about 680 for 30-day
 * windows in 2026). V8 keeps such a record as a sparse array of about 1.5
 * times the largest index, so this copy is the largest cost of a capped
 * event that a request applies to a stored tally.
 */
function writableWindows(
  tally: IntentTally,
  owned: OwnedRecords | undefined,
): Record<string, CapWindow> {
  const windows = tally.windows;
  if (windows !== undefined && (owned === undefined || owned.has(windows))) {
    return windows;
  }
  const copy: Record<string, CapWindow> = { ...windows };
  owned?.add(copy);
  tally.windows = copy;
  return copy;
}

/** Returns the window at `index`, opened or copied to be changed. */
function writableWindow(
  tally: IntentTally,
  index: number,
  owned: OwnedRecords | undefined,
): CapWindow {
  const windows = writableWindows(tally, owned);
  const window = windows[index];
  if (window !== undefined && (owned === undefined || owned.has(window))) {
    return window;
  }
  const copy: CapWindow =
    window === undefined
      ? { times: [], total: 0 }
      : { times: window.times.slice(), total: window.total };
  owned?.add(copy);
  windows[index] = copy;
  return copy;
}

/**
 * Returns a copy of a tally that shares its sums and cap windows with the
 * original until it changes them, so copying costs the same however many
 * windows the tally has. Only this module's functions may change it.
 */
export function shareTally(tally: IntentTally): IntentTally {
  const copy: IntentTally = {
    matched: tally.matched,
    counted: tally.counted,
    sums: tally.sums,
  };
  if (tally.lastAt !== undefined) copy.lastAt = tally.lastAt;
  if (tally.windows !== undefined) copy.windows = tally.windows;
  if (tally.foldedBefore !== undefined) {
    copy.foldedBefore = tally.foldedBefore;
  }
  return copy;
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
    const windows: Record<string, CapWindow> = {};
    for (const [key, window] of Object.entries(tally.windows)) {
      windows[key] = { times: [...window.times], total: window.total };
    }
    copy.windows = windows;
  }
  if (tally.foldedBefore !== undefined) {
    copy.foldedBefore = tally.foldedBefore;
  }
  return copy;
}
