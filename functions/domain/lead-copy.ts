import {
  copyTallies,
  copyWithTally,
  deleteTally,
  setTally,
} from './intent-tallies.js';
import { copyTally, emptyTally, type IntentTally } from './intent-tally.js';
import type { LeadState, TraitEntry } from './lead.js';
import type {
  ClickSecond,
  QuarantineReason,
  QuarantineTally,
} from './quarantine.js';

/**
 * Copies of lead states. applyEvents changes a copy that shares its
 * traits, intent tallies, click seconds and quarantine counts with the
 * input state, and copies each of them before its first change. A request
 * then costs time in proportion to what its events change, and never
 * changes the input state. Change shared parts only through the writable
 * functions below, and only between startCopy and endCopy.
 */

/** The copy being changed, and which of its parts it owns. */
interface OpenCopy {
  state: LeadState;
  /**
   * Tallies of the input state. A tally of the copy that is not among
   * them was created for the copy, which owns it.
   */
  inputTallies: readonly IntentTally[];
  intent: boolean;
  traits: boolean;
  clickSeconds: boolean;
  quarantined: boolean;
}

/**
 * The one copy open for changes. applyEvents runs synchronously, so at
 * most one copy is open at a time.
 */
let open: OpenCopy | undefined;

/**
 * Returns a copy of a state that shares its records with it, open for
 * changes through the writable functions until endCopy.
 */
export function startCopy(state: LeadState): LeadState {
  // Applying events never changes episodes, membership, disposition or
  // the last score, and replaces the group id, so the copy shares them.
  const copy = shallowCopy(state);
  open = {
    state: copy,
    inputTallies: state.intent.tallies,
    intent: false,
    traits: false,
    clickSeconds: false,
    quarantined: false,
  };
  return copy;
}

/** Every field of T, optional ones included, with their values. */
type AllFields<T> = { [K in keyof Required<T>]: T[K] };

/**
 * Returns a copy of a lead that shares every record with it. A literal
 * with every field costs less here than a spread (core benchmark, Node
 * 20). Absent optional fields become fields whose value is undefined,
 * which a store drops as it drops absent ones.
 * NOTE: attributes that LeadState does not list are not copied, so a
 * field that a newer version stores is lost when this version writes the
 * lead.
 */
export function shallowCopy(state: LeadState): LeadState {
  const copy: AllFields<LeadState> = {
    leadId: state.leadId,
    displayId: state.displayId,
    version: state.version,
    modelVersion: state.modelVersion,
    firstSeenAt: state.firstSeenAt,
    createdAt: state.createdAt,
    outcomeSalt: state.outcomeSalt,
    incarnationId: state.incarnationId,
    lastEventAt: state.lastEventAt,
    lastActivityAt: state.lastActivityAt,
    eventCount: state.eventCount,
    traits: state.traits,
    intent: state.intent,
    quarantined: state.quarantined,
    clickSeconds: state.clickSeconds,
    status: state.status,
    episode: state.episode,
    statusChangedAt: state.statusChangedAt,
    firstQualifiedAt: state.firstQualifiedAt,
    qualifiedAt: state.qualifiedAt,
    recycledAt: state.recycledAt,
    nextReviewAt: state.nextReviewAt,
    episodes: state.episodes,
    lastScore: state.lastScore,
    groupId: state.groupId,
    membership: state.membership,
    disposition: state.disposition,
    mergedInto: state.mergedInto,
    mergedAt: state.mergedAt,
    mergePending: state.mergePending,
    accountsLeft: state.accountsLeft,
    erasureHeldUntil: state.erasureHeldUntil,
  };
  return copy;
}

/** Closes the copy that startCopy opened. */
export function endCopy(): void {
  open = undefined;
}

/**
 * Returns the state's traits record, copied first if it is shared.
 * scoreFit caches the fit of each traits record, so a shared record must
 * never change.
 */
export function writableTraits(state: LeadState): Record<string, TraitEntry> {
  const copy = open;
  if (copy?.state === state && !copy.traits) {
    state.traits = { ...state.traits };
    copy.traits = true;
  }
  return state.traits;
}

/**
 * Returns the tally of a rule, copied first if it is shared. Tallies of
 * any state but the open copy are changed in place.
 */
export function writableTally(
  state: LeadState,
  ruleId: string,
): IntentTally | undefined {
  const { ruleIds, tallies } = state.intent;
  const index = ruleIds.indexOf(ruleId);
  if (index === -1) return undefined;
  const tally = tallies[index] as IntentTally;
  const copy = open;
  if (copy?.state !== state || !copy.inputTallies.includes(tally)) {
    return tally;
  }
  const own = copyTally(tally);
  writableIntent(state).tallies[index] = own;
  return own;
}

/** Stores a new tally with no events under a rule and returns it. */
export function addTally(state: LeadState, ruleId: string): IntentTally {
  const tally = emptyTally();
  const copy = open;
  if (copy?.state === state && !copy.intent) {
    state.intent = copyWithTally(state.intent, ruleId, tally);
    copy.intent = true;
  } else {
    setTally(state.intent, ruleId, tally);
  }
  return tally;
}

/** Removes the tally of a rule. */
export function removeTally(state: LeadState, ruleId: string): void {
  deleteTally(writableIntent(state), ruleId);
}

/**
 * Returns the state's tallies, their arrays copied first if they are
 * shared. The tallies in them may still be shared (see writableTally).
 */
function writableIntent(state: LeadState): LeadState['intent'] {
  const copy = open;
  if (copy?.state === state && !copy.intent) {
    state.intent = copyTallies(state.intent);
    copy.intent = true;
  }
  return state.intent;
}

/** Returns the state's click seconds, copied first if they are shared. */
export function writableClickSeconds(state: LeadState): ClickSecond[] {
  const copy = open;
  if (copy?.state === state && !copy.clickSeconds) {
    state.clickSeconds = copyClickSeconds(state.clickSeconds);
    copy.clickSeconds = true;
  }
  return state.clickSeconds;
}

/** Returns the state's quarantine counts, copied first if shared. */
export function writableQuarantined(
  state: LeadState,
): LeadState['quarantined'] {
  const copy = open;
  if (copy?.state === state && !copy.quarantined) {
    state.quarantined = copyQuarantined(state.quarantined);
    copy.quarantined = true;
  }
  return state.quarantined;
}

/**
 * Returns a deep copy, so applying events never mutates stored state.
 * With `copyOnWrite`, the copy shares its records and is opened for
 * changes as by startCopy, and the caller must call endCopy.
 */
export function cloneState(
  state: LeadState,
  options: { copyOnWrite?: boolean } = {},
): LeadState {
  if (options.copyOnWrite === true) {
    return startCopy(state);
  }
  const intent = {
    ruleIds: state.intent.ruleIds.slice(),
    tallies: state.intent.tallies.map((tally) => copyTally(tally)),
  };
  const traits: Record<string, TraitEntry> = {};
  for (const key in state.traits) {
    traits[key] = { ...(state.traits[key] as TraitEntry) };
  }
  return {
    ...copyOfStatus(state),
    traits,
    intent,
    clickSeconds: copyClickSeconds(state.clickSeconds),
    quarantined: copyQuarantined(state.quarantined),
  };
}

/**
 * Returns a copy of a lead with its own group id, membership, disposition,
 * last score and episodes. Every other record is still shared.
 */
function copyOfStatus(state: LeadState): LeadState {
  const episodes = state.episodes.map((episode) => ({ ...episode }));
  const copy: LeadState = { ...state, episodes };
  if (state.groupId !== undefined) copy.groupId = { ...state.groupId };
  if (state.membership !== undefined) {
    copy.membership = { ...state.membership };
  }
  if (state.disposition !== undefined) {
    copy.disposition = { ...state.disposition };
  }
  if (state.lastScore !== undefined) copy.lastScore = { ...state.lastScore };
  return copy;
}

function copyClickSeconds(seconds: readonly ClickSecond[]): ClickSecond[] {
  return seconds.map(({ second, clicks, scored }) => ({
    second,
    clicks,
    scored: scored.map(([ruleId, at]) => [ruleId, at]),
  }));
}

function copyQuarantined(
  quarantined: LeadState['quarantined'],
): LeadState['quarantined'] {
  const copy: LeadState['quarantined'] = {};
  for (const reason in quarantined) {
    const tally = quarantined[reason as QuarantineReason] as QuarantineTally;
    copy[reason as QuarantineReason] = { ...tally };
  }
  return copy;
}
