import type { ScoringModel } from '../../../functions/domain/model.js';
import { noteLastAt, removeEvent } from './intent-tally.js';
import type { LeadState } from './lead.js';
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
 * that leave the burst horizon are pruned, and the times of their scored
 * clicks become final.
 */
export function noteClick(
  state: LeadState,
  at: number,
  model: ScoringModel,
): ClickSecond | undefined {
  const key = secondOf(at);
  const second = state.clickSeconds[key] ?? { clicks: 0, scored: [] };
  state.clickSeconds[key] = second;
  second.clicks += 1;
  const latest = Math.max(...Object.keys(state.clickSeconds).map(Number));
  const pruned = pruneClickSeconds(state.clickSeconds, latest * 1000);
  for (const [ruleId, clickAt] of pruned) {
    const tally = state.intent[ruleId];
    if (tally !== undefined) noteLastAt(tally, clickAt);
    const points = model.intentRulesById.get(ruleId)?.points ?? 0;
    if (points > 0) noteActivityAt(state, clickAt);
  }
  return state.clickSeconds[key] === second ? second : undefined;
}

/**
 * Returns the time of the latest event counted under a rule, including
 * email clicks still open to burst detection.
 */
export function lastMatchedAt(
  state: LeadState,
  ruleId: string,
): number | undefined {
  let latest = state.intent[ruleId]?.lastAt;
  for (const key in state.clickSeconds) {
    for (const [scoredRule, at] of (state.clickSeconds[key] as ClickSecond)
      .scored) {
      if (scoredRule === ruleId && (latest === undefined || at > latest)) {
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
  for (const key in state.clickSeconds) {
    for (const [ruleId, at] of (state.clickSeconds[key] as ClickSecond)
      .scored) {
      const points = model.intentRulesById.get(ruleId)?.points ?? 0;
      if (points > 0 && (latest === undefined || at > latest)) latest = at;
    }
  }
  return latest;
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
    const tally = state.intent[ruleId];
    if (rule !== undefined && tally !== undefined) {
      removeEvent(tally, rule, at);
      if (tally.matched === 0) delete state.intent[ruleId];
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
  const tally = state.quarantined[reason];
  if (tally === undefined) {
    state.quarantined[reason] = { count, lastAt: at };
    return;
  }
  tally.count += count;
  tally.lastAt = Math.max(tally.lastAt, at);
}
