import { randomBytes } from 'node:crypto';
import {
  isBurst,
  lastActivityOf,
  lastMatchedAt,
  noteActivityAt,
  noteClick,
  recordQuarantine,
  takeBackBurst,
} from './click-bursts.js';
import { userLeadId } from './identity.js';
import { matchIntentRule } from './intent.js';
import { emptyTallies, type IntentTallies } from './intent-tallies.js';
import { addEvent } from './intent-tally.js';
import {
  addTally,
  cloneState,
  endCopy,
  startCopy,
  writableTally,
  writableTraits,
} from './lead-copy.js';
import type { TrackingEvent, TraitValue } from './messages.js';
import type { ScoringModel } from './model.js';
import {
  type ClickSecond,
  type QuarantineReason,
  type QuarantineTally,
  quarantineReasonOf,
  trackNameOf,
} from './quarantine.js';

export type { IntentTallies } from './intent-tallies.js';
export type { IntentTally } from './intent-tally.js';
export { cloneState, lastActivityOf, lastMatchedAt };

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
  /**
   * Key of the episode in the conversion outcomes, set when the episode
   * came from a merged lead, whose id and outcomeSalt the key derives
   * from. Later dispositions of the episode keep it, so the conversion
   * report counts the episode once.
   */
  episodeKey?: string;
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
  /** Email-domain account that the lead links to its group's account. */
  linkedAccountId?: string;
}

/**
 * Traits a lead keeps besides those the model reads. Each identify can
 * carry hundreds of names within the 32 KB message limit, and without a
 * limit a lead's state would outgrow DynamoDB's 400 KB item limit, after
 * which every write of the lead fails. 64 traits of the longest name and
 * value (200 and 1000 characters) take about 250 KB of UTF-8 at most.
 */
export const MAX_OTHER_TRAITS = 64;

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
   * Clock time of the lead's first write: the receive time of the request
   * that stored it. Event ids of a lead without `incarnationId` include
   * it. Absent on leads first written before the field existed.
   */
  createdAt?: number;
  /**
   * Random hex drawn when the lead is first written and kept for life.
   * Event ids include it (see incarnationOf), so a lead stored again
   * after an erasure never repeats the ids of the erased one, even when
   * both were first written in the same millisecond. Absent on leads
   * first written before the field existed.
   */
  incarnationId?: string;
  /**
   * Random hex that keys the lead's conversion outcomes together with its
   * id, so that outcomes, which stay after an erasure, cannot be linked to
   * the lead once this state is deleted. Absent on leads first written
   * before the field existed.
   */
  outcomeSalt?: string;
  lastEventAt: number;
  /**
   * Time of the latest positive intent event that was not quarantined,
   * leaving out email clicks that a burst can still take back (see
   * lastActivityOf).
   */
  lastActivityAt: number | undefined;
  eventCount: number;
  traits: Record<string, TraitEntry>;
  /** Intent tallies by rule id. */
  intent: IntentTallies;
  quarantined: Partial<Record<QuarantineReason, QuarantineTally>>;
  /** Recent email clicks per second, sorted by second, to detect bursts. */
  clickSeconds: ClickSecond[];
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
  /**
   * Whether events are still to be moved to `mergedInto`, or accounts of
   * `accountsLeft` still to be evaluated again.
   */
  mergePending?: boolean;
  /**
   * On a tombstone, the accounts that the merged lead belonged to. The
   * merge evaluates them again without it before it is marked complete.
   */
  accountsLeft?: string[];
  /**
   * End of the hold of an unfinished erasure, epoch ms, as read from the
   * store. While it is there no other change of the lead is written. Once
   * it has passed, another erasure may take the lead over. Writes of the
   * state never store it.
   */
  erasureHeldUntil?: number;
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

/** Returns a random id for a lead state written for the first time. */
export function newIncarnationId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Returns the value that event ids include to set this incarnation of a
 * lead id apart from the others. It is `incarnationId`, or `createdAt` on
 * a lead first written before `incarnationId` existed, so that lead keeps
 * its ids. Undefined for a lead older than both fields.
 */
export function incarnationOf(
  state: Pick<LeadState, 'createdAt' | 'incarnationId'>,
): string | number | undefined {
  return state.incarnationId ?? state.createdAt;
}

/** Creates the state of a lead first seen at `at`. */
export function newLead(
  leadId: string,
  model: ScoringModel,
  at: number,
  createdAt?: number,
  outcomeSalt?: string,
  incarnationId?: string,
): LeadState {
  return {
    leadId,
    version: 0,
    modelVersion: model.version,
    firstSeenAt: at,
    ...(createdAt === undefined ? {} : { createdAt }),
    ...(outcomeSalt === undefined ? {} : { outcomeSalt }),
    ...(incarnationId === undefined ? {} : { incarnationId }),
    lastEventAt: at,
    lastActivityAt: undefined,
    eventCount: 0,
    traits: {},
    intent: emptyTallies(),
    quarantined: {},
    clickSeconds: [],
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
  const next = startCopy(state);
  try {
    next.modelVersion = model.version;
    const ordered = inOrder(events);
    const outcomes: EventOutcome[] = [];
    for (const event of ordered) outcomes.push(applyEvent(next, event, model));
    return { state: next, outcomes };
  } finally {
    endCopy();
  }
}

/**
 * Returns the events in the order of compareEvents. Requests mostly send
 * events in that order already, and checking costs less than sorting.
 */
function inOrder(events: readonly TrackingEvent[]): readonly TrackingEvent[] {
  for (let index = 1; index < events.length; index += 1) {
    const previous = events[index - 1] as TrackingEvent;
    if (compareEvents(previous, events[index] as TrackingEvent) > 0) {
      return [...events].sort(compareEvents);
    }
  }
  return events;
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
  const { type } = event;
  const at = scoringTimeOf(event);
  state.eventCount += 1;
  state.firstSeenAt = Math.min(state.firstSeenAt, at);
  state.lastEventAt = Math.max(state.lastEventAt, at);
  noteDisplayId(state, event);
  const outcome: EventOutcome = { messageId: event.messageId };
  if (type === 'identify' || type === 'group') {
    outcome.traits = mergeTraits(state, event.traits, at, model);
    noteGroupId(state, event, at);
    return outcome;
  }
  if (type === 'alias') {
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
  const tally = writableTally(state, rule.id) ?? addTally(state, rule.id);
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
  model: ScoringModel,
): string[] {
  const changed: string[] = [];
  for (const key in traits) {
    const value = traits[key] as TraitValue;
    // hasOwn: a trait named like an Object.prototype member, such as
    // `constructor`, must not read the inherited function.
    const current = Object.hasOwn(state.traits, key)
      ? state.traits[key]
      : undefined;
    if (current === undefined || isNewer(at, value, current)) {
      writableTraits(state)[key] = { value, at };
      changed.push(key);
    }
  }
  const dropped = dropExtraTraits(state, model.traitNames);
  return dropped.size === 0
    ? changed
    : changed.filter((key) => !dropped.has(key));
}

/**
 * Drops the traits the model does not read beyond the MAX_OTHER_TRAITS
 * first names in code unit order, and returns the names dropped. Keeping
 * the first names makes the kept set the same in any event order.
 */
function dropExtraTraits(
  state: LeadState,
  modelTraits: ReadonlySet<string>,
): Set<string> {
  const others: string[] = [];
  for (const key in state.traits) {
    if (!modelTraits.has(key)) others.push(key);
  }
  if (others.length <= MAX_OTHER_TRAITS) return new Set();
  // The default sort orders strings by UTF-16 code units.
  others.sort();
  const dropped = new Set(others.slice(MAX_OTHER_TRAITS));
  const writable = writableTraits(state);
  for (const key of dropped) delete writable[key];
  return dropped;
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
