import type { AccountMember, AccountState } from '../domain/account.js';
import type { OutcomeRecord } from '../domain/disposition.js';
import type { HistoryEntry } from '../domain/history.js';
import type { EventOutcome, LeadState } from '../domain/lead.js';
import type { TrackingEvent } from '../domain/messages.js';
import type { OutgoingEvent } from '../domain/outgoing-events.js';

/** A new event to store with what it did to the lead. */
export interface EventRecord {
  event: TrackingEvent;
  outcome: EventOutcome;
  /**
   * Lead whose stored event this is, when a merge moves it: the write
   * deletes it there, on condition that it is still there, and writes no
   * message marker (the original write did).
   */
  movedFrom?: string;
  /** Tracking source of a moved event, else the change's source. */
  sourceId?: string;
}

/** A stored event with the tracking source it came from. */
export interface StoredEvent {
  event: TrackingEvent;
  sourceId: string;
}

/** One page of a lead's stored events, oldest first. */
export interface EventPage {
  events: StoredEvent[];
  /** Opaque position to continue from, absent on the last page. */
  cursor: string | undefined;
}

/**
 * Everything one request changes for one lead, written atomically: the new
 * events, the new state (if the stored version is still `expectedVersion`
 * and the stored createdAt is the state's) and the outgoing events caused
 * by the change.
 */
export interface LeadChange {
  sourceId: string;
  expectedVersion: number;
  state: LeadState;
  events: EventRecord[];
  outgoing: OutgoingEvent[];
  /**
   * The lead's membership item to write under its account, and the one to
   * delete when the lead left an account.
   */
  membership?: {
    put?: AccountMember;
    remove?: { accountId: string; leadId: string };
  };
  /** A sales disposition to keep for the conversion report. */
  outcome?: OutcomeRecord;
  /** The score change to keep in the lead's history. */
  history?: HistoryEntry;
  /**
   * The change of the reviews that were due before this one, kept as
   * its own history entry under an earlier version.
   */
  reviewHistory?: HistoryEntry;
  /**
   * The tombstone through which the writer reached the lead it writes to:
   * the one whose events the change moves or whose id an update followed,
   * or for a merge, the last tombstone on the way to `mergeTarget`. The
   * write fails as a version conflict when the tombstone no longer points
   * at that lead, as after an erasure of that lead.
   */
  followedTombstone?: FollowedTombstone;
  /**
   * The lead that the change's new tombstone points at. The write fails
   * as a version conflict when that lead is itself merged or held for
   * erasure, so concurrent merges never form a cycle of tombstones. It
   * also stores the identity link under that lead, which no other write
   * of the tombstone does.
   */
  mergeTarget?: string;
  /**
   * The new state of `mergeTarget`, written in the same transaction
   * under its own version check, with the history entries of that write.
   * A merge stores here the qualification history it adds to the target,
   * or the target itself when it is not stored yet, so a merged id never
   * points at a lead that does not exist.
   */
  mergeTargetChange?: MergeTargetChange;
}

/** The write of a merge's target in the transaction of its tombstone. */
export interface MergeTargetChange {
  expectedVersion: number;
  state: LeadState;
  history?: HistoryEntry;
  reviewHistory?: HistoryEntry;
}

/** A merged lead's tombstone, by its id and the lead it points at. */
export interface FollowedTombstone {
  leadId: string;
  mergedInto: string;
}

/** Options of deleteLeadData. */
export interface LeadDataDeleteOptions {
  /**
   * Asked before each request that follows the first Query page: each
   * further Query page and each BatchWriteItem of up to 25 deletes. When
   * it returns false the call stops there and returns `finished: false`.
   */
  mayContinue?: () => boolean;
}

/** Result of deleteLeadData. */
export interface LeadDataDeletion {
  /** Items deleted. */
  deleted: number;
  /**
   * Leads that the lead's identity link items name, which are the leads
   * merged into it. Complete only when `finished`.
   */
  linkedLeadIds: string[];
  /** False when `mayContinue` stopped the call. */
  finished: boolean;
}

/** The merged leads that an erasure deleted so far. */
export interface ErasedMergedLeads {
  /** SHA-256 hashes of their ids, hex, sorted. */
  leadIdSha256s: string[];
  /** Whether some were deleted whose hash was not recorded. */
  omitted: boolean;
}

/** One page of a lead's history, newest first. */
export interface HistoryPage {
  entries: HistoryEntry[];
  /** Opaque position to continue from, absent on the last page. */
  cursor: string | undefined;
}

/** Outcome of a grouped write of lead changes, by change. */
export interface SavedLeadChanges {
  /** Changes committed. */
  saved: LeadChange[];
  /**
   * Changes not written because a condition of theirs failed (the lead
   * changed since it was read, or is held for its erasure) or another
   * transaction wrote one of their items at the same time. Read the
   * lead again before retrying.
   */
  conflicted: LeadChange[];
  /**
   * Changes whose transaction failed otherwise, with the error. A change
   * may still have been committed when the request failed after it
   * reached the store, so read the lead again before retrying.
   */
  failed: Array<{ change: LeadChange; error: unknown }>;
}

/** Lead states and stored message ids of one request, read together. */
export interface IngestSnapshot {
  /** Stored state of each requested lead that exists. */
  leads: Map<string, LeadState>;
  /**
   * Requested message ids of the source that are already stored, each
   * with the lead id its message marker names: the lead that stored it.
   */
  storedMessages: Map<string, string>;
}

/** An account's stored state and its members' snapshots. */
export interface AccountSnapshot {
  state: AccountState | undefined;
  members: AccountMember[];
  /**
   * For an email-domain account, the group's account that a lead with a
   * group call linked it to last.
   */
  linkedTo: string | undefined;
}

/** The link of an email-domain account to a group's account. */
export interface AccountLink {
  /** The group's account that the domain's leads count in. */
  linkedTo: string;
  /**
   * Id of the write that stored the link, undefined for a link stored
   * before links had one.
   */
  linkId: string | undefined;
  /**
   * Group accounts whose leads linked the domain, the latest first. A
   * group stays listed after its leads stopped linking the domain, until
   * replaceAccountLink removes it.
   */
  groups: string[];
}

/**
 * A change of account status, written atomically with its outgoing
 * events if the stored version is still `expectedVersion`.
 */
export interface AccountChange {
  expectedVersion: number;
  state: AccountState;
  outgoing: OutgoingEvent[];
  /**
   * Member snapshots, as read, that the change rests on. The write fails
   * as a version conflict when one of them was changed or removed since,
   * or when a member of a linked email-domain account no longer counts
   * in this account because the domain's link moved.
   */
  unchangedMembers?: readonly AccountMember[];
}

/** Lead or account whose partition contains an outbox entry. */
export interface OutboxOwner {
  leadId?: string | undefined;
  accountId?: string | undefined;
}

/** An item of the review index whose time has come. */
export type DueItem =
  | { kind: 'lead'; leadId: string; dueAt: number }
  | { kind: 'account'; accountId: string; dueAt: number }
  | {
      kind: 'outbox';
      /** Empty for an account's entry. */
      leadId: string;
      /** Set for an account's entry. */
      accountId?: string;
      eventId: string;
      dueAt: number;
      /** Publish attempts made by earlier sweeps. */
      attempts: number;
    };

/** Non-retryable error with which the bus rejected an outbox entry. */
export interface OutboxFailure {
  errorCode: string;
  errorMessage: string;
  /** When the entry was marked failed, epoch ms. */
  failedAt: number;
}

/**
 * One publish attempt's claim on an outbox entry: its due time moves from
 * `dueAt` to `retryAt`, and its attempts become `attempts`. Both are set
 * rather than added to, so a claim sent again after its response was lost
 * changes nothing more.
 */
export interface OutboxClaim {
  /**
   * The due time read with the entry. The claim fails when another claim
   * has changed it since.
   */
  dueAt: number;
  /** The attempts counted with this one, one more than those read. */
  attempts: number;
  /** The due time of the next attempt, should this one not publish. */
  retryAt: number;
  /**
   * When the publisher claimed it, which an erasure reads to leave the
   * entry to this publisher while it may still be sending it.
   */
  claimedAt: number;
}

/**
 * A stored outbox entry. A pending entry waits to be published, by its
 * writer or by the sweep. A failed entry was rejected with a
 * non-retryable error and waits for an operator to retry it.
 */
export interface OutboxEntry {
  event: OutgoingEvent;
  status: 'pending' | 'failed';
  /** Publish attempts made by sweeps. */
  attempts: number;
  /** When the sweep takes the entry up next, epoch ms; pending only. */
  dueAt: number | undefined;
  /**
   * Time a publisher claimed the entry, epoch ms. It is undefined before
   * the first claim and after the publisher makes the entry pending again.
   */
  claimedAt: number | undefined;
  failure: OutboxFailure | undefined;
}

/** One page of outbox entries. */
export interface OutboxPage {
  entries: OutboxEntry[];
  /** Opaque position to continue from, absent on the last page. */
  cursor: string | undefined;
}

/** One page of due items from one shard of the review index. */
export interface DuePage {
  items: DueItem[];
  /** Opaque position to continue from, absent on the last page. */
  cursor: string | undefined;
}

/**
 * Storage of leads, their events and their outbox. A method raises
 * CapacityExceededError when the store throttled a request, and a
 * throttled write stores nothing. saveLeadChanges instead returns the
 * throttled changes as failed.
 */
export interface LeadRepository {
  /** Returns the lead's state, read strongly consistent, or undefined. */
  getLead(leadId: string): Promise<LeadState | undefined>;
  /**
   * Returns the states of the leads that exist among `leadIds`, by lead
   * id, read strongly consistent in as few round trips as the store
   * allows.
   */
  getLeads(leadIds: readonly string[]): Promise<Map<string, LeadState>>;
  /**
   * Returns the message ids of a source that are already stored, each
   * with the lead id its message marker names.
   */
  findStoredMessages(
    sourceId: string,
    messageIds: readonly string[],
  ): Promise<Map<string, string>>;
  /**
   * Reads the states of `leadIds` and which of the source's `messageIds`
   * are stored, strongly consistent, in as few round trips as the store
   * allows. It is what getLead and findStoredMessages return, read at once.
   */
  readIngestSnapshot(
    sourceId: string,
    leadIds: readonly string[],
    messageIds: readonly string[],
  ): Promise<IngestSnapshot>;
  /**
   * Writes a lead change in one transaction. Raises VersionConflictError
   * when another writer changed the lead first or a moved event was moved
   * already, and DuplicateMessageError when some message ids were stored
   * meanwhile; nothing is written then.
   */
  saveLeadChange(change: LeadChange): Promise<void>;
  /**
   * Writes lead changes of distinct leads, several per transaction, so
   * each change commits as a whole or not at all, under the same
   * conditions as saveLeadChange. A transaction that a change's condition
   * cancels is sent again without that change. Raises no error for a
   * change that was not written, but returns which changes were written
   * and why the others were not.
   */
  saveLeadChanges(changes: readonly LeadChange[]): Promise<SavedLeadChanges>;
  /**
   * Claims a due outbox entry (of a lead when `owner` is a lead id) for
   * one publish attempt, as `claim` describes, and returns it. Returns
   * undefined when another sweep claimed it first or it was already
   * published, so overlapping sweeps publish an entry once as long as
   * each send ends within the claim's backoff (at least 30 s).
   */
  claimOutboxEntry(
    owner: OutboxOwner | string,
    eventId: string,
    claim: OutboxClaim,
  ): Promise<OutgoingEvent | undefined>;
  /**
   * Returns the lead's stored event of the source's message, read
   * strongly consistent, or undefined when the lead has none. Reads the
   * lead's events page by page, so it is meant for rare checks only.
   */
  findStoredEvent(
    leadId: string,
    sourceId: string,
    messageId: string,
  ): Promise<StoredEvent | undefined>;
  /**
   * Lists a lead's stored events, oldest first, at most `limit` per page,
   * read strongly consistent.
   */
  listEvents(
    leadId: string,
    limit: number,
    cursor?: string,
  ): Promise<EventPage>;
  /** Removes a published outbox entry; removing a missing one is no error. */
  deleteOutboxEntry(
    owner: OutboxOwner | string,
    eventId: string,
  ): Promise<void>;
  /**
   * Removes published outbox entries, of leads or accounts, in as few
   * requests as the store allows; removing a missing one is no error.
   * Entries removed before a failed request stay removed.
   */
  deleteOutboxEntries(events: readonly OutgoingEvent[]): Promise<void>;
  /** Returns an account's state and members, read strongly consistent. */
  getAccount(accountId: string): Promise<AccountSnapshot>;
  /**
   * Returns the link of an email-domain account to a group's account,
   * read strongly consistent, or undefined when it has none.
   */
  getAccountLink(accountId: string): Promise<AccountLink | undefined>;
  /**
   * Points the link of the email-domain account `accountId` at the group
   * account `linkedTo`, or deletes it when `linkedTo` is undefined, and
   * deletes the records of `staleGroups`. Does nothing and returns false
   * when the link was written again after `link` was read.
   */
  replaceAccountLink(
    accountId: string,
    link: AccountLink,
    linkedTo: string | undefined,
    staleGroups: readonly string[],
  ): Promise<boolean>;
  /**
   * Writes an account change in one transaction. Raises
   * VersionConflictError when another writer changed the account first.
   */
  saveAccountChange(change: AccountChange): Promise<void>;
  /**
   * Deletes an account's state item if it still has `expectedVersion`,
   * and leaves its member, link and outbox items. Raises
   * VersionConflictError when another writer changed or deleted it.
   */
  deleteAccountState(accountId: string, expectedVersion: number): Promise<void>;
  /**
   * Lists a lead's history, newest first, at most `limit` per page. The
   * cursor is undefined when no entry follows the page. Cursors name no
   * lead. With `cursorKey` (the lead's incarnationId) a
   * cursor carries a hash of it and the lead id, so a cursor returned
   * for one lead is rejected for another. Raises InvalidCursorError for a
   * cursor this call did not return for this lead.
   */
  listHistory(
    leadId: string,
    limit: number,
    cursor?: string,
    cursorKey?: string,
  ): Promise<HistoryPage>;
  /** Lists a lead's outbox entries that are not published yet. */
  listOutbox(leadId: string): Promise<OutgoingEvent[]>;
  /**
   * Lists a lead's outbox entries that are not published yet, with their
   * status, attempts and due time, read strongly consistent.
   */
  listOutboxEntries(leadId: string): Promise<OutboxEntry[]>;
  /** Stores an outbox entry on its own, for events of no lead change. */
  putOutboxEntry(event: OutgoingEvent): Promise<void>;
  /**
   * Returns the ids of the leads merged into a lead, from the identity
   * link items under it.
   */
  listMergedLeadIds(leadId: string): Promise<string[]>;

  /**
   * Deletes every item of a lead except its state and its identity link
   * items: events and their message markers, history, outbox entries and
   * its membership item under its account. Reads and deletes them one
   * page at a time, so `options.mayContinue` can stop the call between
   * two requests. Each batch of deletes that starts is finished, with its
   * unprocessed items sent again, or raises CapacityExceededError when
   * they stay unprocessed.
   */
  deleteLeadData(
    leadId: string,
    options?: LeadDataDeleteOptions,
  ): Promise<LeadDataDeletion>;
  /**
   * Reserves a lead for its erasure: bumps its version, whatever it is,
   * and marks the state item so that no other lead change can be written
   * until the erasure deletes the lead or releases it. For `holdMs` no
   * other erasure can take the lead over. After that the lead is due for
   * the sweep, which finishes the erasure. Returns the state as held.
   * Raises VersionConflictError when the lead is gone, was stored again
   * since `state` was read (another createdAt), or the hold of another
   * erasure has not expired. A call's own hold does not block it, so the
   * SDK's retry of a call whose response was lost takes the hold again.
   */
  holdForErasure(state: LeadState, holdMs: number): Promise<LeadState>;
  /**
   * Ends the hold's time of an erasure that stops part-way on purpose,
   * such as at its deadline, and makes the lead due for the sweep at
   * once. The lead stays closed to other writers, and the next erasure
   * can take it over at once. Does nothing when the lead no longer has
   * the version of `heldLead`.
   */
  pauseErasure(heldLead: LeadState): Promise<void>;
  /**
   * Records on the held lead's state, before its erasure deletes a merged
   * lead, the SHA-256 of that lead's id, so that "Lead Erased" names it
   * even when another request finishes the erasure. Records at most
   * `maxRecorded` hashes, and past that only that some were left out.
   * Raises VersionConflictError when the lead no longer has the version
   * of `heldLead`.
   */
  recordErasedMergedLead(
    heldLead: LeadState,
    mergedLeadIdSha256: string,
    maxRecorded: number,
  ): Promise<void>;
  /**
   * Returns the hashes that recordErasedMergedLead stored for the lead,
   * read strongly consistent.
   */
  getErasedMergedLeads(leadId: string): Promise<ErasedMergedLeads>;
  /**
   * Makes an MQA account due for the sweep at `at` and bumps its version,
   * so that a check that read the account before fails its write and the
   * sweep evaluates the account even when its caller stops. Does nothing
   * for an account that is not an MQA: losing a member cannot qualify it.
   */
  markAccountDue(accountId: string, at: number): Promise<void>;
  /**
   * Ends the hold of an erasure that stops before deleting anything, so
   * the lead's writers can write it again, and restores its review time.
   * Does nothing when the lead no longer has the version of `heldLead`.
   */
  releaseErasureHold(heldLead: LeadState): Promise<void>;
  /**
   * Deletes a lead's state item if its version is still
   * `expectedVersion`; raises VersionConflictError otherwise.
   */
  deleteLeadState(leadId: string, expectedVersion: number): Promise<void>;
  /**
   * Deletes a lead's state if its version is still `expectedVersion`,
   * and in the same transaction stores the outbox entry of `erased`, its
   * "Lead Erased" event. So only the request that deleted the state
   * stores the event. Raises VersionConflictError and
   * writes neither when the version differs or the state is gone.
   */
  deleteErasedLead(
    leadId: string,
    expectedVersion: number,
    erased: OutgoingEvent,
  ): Promise<void>;
  /**
   * Deletes the state of the merged lead `mergedLeadId` if its version is
   * still `expectedVersion`, and in the same transaction the identity link
   * item under `targetId` that names it. Raises VersionConflictError and
   * deletes neither when the version differs.
   */
  deleteTombstone(
    targetId: string,
    mergedLeadId: string,
    expectedVersion: number,
  ): Promise<void>;
  /** Deletes the identity link item under `targetId` that names `mergedLeadId`. */
  deleteLink(targetId: string, mergedLeadId: string): Promise<void>;
  /** Lists the dispositions recorded in one month (`YYYY-MM`, UTC). */
  listOutcomes(month: string): Promise<OutcomeRecord[]>;
  /**
   * Makes an outbox entry due at `dueAt` when no publisher has claimed it
   * yet, which is how the request that stored it hands an entry it could
   * not publish to the sweep, before its grace period ends. A publisher
   * that claimed the entry passes the `claimedAt` of its claim. The entry
   * then keeps the due time of the claim's backoff but loses that claim
   * time, so an erasure need not wait for it. A later claim by another
   * publisher, which may still be sending the entry, stays. Returns false
   * when the entry is gone, failed or claimed.
   */
  releaseOutboxEntry(
    owner: OutboxOwner | string,
    eventId: string,
    dueAt: number,
    claimedAt?: number,
  ): Promise<boolean>;
  /**
   * Marks an outbox entry failed and takes it out of the sweep's review
   * index. Returns false when the entry no longer exists.
   */
  markOutboxFailed(
    owner: OutboxOwner | string,
    eventId: string,
    failure: OutboxFailure,
  ): Promise<boolean>;
  /** Lists failed outbox entries, oldest failure first, without a scan. */
  listFailedOutbox(limit: number, cursor?: string): Promise<OutboxPage>;
  /** Returns one outbox entry, read strongly consistent, or undefined. */
  getOutboxEntry(
    owner: OutboxOwner | string,
    eventId: string,
  ): Promise<OutboxEntry | undefined>;
  /**
   * Makes a failed outbox entry pending again, due at `dueAt` with its
   * attempts reset, in review shard 0, which every sweep reads whatever
   * its shard count. Returns false when the entry is missing or not
   * failed.
   */
  requeueOutboxEntry(
    owner: OutboxOwner | string,
    eventId: string,
    dueAt: number,
  ): Promise<boolean>;
  /** Number of shards of the review index. */
  readonly reviewShards: number;
  /**
   * Time in ms after an outbox entry is written before the sweep
   * publishes it, which leaves its writer time to publish it alone.
   */
  readonly outboxGraceMs: number;
  /** Lists due items of one shard, oldest first, up to `until`. */
  listDue(
    shard: number,
    until: number,
    limit: number,
    cursor?: string,
  ): Promise<DuePage>;
}

/** The lead changed since it was read; reload and try again. */
export class VersionConflictError extends Error {
  constructor(readonly leadId: string) {
    super(`Lead ${leadId} was changed by a concurrent writer.`);
    this.name = 'VersionConflictError';
  }
}

/** Some messages were stored by a concurrent request. */
export class DuplicateMessageError extends Error {
  constructor(readonly messageIds: string[]) {
    super(`${messageIds.length} message(s) were stored concurrently.`);
    this.name = 'DuplicateMessageError';
  }
}

/** A paging cursor that is malformed or belongs to another listing. */
export class InvalidCursorError extends Error {
  constructor() {
    super('The cursor is invalid.');
    this.name = 'InvalidCursorError';
  }
}
