import { canonicalJson, sha256Hex } from '../domain/canonical-json.js';
import {
  CapacityExceededError,
  ConcurrencyError,
  NotFoundError,
} from '../domain/errors.js';
import { MAX_ERASED_MERGED_LEADS } from '../domain/event-contract.js';
import { displayText } from '../domain/id-text.js';
import { requestedLeadId } from '../domain/identity.js';
import { incarnationOf, type LeadState } from '../domain/lead.js';
import {
  DETAIL_SCHEMA_VERSION,
  LEAD_ERASED,
  type OutgoingEvent,
} from '../domain/outgoing-events.js';
import { toIso } from '../domain/time.js';
import {
  type ErasedMergedLeads,
  type OutboxEntry,
  VersionConflictError,
} from '../ports/lead-repository.js';
import { settleDomainLink } from './account-links.js';
import { checkAccounts } from './check-accounts.js';
import { mapWithConcurrency, sleepWithJitter } from './concurrency.js';
import type { ScoringDependencies } from './dependencies.js';
import { resolveLeadId } from './link-identities.js';
import {
  type PublishSummary,
  publishEvents,
  publishEventsWithOutcome,
} from './publish-events.js';
import { MAX_REDIRECTS } from './update-lead.js';

const MAX_ATTEMPTS = 5;
/**
 * Duration of an erasure's hold on a lead, during which no other erasure
 * can take the lead over. Other writers wait until the erasure ends,
 * however long it takes. After this time a repeated request or the sweep
 * finishes an erasure that stopped.
 */
export const ERASURE_HOLD_MS = 30_000;
const MAX_BACKOFF_MS = 250;
/**
 * Reads of the outbox while requests that wrote entries to it may still
 * be publishing them: up to about two seconds with the backoff below.
 */
const WRITER_PUBLISH_POLLS = 12;
/**
 * Time after which the sweep publishes an entry that the erasure claimed
 * but could not publish, as after the sweep's own first failed attempt.
 */
const CLAIMED_ENTRY_RETRY_MS = 30_000;
/**
 * Merged leads deleted at once. Each takes about four DynamoDB calls one
 * after another, so one at a time a lead with thousands of them would
 * need many requests.
 */
const MERGED_LEAD_CONCURRENCY = 8;

/** Options of one erasure request. */
export interface ErasureOptions {
  /**
   * Time by the dependencies' clock, epoch ms, after which the request
   * sends no further delete: it stops between two pages of a lead's items
   * or before a merged lead. It then leaves the lead closed to other
   * writers and raises ErasurePausedError, and a repeated request or the
   * sweep continues where it stopped.
   */
  deadline?: number;
}

/** Raised inside an erasure that reached its deadline. */
class ErasureDeadlineError extends Error {
  constructor(readonly deleted: number) {
    super('The erasure reached its deadline.');
  }
}

/**
 * An erasure that stopped at its deadline, with the lead still closed to
 * other writers. Repeating the request continues it.
 */
export class ErasurePausedError extends ConcurrencyError {
  constructor(
    requestedId: string,
    readonly itemsDeleted: number,
  ) {
    super(
      `The erasure of lead ${requestedId} is not finished: it deleted ${itemsDeleted} item(s) before its time ran out. Repeat the request to continue it.`,
    );
  }
}

/**
 * Counts of an erasure. Only `requestedLeadId`, an id the caller sent,
 * can be personal data, and it goes to the caller only.
 */
export interface ErasureResult {
  /** SHA-256 of the erased lead id, as "Lead Erased" carries it. */
  leadIdSha256: string;
  itemsDeleted: number;
  /** Accounts the lead belonged to, evaluated again without it. */
  accountsUpdated: number;
  /**
   * The id requested, when it named a lead merged into the erased one,
   * such as an `anon:` id merged into an identified lead.
   */
  requestedLeadId?: string;
}

/** An erasure's result and the id of the lead it erased. */
export interface Erasure {
  /** The erased lead, which differs from the id requested after a merge. */
  leadId: string;
  result: ErasureResult;
  /** Counts of publishing "Lead Erased" and the account events after it. */
  events: PublishSummary;
}

/**
 * Erases a lead: every item of it and of the leads merged into it
 * (state, events and their message markers, history, identity links,
 * membership under its account), once its pending outbox entries are
 * published. Its account is evaluated again without it, and "Lead Erased"
 * names the lead and the leads merged into it only by the SHA-256 of
 * their ids. Dispositions kept for the conversion report name no lead
 * and stay. An id merged into another lead, such as an `anon:` id after
 * identify, erases that whole lead and the result names the id requested.
 * Raises NotFoundError for an unknown lead, CapacityExceededError when
 * EventBridge throttled the publish of its outbox, and ConcurrencyError
 * when its outbox cannot be published yet for another reason, it keeps
 * changing or another erasure has it on hold. Raises ErasurePausedError,
 * a ConcurrencyError, when `options.deadline` passed before every item
 * was deleted. The request can then be retried, and a retry continues a
 * stopped erasure where it ended.
 */
export async function eraseLead(
  deps: ScoringDependencies,
  requestedId: string,
  options: ErasureOptions = {},
): Promise<Erasure> {
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  let leadId = await resolveLeadId(deps, requestedLeadId(requestedId));
  // The lead's state as this erasure's hold left it. Until the erasure
  // ends no other writer can change the lead, so the items deleted are
  // all it has. A retry after a tombstone conflict keeps the hold.
  let heldLead: LeadState | undefined;
  let resumed = false;
  // Whether the last conflict was another erasure's hold on the lead.
  let heldByOther = false;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    let erased: OutgoingEvent;
    let accountsLeft: string[];
    try {
      if (heldLead === undefined) {
        const state = await deps.repository.getLead(leadId);
        if (state?.mergedInto !== undefined) {
          // A merge turned the lead into a tombstone after resolveLeadId
          // read it, so the erasure follows the tombstone's link.
          leadId = await resolveLeadId(deps, state.mergedInto);
          continue;
        }
        if (state === undefined) {
          throw await missingLeadError(deps, requestedId);
        }
        // A lead still held by an erasure that stopped may have lost
        // items already, so this request never opens it to writers again.
        resumed = state.erasureHeldUntil !== undefined;
        const held = await deps.repository.holdForErasure(
          state,
          ERASURE_HOLD_MS,
        );
        if (held.mergedInto !== undefined) {
          // The hold does not check the version, so it can land on a
          // tombstone that a merge wrote after the read above.
          await deps.repository.releaseErasureHold(held);
          leadId = await resolveLeadId(deps, held.mergedInto);
          continue;
        }
        heldLead = held;
      }
      await publishPendingOrRelease(deps, heldLead, resumed);
      // Should this request stop after the deletes, the sweep evaluates
      // the accounts without the lead; a retry finds no lead to erase.
      for (const accountId of accountsOf(heldLead)) {
        await deps.repository.markAccountDue(accountId, deps.clock());
      }
      const deletion = await deleteLinkedLeads(deps, heldLead, deadline);
      const deleted = deletion.deleted;
      accountsLeft = deletion.accountsLeft;
      // The link is settled while the held state still names the domain,
      // so a request that stops before the state's delete leaves it to
      // the retry or the sweep, which finish the erasure.
      await settleErasedLink(deps, heldLead);
      erased = erasedEvent(
        heldLead,
        await deps.repository.getErasedMergedLeads(heldLead.leadId),
        deleted + 1,
        accountsOf(heldLead).length,
        deps.clock(),
      );
      // The event is stored with the state's delete, so only the request
      // that deleted the lead announces it.
      await deps.repository.deleteErasedLead(
        heldLead.leadId,
        heldLead.version,
        erased,
      );
    } catch (error) {
      if (error instanceof ErasureDeadlineError && heldLead !== undefined) {
        await deps.repository.pauseErasure(heldLead);
        deps.log.info('lead erasure paused at its deadline', {
          itemsDeleted: error.deleted,
        });
        throw new ErasurePausedError(requestedId, error.deleted);
      }
      if (!(error instanceof VersionConflictError)) throw error;
      if (heldLead === undefined) {
        // Before this request has its hold, a conflict can come only from
        // taking the hold, which fails mostly when another erasure has it.
        heldByOther = await heldByAnotherErasure(deps, leadId);
      } else {
        heldByOther = false;
        if (!(await stillHeld(deps, heldLead))) heldLead = undefined;
      }
      await sleepWithJitter(Math.min(MAX_BACKOFF_MS, 10 * 2 ** attempt));
      continue;
    }
    return announceErasure(
      deps,
      requestedId,
      leadId,
      erased,
      heldLead,
      accountsLeft,
    );
  }
  if (heldByOther) {
    throw new ConcurrencyError(
      `Another erasure of lead ${requestedId} is in progress, so this request did not start one. Retry the request after that erasure ends.`,
    );
  }
  throw new ConcurrencyError(
    `Lead ${requestedId} kept changing during erasure; retry the request.`,
  );
}

/** Tells whether an erasure's hold on the lead has not yet run out. */
async function heldByAnotherErasure(
  deps: ScoringDependencies,
  leadId: string,
): Promise<boolean> {
  const state = await deps.repository.getLead(leadId);
  const heldUntil = state?.erasureHeldUntil;
  return heldUntil !== undefined && heldUntil > deps.clock();
}

/**
 * Returns the error for a lead that has no state: NotFoundError, or
 * ConcurrencyError while a merge of the requested id is still moving its
 * events to a lead that the merge has not created yet.
 */
async function missingLeadError(
  deps: ScoringDependencies,
  requestedId: string,
): Promise<Error> {
  let current: string | undefined = requestedLeadId(requestedId);
  for (let step = 0; step < MAX_REDIRECTS && current !== undefined; step += 1) {
    const state = await deps.repository.getLead(current);
    if (state?.mergePending === true) {
      return new ConcurrencyError(
        `Lead ${requestedId} is being merged into another lead, so it was not erased; retry the request.`,
      );
    }
    current = state?.mergedInto;
  }
  return new NotFoundError(`Lead ${displayText(requestedId)} was not found.`);
}

function accountsOf(state: LeadState): string[] {
  return state.membership ? [state.membership.accountId] : [];
}

/**
 * Tells whether the lead still has the version its hold gave it. Only
 * another erasure can change it, once the hold's time has passed.
 */
async function stillHeld(
  deps: ScoringDependencies,
  heldLead: LeadState,
): Promise<boolean> {
  const current = await deps.repository.getLead(heldLead.leadId);
  return current?.version === heldLead.version;
}

/**
 * Settles the email-domain link that the held lead made, once its
 * membership item is deleted, so its group no longer counts it there.
 * Safe to repeat, because settleDomainLink leaves a settled link as it is.
 */
async function settleErasedLink(
  deps: ScoringDependencies,
  heldLead: LeadState,
): Promise<void> {
  const linkedAccountId = heldLead.membership?.linkedAccountId;
  if (linkedAccountId === undefined) return;
  await settleDomainLink(deps, linkedAccountId, heldLead.membership?.accountId);
}

/**
 * Evaluates the lead's accounts again without it, publishes "Lead
 * Erased" with their events and returns the erasure's result. The
 * accounts include the email-domain account that the lead linked, whose
 * read follows the settled link to the account that its leads count in
 * now, and `accountsLeft`, those of merged leads whose merge had not
 * checked them yet.
 */
async function announceErasure(
  deps: ScoringDependencies,
  requestedId: string,
  leadId: string,
  erased: OutgoingEvent,
  heldLead: LeadState,
  accountsLeft: readonly string[],
): Promise<Erasure> {
  // NOTE: a request that stops after the state's delete and before this
  // check leaves the accounts unchecked, because a repeated request finds
  // no lead. The sweep checks the lead's own account only when it is an
  // MQA, which the erasure made due before its deletes.
  const linkedAccountId = heldLead.membership?.linkedAccountId;
  const accountEvents = await checkAccounts(
    deps,
    [
      ...accountsOf(heldLead),
      ...(linkedAccountId === undefined ? [] : [linkedAccountId]),
      ...accountsLeft,
    ],
    erased.createdAt,
  );
  const events = await publishEvents(deps, [erased, ...accountEvents]);
  const { leadIdSha256, itemsDeleted, accountsUpdated } =
    erased.detail as ErasureResult;
  deps.log.info('lead erased', { itemsDeleted, eventId: erased.eventId });
  const merged = leadId !== requestedLeadId(requestedId);
  return {
    leadId,
    result: {
      leadIdSha256,
      itemsDeleted,
      accountsUpdated,
      ...(merged ? { requestedLeadId: requestedId } : {}),
    },
    events,
  };
}

/**
 * Publishes the held lead's outbox. When that fails and nothing is
 * deleted yet, the hold ends at once instead of making the lead's
 * ingest, dispositions and merges wait for a retry. An erasure that
 * `resumed` one that stopped part-way only ends the hold's time, so the
 * lead stays closed to writers until a retry or the sweep finishes it.
 */
async function publishPendingOrRelease(
  deps: ScoringDependencies,
  heldLead: LeadState,
  resumed: boolean,
): Promise<void> {
  try {
    await publishPending(deps, heldLead.leadId);
  } catch (error) {
    // A version conflict is retried under the same hold.
    if (!(error instanceof VersionConflictError)) {
      await (resumed
        ? deps.repository.pauseErasure(heldLead)
        : deps.repository.releaseErasureHold(heldLead));
    }
    throw error;
  }
}

/**
 * Publishes the lead's outbox, so no event of it is lost by erasure. An
 * event the bus rejects for good (a failed entry) is erased with the
 * lead instead, because it names the lead and can never be delivered.
 * Raises CapacityExceededError when the bus throttled an event that is
 * still pending, and ConcurrencyError when one is pending for another
 * reason.
 */
async function publishPending(
  deps: ScoringDependencies,
  leadId: string,
): Promise<void> {
  const entries = await entriesLeftByWriters(deps, leadId);
  const pending: OutgoingEvent[] = [];
  let claimsLost = 0;
  const claimedAt = deps.clock();
  for (const entry of entries) {
    let dueAt = entry.dueAt ?? 0;
    let attempts = entry.attempts;
    if (entry.status === 'failed') {
      // Making the entry pending first fails when `npm run outbox --
      // retry` took it up since the read, so only one of them sends it.
      dueAt = deps.clock() + CLAIMED_ENTRY_RETRY_MS;
      const requeued = await deps.repository.requeueOutboxEntry(
        leadId,
        entry.event.eventId,
        dueAt,
      );
      if (!requeued) {
        claimsLost += 1;
        continue;
      }
      attempts = 0;
    }
    // The claim keeps a sweep from publishing the entry at the same time.
    const claimed = await deps.repository.claimOutboxEntry(
      leadId,
      entry.event.eventId,
      {
        dueAt,
        attempts: attempts + 1,
        retryAt: deps.clock() + CLAIMED_ENTRY_RETRY_MS,
        claimedAt,
      },
    );
    if (claimed === undefined) {
      claimsLost += 1;
    } else {
      pending.push(claimed);
    }
  }
  const { summary: result, throttled } = await publishEventsWithOutcome(
    deps,
    pending,
    { claimedAt },
  );
  const retryable =
    result.pending -
    result.failed +
    (claimsLost === 0
      ? 0
      : await countPublishedElsewhere(deps, leadId, pending));
  if (retryable > 0 && throttled) {
    throw new CapacityExceededError({ service: 'EventBridge' });
  }
  if (retryable > 0) {
    throw new ConcurrencyError(
      `${retryable} event(s) of the lead could not be published yet, so it was not erased; retry the request.`,
    );
  }
  if (result.failed > 0) {
    deps.log.warn('rejected events erased with the lead', {
      events: result.failed,
    });
  }
}

/**
 * Counts the lead's pending outbox entries other than `claimed`: entries
 * that another publisher claimed first and has not removed yet.
 */
async function countPublishedElsewhere(
  deps: ScoringDependencies,
  leadId: string,
  claimed: readonly OutgoingEvent[],
): Promise<number> {
  const ids = new Set(claimed.map((event) => event.eventId));
  const entries = await deps.repository.listOutboxEntries(leadId);
  return entries.filter(
    (entry) => entry.status === 'pending' && !ids.has(entry.event.eventId),
  ).length;
}

/**
 * Lists the lead's outbox once the requests that wrote its entries have
 * published them. A request publishes the entries it committed right
 * after its write, without claiming them, and makes the ones that the bus
 * did not accept due at once. So an entry not yet due and never
 * attempted belongs to a request that may still be publishing it, and
 * publishing it here too would send it twice. So does an entry that a
 * sweep claimed less than the outbox grace period ago and has not made
 * pending again. Raises ConcurrencyError when such entries are still
 * there after up to about two seconds. The sweep publishes them once
 * their grace period ends, should their request have stopped.
 */
async function entriesLeftByWriters(
  deps: ScoringDependencies,
  leadId: string,
): Promise<OutboxEntry[]> {
  for (let poll = 1; ; poll += 1) {
    const entries = await deps.repository.listOutboxEntries(leadId);
    const now = deps.clock();
    const inFlight = entries.filter(
      (entry) =>
        entry.status === 'pending' &&
        ((entry.attempts === 0 && (entry.dueAt ?? 0) > now) ||
          (entry.claimedAt !== undefined &&
            entry.claimedAt + deps.repository.outboxGraceMs > now)),
    );
    if (inFlight.length === 0) return entries;
    if (poll >= WRITER_PUBLISH_POLLS) {
      throw new ConcurrencyError(
        `${inFlight.length} event(s) of the lead are still being published by the request that stored them or by the sweep, so it was not erased; retry the request.`,
      );
    }
    await sleepWithJitter(Math.min(MAX_BACKOFF_MS, 10 * 2 ** poll));
  }
}

/**
 * Deletes every item but the state of the lead and of the leads merged
 * into it, then the states of the merged leads (tombstones). A linked
 * lead that is not merged is kept. Returns the number of items deleted
 * and the accounts that deleted tombstones listed in `accountsLeft`.
 * Raises ErasureDeadlineError between two pages of a lead's items or
 * before a merged lead once `deadline` has passed.
 */
async function deleteLinkedLeads(
  deps: ScoringDependencies,
  heldLead: LeadState,
  deadline: number,
): Promise<{ deleted: number; accountsLeft: string[] }> {
  const progress: ErasureProgress = {
    heldLead,
    seen: new Set([heldLead.leadId]),
    deleted: 0,
    deadline,
    accountsLeft: new Set(),
  };
  await deleteLeadAndMerged(deps, heldLead.leadId, progress);
  return {
    deleted: progress.deleted,
    accountsLeft: [...progress.accountsLeft],
  };
}

/** Progress of one request's erasure: the leads followed, items deleted. */
interface ErasureProgress {
  /** The erased lead, as this request's hold left it. */
  heldLead: LeadState;
  /** Leads whose items this request has deleted or is deleting. */
  seen: Set<string>;
  deleted: number;
  deadline: number;
  /**
   * Accounts of merged leads whose merge stopped before checking them,
   * which the erasure checks in its place.
   */
  accountsLeft: Set<string>;
}

/**
 * Deletes the items of `leadId` but its state, and through its link items
 * the leads merged into it. Each tombstone goes in one transaction with
 * the link item that names it, and only after the leads merged into it.
 * So when a tombstone's delete fails on a concurrent write of it, such as
 * the completion of its merge, or the request stops, every tombstone not
 * deleted yet is still linked from the erased lead, and the erasure's
 * retry finds it again.
 */
async function deleteLeadAndMerged(
  deps: ScoringDependencies,
  leadId: string,
  progress: ErasureProgress,
): Promise<void> {
  const result = await deps.repository.deleteLeadData(leadId, {
    mayContinue: () => deps.clock() < progress.deadline,
  });
  progress.deleted += result.deleted;
  if (!result.finished) throw new ErasureDeadlineError(progress.deleted);
  await mapWithConcurrency(
    result.linkedLeadIds,
    MERGED_LEAD_CONCURRENCY,
    async (mergedId) => {
      if (deps.clock() >= progress.deadline) {
        throw new ErasureDeadlineError(progress.deleted);
      }
      await deleteMergedLead(deps, leadId, mergedId, progress);
    },
  );
}

async function deleteMergedLead(
  deps: ScoringDependencies,
  targetId: string,
  mergedId: string,
  progress: ErasureProgress,
): Promise<void> {
  // A second link to a lead that this erasure already follows, such as
  // the link that a repoint leaves under the tombstone's earlier target,
  // is deleted without the tombstone.
  if (progress.seen.has(mergedId)) {
    await deps.repository.deleteLink(targetId, mergedId);
    progress.deleted += 1;
    return;
  }
  progress.seen.add(mergedId);
  if (await isLiveLead(deps, mergedId)) {
    // A stale link item can name a lead stored again under the id of
    // an erased tombstone, which is no part of this lead. Earlier
    // versions could leave such items, because every write of a
    // tombstone put its link again.
    deps.log.warn('linked lead not erased because it is not merged');
    await deps.repository.deleteLink(targetId, mergedId);
    progress.deleted += 1;
    return;
  }
  // The merged lead's events that are not published yet, such as the
  // "Lead Recycled" that ended its episode at the merge, go out before its
  // outbox is deleted.
  await publishMergedPending(deps, progress.heldLead, mergedId);
  // The hash is stored before the merged lead's items are deleted, so the
  // request that finishes a stopped erasure still names this lead.
  await deps.repository.recordErasedMergedLead(
    progress.heldLead,
    sha256Hex(mergedId),
    MAX_ERASED_MERGED_LEADS,
  );
  await deleteLeadAndMerged(deps, mergedId, progress);
  const tombstone = await deps.repository.getLead(mergedId);
  if (tombstone === undefined || tombstone.mergedInto === undefined) {
    // Another erasure deleted the tombstone, or the id was stored again
    // as a live lead since the check above, and this erasure keeps it.
    await deps.repository.deleteLink(targetId, mergedId);
    progress.deleted += 1;
    return;
  }
  // The tombstone is the only record of the accounts its merge still had
  // to check. Marked due before its delete, an MQA among them is left to
  // the sweep should this request stop before announceErasure checks it.
  for (const accountId of tombstone.accountsLeft ?? []) {
    await deps.repository.markAccountDue(accountId, deps.clock());
    progress.accountsLeft.add(accountId);
  }
  await deps.repository.deleteTombstone(targetId, mergedId, tombstone.version);
  progress.deleted += 2;
}

/**
 * Publishes the outbox of a lead merged into the held one. When that
 * fails, other items may be deleted already, so the hold's time ends but
 * the lead stays closed to writers, and a retry or the sweep continues.
 */
async function publishMergedPending(
  deps: ScoringDependencies,
  heldLead: LeadState,
  mergedId: string,
): Promise<void> {
  try {
    await publishPending(deps, mergedId);
  } catch (error) {
    if (!(error instanceof VersionConflictError)) {
      await deps.repository.pauseErasure(heldLead);
    }
    throw error;
  }
}

async function isLiveLead(
  deps: ScoringDependencies,
  leadId: string,
): Promise<boolean> {
  const state = await deps.repository.getLead(leadId);
  return state !== undefined && state.mergedInto === undefined;
}

/**
 * Builds "Lead Erased", naming the merged leads that the erasure deleted
 * by their hashes. Its id includes the lead's incarnation (see
 * incarnationOf), so erasing a lead stored again under the same id
 * publishes a new id that consumers do not drop as a repeat.
 */
function erasedEvent(
  lead: LeadState,
  merged: ErasedMergedLeads,
  itemsDeleted: number,
  accountsUpdated: number,
  now: number,
): OutgoingEvent {
  const leadIdSha256 = sha256Hex(lead.leadId);
  const eventId = sha256Hex(
    canonicalJson(['erased', leadIdSha256, incarnationOf(lead) ?? null]),
  ).slice(0, 32);
  return {
    eventId,
    leadId: `erased:${leadIdSha256}`,
    detailType: LEAD_ERASED,
    createdAt: now,
    detail: {
      schemaVersion: DETAIL_SCHEMA_VERSION,
      eventId,
      leadIdSha256,
      mergedLeadIdSha256s: merged.leadIdSha256s,
      mergedLeadIdSha256sTruncated: merged.omitted,
      occurredAt: toIso(now),
      itemsDeleted,
      accountsUpdated,
    },
  };
}
