import { decayFactor } from './decay.js';
import { matchIntentRule } from './intent.js';
import type { TrackingEvent, TraitValue } from './messages.js';
import type { ScoringModel } from './model.js';

export type LeadStatus = 'engaged' | 'mql' | 'recycled';

/** Counted events of one intent rule. */
export interface IntentTally {
  /**
   * Points at `intentAsOf`: positive points decayed to that time, negative
   * points as they were, so inactivity never reduces a penalty.
   */
  points: number;
  /** Sum of the counted events' points before decay. */
  rawPoints: number;
  count: number;
  lastAt: number;
}

/** A trait value and the event time that set it. */
export interface TraitEntry {
  value: TraitValue;
  at: number;
}

/**
 * Everything stored about a lead. Intent is kept as tallies decayed to a
 * single time (`intentAsOf`), which is exact for any later time because
 * decay is exponential.
 */
export interface LeadState {
  leadId: string;
  /** Optimistic-concurrency version; 0 for a lead not stored yet. */
  version: number;
  modelVersion: string;
  firstSeenAt: number;
  lastEventAt: number;
  /** Time of the latest event that matched a positive intent rule. */
  lastActivityAt: number | undefined;
  eventCount: number;
  traits: Record<string, TraitEntry>;
  intentAsOf: number;
  intent: Record<string, IntentTally>;
  status: LeadStatus;
  /** Number of qualifications so far; the current one when status is mql. */
  episode: number;
  statusChangedAt: number;
  firstQualifiedAt: number | undefined;
  qualifiedAt: number | undefined;
  recycledAt: number | undefined;
  /** When the lead must next be evaluated without new events. */
  nextReviewAt: number | undefined;
}

/** How one event changed a lead. */
export interface EventOutcome {
  messageId: string;
  /** Intent rule that scored the event, if any. */
  ruleId?: string;
  points?: number;
  /** Trait keys the event set. */
  traits?: string[];
}

/** Creates the state of a lead first seen at `at`. */
export function newLead(
  leadId: string,
  model: ScoringModel,
  at: number,
): LeadState {
  return {
    leadId,
    version: 0,
    modelVersion: model.version,
    firstSeenAt: at,
    lastEventAt: at,
    lastActivityAt: undefined,
    eventCount: 0,
    traits: {},
    intentAsOf: at,
    intent: {},
    status: 'engaged',
    episode: 0,
    statusChangedAt: at,
    firstQualifiedAt: undefined,
    qualifiedAt: undefined,
    recycledAt: undefined,
    nextReviewAt: undefined,
  };
}

/**
 * Applies events to a copy of the state and returns it with an outcome per
 * event. Events may be late or out of order: a late event's points are
 * decayed by its age, so any order gives the same score up to floating
 * point rounding. Qualification is evaluated separately.
 */
export function applyEvents(
  state: LeadState,
  events: readonly TrackingEvent[],
  model: ScoringModel,
): { state: LeadState; outcomes: EventOutcome[] } {
  const next = cloneState(state);
  next.modelVersion = model.version;
  const ordered = [...events].sort(
    (a, b) =>
      a.occurredAt - b.occurredAt ||
      (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0),
  );
  const outcomes = ordered.map((event) => applyEvent(next, event, model));
  return { state: next, outcomes };
}

function applyEvent(
  state: LeadState,
  event: TrackingEvent,
  model: ScoringModel,
): EventOutcome {
  state.eventCount += 1;
  state.firstSeenAt = Math.min(state.firstSeenAt, event.occurredAt);
  state.lastEventAt = Math.max(state.lastEventAt, event.occurredAt);
  if (event.type === 'identify' || event.type === 'group') {
    return { messageId: event.messageId, traits: mergeTraits(state, event) };
  }
  const rule = matchIntentRule(event, model);
  if (rule === undefined) {
    return { messageId: event.messageId };
  }
  addIntent(state, rule.id, rule.points, event.occurredAt, model);
  if (rule.points > 0) {
    state.lastActivityAt = Math.max(
      state.lastActivityAt ?? event.occurredAt,
      event.occurredAt,
    );
  }
  return { messageId: event.messageId, ruleId: rule.id, points: rule.points };
}

function mergeTraits(state: LeadState, event: TrackingEvent): string[] {
  const changed: string[] = [];
  for (const [key, value] of Object.entries(event.traits)) {
    const current = state.traits[key];
    if (current === undefined || isNewer(event.occurredAt, value, current)) {
      state.traits[key] = { value, at: event.occurredAt };
      changed.push(key);
    }
  }
  return changed;
}

/** Later event time wins; equal times are settled by value, not order. */
function isNewer(at: number, value: TraitValue, current: TraitEntry): boolean {
  if (at !== current.at) {
    return at > current.at;
  }
  return String(value) > String(current.value);
}

function addIntent(
  state: LeadState,
  ruleId: string,
  points: number,
  at: number,
  model: ScoringModel,
): void {
  if (at > state.intentAsOf) {
    advanceIntent(state, at, model);
  }
  const tally = state.intent[ruleId] ?? {
    points: 0,
    rawPoints: 0,
    count: 0,
    lastAt: at,
  };
  const retention = retentionOf(ruleId, model);
  const decayed =
    points > 0
      ? points * decayFactor(retention, state.intentAsOf - at)
      : points;
  tally.points += decayed;
  tally.rawPoints += points;
  tally.count += 1;
  tally.lastAt = Math.max(tally.lastAt, at);
  state.intent[ruleId] = tally;
}

/** Decays every positive tally from `intentAsOf` to `at`. */
export function advanceIntent(
  state: LeadState,
  at: number,
  model: ScoringModel,
): void {
  const elapsed = at - state.intentAsOf;
  if (elapsed <= 0) {
    return;
  }
  for (const [ruleId, tally] of Object.entries(state.intent)) {
    if (tally.points > 0) {
      tally.points *= decayFactor(retentionOf(ruleId, model), elapsed);
    }
  }
  state.intentAsOf = at;
}

/**
 * Returns a rule's retention per quarter. Tallies of rules that a newer
 * model removed decay at the model's default rate.
 */
export function retentionOf(ruleId: string, model: ScoringModel): number {
  const rule = model.intentRulesById.get(ruleId);
  return rule?.retentionPerQuarter ?? model.retentionPerQuarter;
}

/** Returns the current value of every trait. */
export function traitValues(state: LeadState): Record<string, TraitValue> {
  return Object.fromEntries(
    Object.entries(state.traits).map(([key, entry]) => [key, entry.value]),
  );
}

/** Returns a deep copy, so applying events never mutates stored state. */
export function cloneState(state: LeadState): LeadState {
  return structuredClone(state);
}
