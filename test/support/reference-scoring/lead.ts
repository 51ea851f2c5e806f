import { userLeadId } from '../../../functions/domain/identity.js';
import type {
  TrackingEvent,
  TraitValue,
} from '../../../functions/domain/messages.js';
import type { ScoringModel } from '../../../functions/domain/model.js';
import {
  isBurst,
  lastActivityOf,
  lastMatchedAt,
  noteActivityAt,
  noteClick,
  recordQuarantine,
  takeBackBurst,
} from './click-bursts.js';
import { matchIntentRule } from './intent.js';
import {
  addEvent,
  cloneTally,
  emptyTally,
  type IntentTally,
} from './intent-tally.js';
import {
  type ClickSecond,
  type QuarantineReason,
  type QuarantineTally,
  quarantineReasonOf,
  trackNameOf,
} from './quarantine.js';

export type { IntentTally } from './intent-tally.js';
export { lastActivityOf, lastMatchedAt };

export type LeadStatus = 'engaged' | 'mql' | 'recycled';

/** Sales feedback on a qualified lead. */
export type DispositionKind =
  | 'accepted'
  | 'rejected'
  | 'converted'
  | 'recycled';

/** A sales disposition as stored on the lead. */
export interface DispositionRecord {
  kind: DispositionKind;
  episode: number;
  at: number;
  reason?: string;
  /** Stage a converted lead reached. */
  convertedTo?: 'sql' | 'opportunity';
}

/**
 * A lead's share of its account as last written: the fields whose change
 * rewrites the lead's membership item (see account.ts).
 */
export interface Membership {
  accountId: string;
  role: string | undefined;
  fit: number;
  /** Decayed intent divided by the model's engagement step, floored. */
  intentStep: number;
  engaged: boolean;
  status: LeadStatus;
}

/** A trait value and the event time that set it. */
export interface TraitEntry {
  value: TraitValue;
  at: number;
}

/** One qualification of a lead, kept as history. */
export interface EpisodeRecord {
  episode: number;
  qualifiedAt: number;
  /** Score at qualification, rounded to cents. */
  score: number;
  modelVersion: string;
  recycledAt?: number;
  recycleReason?: string;
}

/** A lead's score as last stored, with the model that computed it. */
export interface StoredScore {
  at: number;
  score: number;
  fit: number;
  intent: number;
  modelVersion: string;
}

/**
 * Everything stored about a lead. Intent is kept per rule as exact decay
 * sums (see intent-tally.ts), so any order of the same events gives the
 * same state and the same score.
 */
export interface LeadState {
  leadId: string;
  /** The user id as first written, when it differs from the lead id. */
  displayId?: string;
  /** Optimistic-concurrency version; 0 for a lead not stored yet. */
  version: number;
  /** Model of the last write. */
  modelVersion: string;
  firstSeenAt: number;
  /**
   * Clock time of the lead's first write. Event ids include it, so a lead
   * stored again after an erasure never repeats the ids of the erased one.
   * Absent on leads first written before the field existed.
   */
  createdAt?: number;
  lastEventAt: number;
  /**
   * Time of the latest positive intent event that was not quarantined,
   * leaving out email clicks that a burst can still take back (see
   * lastActivityOf).
   */
  lastActivityAt: number | undefined;
  eventCount: number;
  traits: Record<string, TraitEntry>;
  intent: Record<string, IntentTally>;
  quarantined: Partial<Record<QuarantineReason, QuarantineTally>>;
  /** Recent email clicks per second, for burst detection. */
  clickSeconds: Record<string, ClickSecond>;
  status: LeadStatus;
  /** Number of qualifications so far; the current one when status is mql. */
  episode: number;
  statusChangedAt: number;
  firstQualifiedAt: number | undefined;
  qualifiedAt: number | undefined;
  recycledAt: number | undefined;
  /** When the lead must next be evaluated without new events. */
  nextReviewAt: number | undefined;
  /** The latest qualifications, oldest first (see MAX_EPISODE_RECORDS). */
  episodes: EpisodeRecord[];
  lastScore?: StoredScore;
  /** groupId of the latest group call, the strongest account source. */
  groupId?: TraitEntry;
  /** The lead's share of its account as last written (see account.ts). */
  membership?: Membership;
  /** Latest sales disposition of the current or last episode. */
  disposition?: DispositionRecord;
  /** Lead this one was merged into, set on a tombstone only. */
  mergedInto?: string;
  mergedAt?: number;
  /** Whether events are still to be moved to `mergedInto`. */
  mergePending?: boolean;
}

/** How one event changed a lead. */
export interface EventOutcome {
  messageId: string;
  /** Intent rule that matched the event, if any. */
  ruleId?: string;
  /** Points the event added when applied: 0 when capped. */
  points?: number;
  /** Whether a cap kept the event from counting when it was applied. */
  capped?: boolean;
  /** Reason the event scores nothing, when it is machine activity. */
  quarantine?: QuarantineReason;
  /** Trait keys the event set. */
  traits?: string[];
}

/** Creates the state of a lead first seen at `at`. */
export function newLead(
  leadId: string,
  model: ScoringModel,
  at: number,
  createdAt?: number,
): LeadState {
  return {
    leadId,
    version: 0,
    modelVersion: model.version,
    firstSeenAt: at,
    ...(createdAt === undefined ? {} : { createdAt }),
    lastEventAt: at,
    lastActivityAt: undefined,
    eventCount: 0,
    traits: {},
    intent: {},
    quarantined: {},
    clickSeconds: {},
    status: 'engaged',
    episode: 0,
    statusChangedAt: at,
    firstQualifiedAt: undefined,
    qualifiedAt: undefined,
    recycledAt: undefined,
    nextReviewAt: undefined,
    episodes: [],
  };
}

/** Tells whether a stored lead is a tombstone left by a merge. */
export function isTombstone(state: LeadState): boolean {
  return state.mergedInto !== undefined;
}

/**
 * Applies events to a copy of the state and returns it with an outcome per
 * event, in time order. Events may be late or out of order: the resulting
 * state is the same for any order and any split into batches (see
 * intent-tally.ts for the limits). Qualification is evaluated separately.
 */
export function applyEvents(
  state: LeadState,
  events: readonly TrackingEvent[],
  model: ScoringModel,
): { state: LeadState; outcomes: EventOutcome[] } {
  const next = cloneState(state, { copyOnWrite: true });
  next.modelVersion = model.version;
  const ordered = [...events].sort(compareEvents);
  const outcomes = ordered.map((event) => applyEvent(next, event, model));
  return { state: next, outcomes };
}

/** Orders events by time, then by message id. */
export function compareEvents(a: TrackingEvent, b: TrackingEvent): number {
  if (a.occurredAt !== b.occurredAt) return a.occurredAt - b.occurredAt;
  if (a.messageId === b.messageId) return 0;
  return a.messageId < b.messageId ? -1 : 1;
}

/**
 * Returns the time an event scores at: its own time, but never later than
 * its receive time, so a client clock a little ahead cannot put points in
 * the future.
 */
export function scoringTimeOf(event: TrackingEvent): number {
  return Math.min(event.occurredAt, event.receivedAt);
}

function applyEvent(
  state: LeadState,
  event: TrackingEvent,
  model: ScoringModel,
): EventOutcome {
  const at = scoringTimeOf(event);
  state.eventCount += 1;
  state.firstSeenAt = Math.min(state.firstSeenAt, at);
  state.lastEventAt = Math.max(state.lastEventAt, at);
  noteDisplayId(state, event);
  const outcome: EventOutcome = { messageId: event.messageId };
  if (event.type === 'identify' || event.type === 'group') {
    outcome.traits = mergeTraits(state, event.traits, at);
    noteGroupId(state, event, at);
    return outcome;
  }
  if (event.type === 'alias') {
    return outcome;
  }
  scoreBehaviour(state, event, at, model, outcome);
  return outcome;
}

function scoreBehaviour(
  state: LeadState,
  event: TrackingEvent,
  at: number,
  model: ScoringModel,
  outcome: EventOutcome,
): void {
  const policy = model.quarantine;
  const trackName = trackNameOf(event);
  const isClick =
    trackName !== undefined && policy.emailClickEvents.has(trackName);
  const reason = quarantineReasonOf(event, trackName, policy);
  const second = isClick ? noteClick(state, at, model) : undefined;

  const burst =
    second !== undefined && isBurst(second, policy.burstClicksPerSecond);
  if (burst) {
    takeBackBurst(state, second, model);
  }
  if (reason !== undefined || burst) {
    const recorded = reason ?? 'click-burst';
    recordQuarantine(state, recorded, at, 1);
    outcome.quarantine = recorded;
    return;
  }

  const rule = matchIntentRule(event, trackName, model);
  second?.scored.push([rule?.id ?? '', at]);
  if (rule === undefined) {
    return;
  }
  const tally = state.intent[rule.id] ?? emptyTally();
  state.intent[rule.id] = tally;
  const counted = addEvent(tally, rule, at, second === undefined);
  if (rule.points > 0 && second === undefined) {
    noteActivityAt(state, at);
  }
  outcome.ruleId = rule.id;
  outcome.points = counted ? rule.points : 0;
  if (!counted) outcome.capped = true;
}

function noteGroupId(state: LeadState, event: TrackingEvent, at: number) {
  const groupId = event.groupId?.trim();
  if (groupId === undefined || groupId === '') return;
  const current = state.groupId;
  if (current === undefined || isNewer(at, groupId, current)) {
    state.groupId = { value: groupId, at };
  }
}

/**
 * Keeps the spelling of the lead's own user id when it differs from the
 * lead id. Events moved from a merged lead carry that lead's user id,
 * which names another id and is left out.
 */
function noteDisplayId(state: LeadState, event: TrackingEvent): void {
  const { userId } = event;
  if (userId === undefined || userId === state.leadId) return;
  if (userLeadId(userId) !== state.leadId) return;
  if (state.displayId === undefined || userId < state.displayId) {
    state.displayId = userId;
  }
}

function mergeTraits(
  state: LeadState,
  traits: Readonly<Record<string, TraitValue>>,
  at: number,
): string[] {
  const changed: string[] = [];
  for (const key in traits) {
    const value = traits[key] as TraitValue;
    const current = state.traits[key];
    if (current === undefined || isNewer(at, value, current)) {
      writableTraits(state)[key] = { value, at };
      changed.push(key);
    }
  }
  return changed;
}

/**
 * States whose traits record is their own. The others share it with the
 * state they were copied from (see cloneState), and scoreFit caches the
 * fit of each record, so a shared record must never change.
 */
const ownsTraits = new WeakSet<LeadState>();

function writableTraits(state: LeadState): Record<string, TraitEntry> {
  if (!ownsTraits.has(state)) {
    state.traits = { ...state.traits };
    ownsTraits.add(state);
  }
  return state.traits;
}

/** Later event time wins; equal times are settled by value, not order. */
function isNewer(at: number, value: TraitValue, current: TraitEntry): boolean {
  if (at !== current.at) {
    return at > current.at;
  }
  return String(value) > String(current.value);
}

/** Returns the current value of every trait. */
export function traitValues(state: LeadState): Record<string, TraitValue> {
  const values: Record<string, TraitValue> = {};
  for (const key in state.traits) {
    values[key] = (state.traits[key] as TraitEntry).value;
  }
  return values;
}

/**
 * Returns a deep copy, so applying events never mutates stored state. With
 * `copyOnWrite`, the traits record is shared and copied before its first
 * change instead: change it only through writableTraits.
 */
export function cloneState(
  state: LeadState,
  options: { copyOnWrite?: boolean } = {},
): LeadState {
  const intent: Record<string, IntentTally> = {};
  for (const key in state.intent) {
    intent[key] = cloneTally(state.intent[key] as IntentTally);
  }
  if (options.copyOnWrite === true) {
    return {
      ...deepCopyOfClicksAndStatus(state),
      traits: state.traits,
      intent,
    };
  }
  const traits: Record<string, TraitEntry> = {};
  for (const key in state.traits) {
    traits[key] = { ...(state.traits[key] as TraitEntry) };
  }
  const copy = { ...deepCopyOfClicksAndStatus(state), traits, intent };
  ownsTraits.add(copy);
  return copy;
}

/**
 * Returns a copy of a lead with its own click seconds, quarantine counts,
 * episodes and last score; traits and intent are still shared.
 */
function deepCopyOfClicksAndStatus(state: LeadState): LeadState {
  const clickSeconds: Record<string, ClickSecond> = {};
  for (const key in state.clickSeconds) {
    const second = state.clickSeconds[key] as ClickSecond;
    clickSeconds[key] = {
      clicks: second.clicks,
      scored: second.scored.map(([ruleId, at]) => [ruleId, at]),
    };
  }
  const quarantined: LeadState['quarantined'] = {};
  for (const [reason, tally] of Object.entries(state.quarantined)) {
    quarantined[reason as QuarantineReason] = { ...tally };
  }
  return {
    ...state,
    quarantined,
    clickSeconds,
    episodes: state.episodes.map((episode) => ({ ...episode })),
    ...(state.groupId === undefined ? {} : { groupId: { ...state.groupId } }),
    ...(state.membership === undefined
      ? {}
      : { membership: { ...state.membership } }),
    ...(state.disposition === undefined
      ? {}
      : { disposition: { ...state.disposition } }),
    ...(state.lastScore === undefined
      ? {}
      : { lastScore: { ...state.lastScore } }),
  };
}
