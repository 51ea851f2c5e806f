import type { IntentCap, IntentRule } from './model.js';
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
 *
 * Sums are a flat array of numbers and windows a sorted array of windows
 * that are never changed, so a copy of a tally copies two short arrays.
 * Stored items keep them as records keyed by index (see StoredIntentTally).
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
  /**
   * Decayed weight in WEIGHT_UNITS per year, as pairs of a year (the index
   * of its YEAR_MS period since 1970) and its units, one pair after the
   * other, ascending by year, with no zero units.
   */
  sums: number[];
  /** Cap windows ascending by index, for capped rules only. */
  windows?: CapWindow[];
  /** Window index below which cap windows were folded (see foldWindows). */
  foldedBefore?: number;
}

/** Events of one cap window. Never changed: a new window replaces it. */
export interface CapWindow {
  /** Index of the window: windows of the rule's length since 1970. */
  readonly index: number;
  /** Earliest event times, ascending, at most `max` plus the reserve. */
  readonly times: readonly number[];
  /** Events in the window, including those beyond `times`. */
  readonly total: number;
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
  return tallyOfFields(0, 0, undefined, [], undefined, undefined);
}

/**
 * Returns a tally with every field, absent ones as undefined, so that all
 * tallies share one hidden class and V8 reads their fields at fixed
 * offsets (core benchmark, Node 20).
 */
function tallyOfFields(
  matched: number,
  counted: number,
  lastAt: number | undefined,
  sums: number[],
  windows: CapWindow[] | undefined,
  foldedBefore: number | undefined,
): IntentTally {
  return { matched, counted, lastAt, sums, windows, foldedBefore };
}

/**
 * Returns a copy of a tally that the caller may change with addEvent and
 * removeEvent. It shares the cap windows, which are never changed, so
 * copying costs two short array copies.
 */
export function copyTally(tally: IntentTally): IntentTally {
  return tallyOfFields(
    tally.matched,
    tally.counted,
    tally.lastAt,
    tally.sums.slice(),
    tally.windows?.slice(),
    tally.foldedBefore,
  );
}

/**
 * Adds one matched event at time `at` and returns whether it counts now.
 * An event of a capped rule may later be displaced by an earlier one.
 * `touchLastAt` is false for events that may still be taken back. The
 * tally changes in place (see copyTally).
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
  const counted = addCappedEvent(tally, rule, rule.cap, at);
  foldWindows(tally, rule.cap, at);
  return counted;
}

/** Moves the tally's latest event time forward to `at`. */
export function noteLastAt(tally: IntentTally, at: number): void {
  tally.lastAt = tally.lastAt === undefined ? at : Math.max(tally.lastAt, at);
}

/**
 * Removes one matched event at time `at` that an earlier call added, as
 * when a click burst turns out to be a scanner. Under a cap, the next
 * event of the window takes its place. The tally changes in place.
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
  removeCappedEvent(tally, rule, rule.cap, at);
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
  return rule.points * decayedWeight(tally.sums, rule.retentionPerQuarter, at);
}

/** Returns Σ weight of the counted events at time `at`, in year order. */
function decayedWeight(
  sums: readonly number[],
  retention: number,
  at: number,
): number {
  let total = 0;
  for (let index = 0; index < sums.length; index += 2) {
    const year = sums[index] as number;
    const units = sums[index + 1] as number;
    const factor = retention >= 1 ? 1 : yearEndFactor(retention, year, at);
    total += (units / WEIGHT_UNITS) * factor;
  }
  return total;
}

/**
 * Recently computed decay factors, one slot per year modulo the slot count,
 * because scoring a lead decays the sums of every rule from the same few
 * year ends to the same time, and most rules share the model's retention.
 */
const factorSlots = Array.from({ length: 4 }, () => ({
  retention: Number.NaN,
  year: 0,
  at: 0,
  factor: 1,
}));

/** Returns retention^((at − end of `year`) / quarter). */
function yearEndFactor(retention: number, year: number, at: number): number {
  const slot = factorSlots[year & 3] as (typeof factorSlots)[number];
  if (slot.retention === retention && slot.year === year && slot.at === at) {
    return slot.factor;
  }
  const yearEnd = (year + 1) * YEAR_MS;
  const factor = retention ** ((at - yearEnd) / QUARTER_MS);
  slot.retention = retention;
  slot.year = year;
  slot.at = at;
  slot.factor = factor;
  return factor;
}

function addWeight(
  tally: IntentTally,
  rule: IntentRule,
  at: number,
  sign: 1 | -1,
): void {
  const year = Math.floor(at / YEAR_MS);
  const units = weightUnits(rule, (year + 1) * YEAR_MS - at);
  const { sums } = tally;
  // Events mostly arrive in time order, so the search starts at the end.
  let position = sums.length;
  while (position > 0 && (sums[position - 2] as number) > year) {
    position -= 2;
  }
  if (position === 0 || sums[position - 2] !== year) {
    if (position === sums.length) {
      sums.push(year, sign * units);
    } else {
      sums.splice(position, 0, year, sign * units);
    }
    return;
  }
  const sum = (sums[position - 1] as number) + sign * units;
  if (sum === 0) {
    sums.splice(position - 2, 2);
  } else {
    sums[position - 1] = sum;
  }
}

/**
 * Returns round(retention ^ (untilYearEndMs / quarter) · WEIGHT_UNITS),
 * the same integer that Math.pow gives. Math.exp of the rule's constant
 * costs less than half as much as pow (about 40 against 100 ns in Node
 * 20 on the benchmark machine). With log, exp and pow each off by about
 * an ulp, as in V8's fdlibm-derived versions, both results are within
 * 1e-4 units of the exact power. Their roundings therefore agree unless
 * exp lands within 0.001 units of a half, where pow decides.
 */
export function weightUnits(
  rule: Pick<IntentRule, 'retentionPerQuarter' | 'logRetentionPerMs'>,
  untilYearEndMs: number,
): number {
  const retention = rule.retentionPerQuarter;
  if (retention >= 1) return WEIGHT_UNITS;
  const scaled =
    Math.exp(untilYearEndMs * rule.logRetentionPerMs) * WEIGHT_UNITS;
  const units = Math.round(scaled);
  if (Math.abs(scaled - units) < 0.499) return units;
  return Math.round(retention ** (untilYearEndMs / QUARTER_MS) * WEIGHT_UNITS);
}

function windowIndexOf(cap: IntentCap, at: number): number {
  const { windowMs } = cap;
  return windowMs === undefined ? 0 : Math.floor(at / windowMs);
}

/**
 * Returns the position of the window `index` in a tally's sorted windows,
 * or where it would be inserted when it is absent.
 */
function windowPosition(windows: readonly CapWindow[], index: number): number {
  // Events mostly arrive in time order, so the search starts at the end.
  let position = windows.length;
  while (position > 0 && (windows[position - 1] as CapWindow).index >= index) {
    position -= 1;
  }
  return position;
}

function addCappedEvent(
  tally: IntentTally,
  rule: IntentRule,
  cap: IntentCap,
  at: number,
): boolean {
  const { max } = cap;
  const kept = max + cap.reserve;
  const index = windowIndexOf(cap, at);
  // NOTE: an event older than the folding horizon arrives after its window
  // was folded, so it cannot displace the window's counted events.
  if (tally.foldedBefore !== undefined && index < tally.foldedBefore) {
    return false;
  }

  tally.windows ??= [];
  const { windows } = tally;
  const position = windowPosition(windows, index);
  let window = windows[position];
  if (window === undefined || window.index !== index) {
    window = EMPTY_WINDOW;
    insertAt(windows, position, window);
  }
  const timePosition = upperBound(window.times, at);
  if (timePosition >= kept) {
    windows[position] = { index, times: window.times, total: window.total + 1 };
    return false;
  }
  const times = withTime(window.times, timePosition, at, kept);
  // The event that `at` pushes from the counted times to the first
  // uncounted one.
  const displaced = timePosition < max ? window.times[max - 1] : undefined;
  windows[position] = { index, times, total: window.total + 1 };
  if (timePosition >= max) {
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
  cap: IntentCap,
  at: number,
): void {
  const { windows } = tally;
  if (windows === undefined) return;
  const index = windowIndexOf(cap, at);
  const position = windowPosition(windows, index);
  const window = windows[position];
  if (window === undefined || window.index !== index) {
    return;
  }
  const total = window.total - 1;
  let { times } = window;
  const timePosition = times.lastIndexOf(at);
  if (timePosition !== -1) {
    const rest = times.slice();
    rest.splice(timePosition, 1);
    times = rest;
    if (timePosition < cap.max) {
      addWeight(tally, rule, at, -1);
      tally.counted -= 1;
      const promoted = rest[cap.max - 1];
      if (promoted !== undefined) {
        addWeight(tally, rule, promoted, 1);
        tally.counted += 1;
      }
    }
  }
  if (total <= 0) {
    windows.splice(position, 1);
  } else {
    windows[position] = { index, times, total };
  }
}

/**
 * Drops the times of cap windows that ended CAP_HORIZON_MS or more
 * before the rule's latest event, so a lead's state stays bounded. Their
 * counted weight stays in the year sums.
 */
function foldWindows(tally: IntentTally, cap: IntentCap, at: number): void {
  const { windows } = tally;
  if (cap.windowMs === undefined || windows === undefined) {
    return;
  }
  const latest = Math.max(tally.lastAt ?? at, at);
  const foldBefore = windowIndexOf(cap, latest - CAP_HORIZON_MS);
  if (tally.foldedBefore !== undefined && foldBefore <= tally.foldedBefore) {
    return;
  }
  let folded = 0;
  while (folded < windows.length) {
    if ((windows[folded] as CapWindow).index >= foldBefore) break;
    folded += 1;
  }
  if (folded > 0) windows.splice(0, folded);
  tally.foldedBefore = foldBefore;
}

/** The empty window that a new window starts from. It is never stored. */
const EMPTY_WINDOW: CapWindow = { index: Number.NaN, times: [], total: 0 };

/**
 * Inserts `item` at `position`. Appending, the common case for events in
 * time order, costs less than splice.
 */
function insertAt<T>(items: T[], position: number, item: T): void {
  if (position === items.length) {
    items.push(item);
  } else {
    items.splice(position, 0, item);
  }
}

/**
 * Returns a copy of sorted times with `at` inserted at `position`, cut to
 * `limit` times. It fills an array of the final length, because pushing
 * each time grew the array in V8's GrowFastDoubleElements (core
 * benchmark, Node 20).
 */
function withTime(
  times: readonly number[],
  position: number,
  at: number,
  limit: number,
): number[] {
  const length = Math.min(times.length + 1, limit);
  const result = new Array<number>(length);
  for (let index = 0; index < position; index += 1) {
    result[index] = times[index] as number;
  }
  result[position] = at;
  for (let index = position + 1; index < length; index += 1) {
    result[index] = times[index - 1] as number;
  }
  return result;
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

/**
 * A tally as stored in lead items: year sums and cap windows as records
 * keyed by their index in decimal. Leads stored by every version of the
 * engine use this form.
 */
export interface StoredIntentTally {
  matched: number;
  counted: number;
  lastAt?: number;
  sums: Record<string, number>;
  windows?: Record<string, { times: number[]; total: number }>;
  foldedBefore?: number;
}

/** Converts a tally to its stored form. */
export function toStoredTally(tally: IntentTally): StoredIntentTally {
  const sums: Record<string, number> = {};
  for (let index = 0; index < tally.sums.length; index += 2) {
    sums[tally.sums[index] as number] = tally.sums[index + 1] as number;
  }
  const stored: StoredIntentTally = {
    matched: tally.matched,
    counted: tally.counted,
    sums,
  };
  if (tally.lastAt !== undefined) stored.lastAt = tally.lastAt;
  if (tally.windows !== undefined) {
    const windows: NonNullable<StoredIntentTally['windows']> = {};
    for (const window of tally.windows) {
      windows[window.index] = {
        times: window.times.slice(),
        total: window.total,
      };
    }
    stored.windows = windows;
  }
  if (tally.foldedBefore !== undefined) {
    stored.foldedBefore = tally.foldedBefore;
  }
  return stored;
}

/**
 * Converts a stored tally to the form that scoring uses. Keys that are
 * not integers are rejected, because no version of the engine writes them.
 */
export function fromStoredTally(stored: StoredIntentTally): IntentTally {
  const sums: number[] = [];
  for (const key of sortedIndices(stored.sums)) {
    const units = stored.sums[key] as number;
    if (units !== 0) sums.push(Number(key), units);
  }
  const tally = tallyOfFields(
    stored.matched,
    stored.counted,
    stored.lastAt,
    sums,
    undefined,
    stored.foldedBefore,
  );
  if (stored.windows !== undefined) {
    const windows: CapWindow[] = [];
    for (const key of sortedIndices(stored.windows)) {
      const window = stored.windows[key] as { times: number[]; total: number };
      windows.push({
        index: Number(key),
        times: window.times.slice(),
        total: window.total,
      });
    }
    tally.windows = windows;
  }
  return tally;
}

/** Returns the keys of a record keyed by integers, in numeric order. */
function sortedIndices(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  for (const key of keys) {
    if (!Number.isSafeInteger(Number(key)) || String(Number(key)) !== key) {
      throw new Error(
        `A stored intent tally has the key "${key}", which is not an ` +
          'integer index. Store sums and windows by year and window index.',
      );
    }
  }
  return keys.sort((a, b) => Number(a) - Number(b));
}
