import { tallyOf } from './intent-tallies.js';
import { noteLastAt, removeEvent } from './intent-tally.js';
import type { LeadState } from './lead.js';
import {
  removeTally,
  writableClickSeconds,
  writableQuarantined,
  writableTally,
} from './lead-copy.js';
import type { ScoringModel } from './model.js';
import {
  type ClickSecond,
  pruneClickSeconds,
  type QuarantineReason,
  secondOf,
} from './quarantine.js';

/**
 * Email click bursts and the activity times they affect. Clicks of the
 * last day stay open per second: when a second reaches the burst size,
 * the clicks it scored are taken back and quarantined, and until a
 * second leaves the horizon its clicks do not count as final activity.
 */

/** Moves the lead's latest activity time forward to `at`. */
export function noteActivityAt(state: LeadState, at: number): void {
  state.lastActivityAt = Math.max(state.lastActivityAt ?? at, at);
}

/**
 * Counts an email click in its second and returns that second. Seconds
 * that leave the burst horizon or exceed MAX_CLICK_SECONDS are pruned,
 * and the times of their scored clicks become final. Returns undefined
 * when the click's own second was pruned because it is older than every
 * second kept, so that the click is final at once.
 */
export function noteClick(
  state: LeadState,
  at: number,
  model: ScoringModel,
): ClickSecond | undefined {
  const key = secondOf(at);
  const seconds = writableClickSeconds(state);
  // Clicks mostly arrive in time order, so the search starts at the end.
  let position = seconds.length;
  while (position > 0 && (seconds[position - 1] as ClickSecond).second > key) {
    position -= 1;
  }
  let second = seconds[position - 1];
  if (second === undefined || second.second !== key) {
    second = { second: key, clicks: 0, scored: [] };
    // Appending, the common case, costs less than splice.
    if (position === seconds.length) seconds.push(second);
    else seconds.splice(position, 0, second);
  }
  second.clicks += 1;
  const latest = (seconds[seconds.length - 1] as ClickSecond).second;
  const pruned = pruneClickSeconds(seconds, latest * 1000);
  for (const [ruleId, clickAt] of pruned) {
    const tally = writableTally(state, ruleId);
    if (tally !== undefined) noteLastAt(tally, clickAt);
    const points = model.intentRulesById.get(ruleId)?.points ?? 0;
    if (points > 0) noteActivityAt(state, clickAt);
  }
  const oldestKept = seconds[0] as ClickSecond;
  return oldestKept.second <= key ? second : undefined;
}

/**
 * Returns the time of the latest event counted under a rule, including
 * email clicks still open to burst detection.
 */
export function lastMatchedAt(
  state: LeadState,
  ruleId: string,
): number | undefined {
  const latest = tallyOf(state.intent, ruleId)?.lastAt;
  const clickAt = latestClickAt(clickSecondsOf(state), ruleId);
  if (clickAt === undefined) return latest;
  return latest === undefined || clickAt > latest ? clickAt : latest;
}

/**
 * Returns the time of the latest click in `seconds` scored under a rule,
 * or undefined when none was.
 */
export function latestClickAt(
  seconds: readonly ClickSecond[],
  ruleId: string,
): number | undefined {
  let latest: number | undefined;
  for (const { scored } of seconds) {
    // Indexing the pairs avoids the iterator that destructuring runs.
    for (let index = 0; index < scored.length; index += 1) {
      const pair = scored[index] as [string, number];
      const at = pair[1];
      if (pair[0] === ruleId && (latest === undefined || at > latest)) {
        latest = at;
      }
    }
  }
  return latest;
}

/**
 * Returns the time of the lead's latest positive intent event that was
 * not quarantined, including email clicks still open to burst detection.
 */
export function lastActivityOf(
  state: LeadState,
  model: ScoringModel,
): number | undefined {
  let latest = state.lastActivityAt;
  for (const second of clickSecondsOf(state)) {
    for (const [ruleId, at] of second.scored) {
      const points = model.intentRulesById.get(ruleId)?.points ?? 0;
      if (points > 0 && (latest === undefined || at > latest)) latest = at;
    }
  }
  return latest;
}

/** Returns the lead's click seconds, sorted by second. */
export function clickSecondsOf(state: LeadState): readonly ClickSecond[] {
  return state.clickSeconds;
}

/** Tells whether a second has as many clicks as a burst. */
export function isBurst(second: ClickSecond, clicksPerSecond: number): boolean {
  return second.clicks >= clicksPerSecond;
}

/**
 * Takes back the points of the clicks of a second that turned out to be a
 * burst, and records them as quarantined.
 */
export function takeBackBurst(
  state: LeadState,
  second: ClickSecond,
  model: ScoringModel,
): void {
  for (const [ruleId, at] of second.scored) {
    const rule = model.intentRulesById.get(ruleId);
    const tally = writableTally(state, ruleId);
    if (rule !== undefined && tally !== undefined) {
      removeEvent(tally, rule, at);
      if (tally.matched === 0) removeTally(state, ruleId);
    }
    recordQuarantine(state, 'click-burst', at, 1);
  }
  second.scored = [];
}

/** Counts quarantined events of one reason. */
export function recordQuarantine(
  state: LeadState,
  reason: QuarantineReason,
  at: number,
  count: number,
): void {
  const quarantined = writableQuarantined(state);
  const tally = quarantined[reason];
  if (tally === undefined) {
    quarantined[reason] = { count, lastAt: at };
    return;
  }
  tally.count += count;
  tally.lastAt = Math.max(tally.lastAt, at);
}
