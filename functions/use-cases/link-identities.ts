import { newOutcomeSalt } from '../domain/disposition.js';
import { ConcurrencyError } from '../domain/errors.js';
import {
  type HistoryEntry,
  historyEntry,
  historyFields,
  writeHistory,
} from '../domain/history.js';
import type { IdentityLink } from '../domain/identity.js';
import {
  incarnationOf,
  type LeadState,
  newIncarnationId,
  newLead,
} from '../domain/lead.js';
import {
  absorbQualification,
  completedTombstone,
  type Tombstone,
  tombstoneOf,
} from '../domain/merge.js';
import type { ScoringModel } from '../domain/model.js';
import {
  type OutgoingEvent,
  transitionEvent,
} from '../domain/outgoing-events.js';
import { catchUpReviews, evaluateLead } from '../domain/qualification.js';
import {
  type FollowedTombstone,
  type LeadChange,
  type MergeTargetChange,
  type StoredEvent,
  VersionConflictError,
} from '../ports/lead-repository.js';
import { checkAccounts } from './check-accounts.js';
import { sleepWithJitter } from './concurrency.js';
import type { ScoringDependencies } from './dependencies.js';
import { eventPersonalData } from './event-personal-data.js';
import {
  addSummaries,
  type PublishSummary,
  publishEvents,
} from './publish-events.js';
import {
  MAX_EVENTS_PER_WRITE,
  MAX_REDIRECTS,
  scoreNewEvents,
} from './update-lead.js';

/** Attempts of one conditional write before giving up under contention. */
const MAX_ATTEMPTS = 30;
const MAX_BACKOFF_MS = 250;
/**
 * Pages of events moved within one request. The sweep moves the rest, so
 * a long anonymous history cannot make a tracking request time out.
 */
const MAX_PAGES_PER_REQUEST = 20;
/** Attempts to point one merged lead at the end of its chain. */
const REPOINT_ATTEMPTS = 5;

/** What linking one identity did. */
export interface LinkOutcome {
  from: string;
  /** The lead the link points at, after following merged leads. */
  to: string;
  /**
   * `stored-message` when every message stating the link was stored
   * before, so a resent message links nothing.
   */
  status:
    | 'linked'
    | 'already-linked'
    | 'conflict'
    | 'same-lead'
    | 'stored-message';
  /** Events moved to `to` by this call. */
  movedEvents: number;
  /** Events this call published, or left in the outbox for the sweep. */
  events: LinkEvents;
  /**
   * For `already-linked`, the incarnation of `to` as read while resolving
   * the link. When the lead written later has another one, an erasure
   * deleted `to` together with the link in between (see relinkErased in ingest-messages.ts).
   */
  targetIncarnation?: string | number;
}

/** Lead and account events that linking caused, and their publishing. */
export interface LinkEvents {
  outgoing: OutgoingEvent[];
  summary: PublishSummary;
}

/** Returns an empty record of link events to add to. */
export function noLinkEvents(): LinkEvents {
  return { outgoing: [], summary: { published: 0, pending: 0, failed: 0 } };
}

/** Publishes committed events and adds them to `events`. */
async function publishLinkEvents(
  deps: ScoringDependencies,
  outgoing: readonly OutgoingEvent[],
  events: LinkEvents,
): Promise<void> {
  const summary = await publishEvents(deps, outgoing);
  events.outgoing.push(...outgoing);
  events.summary = addSummaries(events.summary, summary);
}

/**
 * Links each source lead to its target lead, one link at a time, in
 * order. See linkIdentity.
 */
export async function linkIdentities(
  deps: ScoringDependencies,
  links: readonly IdentityLink[],
  now: number,
  options: LinkOptions = {},
): Promise<LinkOutcome[]> {
  const outcomes: LinkOutcome[] = [];
  for (const link of links) {
    outcomes.push(await linkIdentity(deps, link, now, options));
  }
  return outcomes;
}

/** Options of linkIdentity. */
export interface LinkOptions {
  /**
   * Tells whether every message that states `link` is already stored. A
   * new merge is then left out, because a stored message linked its ids
   * when it was first stored, and a copy sent under other ids must change
   * nothing. Returns false for stored messages whose link an erasure
   * deleted, because that link is still owed.
   */
  isStoredLink?: (link: IdentityLink) => Promise<boolean>;
}

/**
 * Merges the lead `link.from` into `link.to`: `from` becomes a tombstone
 * that points at `to`, so later events of `from` count for `to`, and the
 * events already stored under `from` move to `to`, where they are scored
 * again with their own times. The tombstone's transaction also writes
 * `to`, creating it when it is not stored yet, with the qualification
 * history of `from` added (see absorbQualification). So a merged id never
 * points at a missing lead, and a merge never undoes a sales rejection.
 * When `to` is itself merged, the link goes to the end of its chain, and
 * the write fails unless the chain's last tombstone still points there.
 * So a link resolved before an erasure of that lead is resolved again,
 * after the erasure deleted the tombstone of `to`.
 * The first link of a lead wins: a lead that
 * already points elsewhere stays there and the call reports a conflict.
 * Safe to repeat and to run concurrently: every step is a conditional
 * write, and a repeated call finishes a merge an earlier one left.
 */
export async function linkIdentity(
  deps: ScoringDependencies,
  link: IdentityLink,
  now: number,
  options: LinkOptions = {},
): Promise<LinkOutcome> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    // Read again on each attempt, because a conflict can mean that the
    // target was merged into another lead, or erased, meanwhile.
    const {
      leadId: target,
      followed,
      state: targetState,
    } = await followLeadId(deps, link.to);
    if (target === link.from) {
      return outcome(link.from, target, 'same-lead', 0, noLinkEvents());
    }
    const source = await deps.repository.getLead(link.from);
    if (source?.mergedInto !== undefined) {
      const linked = await continueLinked(deps, source, target, now);
      if (linked.status !== 'already-linked' || targetState === undefined) {
        return linked;
      }
      return { ...linked, targetIncarnation: incarnationOf(targetState) };
    }
    if (followed?.leadId === link.from) {
      // The chain passed through `from` while it was merged, and an
      // erasure deleted its tombstone since. The transaction cannot both
      // check and write `from`, so the next attempt follows `to` again.
      await backOff(attempt);
      continue;
    }
    if (await options.isStoredLink?.(link)) {
      return outcome(link.from, target, 'stored-message', 0, noLinkEvents());
    }
    const tombstone = tombstoneOf(source, link.from, target, deps.model, now);
    const outgoing = tombstone.transitions.map((transition) =>
      transitionEvent(
        link.from,
        transition,
        deps.model,
        now,
        {},
        source === undefined ? undefined : incarnationOf(source),
      ),
    );
    const state = { ...tombstone.state, version: (source?.version ?? 0) + 1 };
    const history = reviewHistory(source, tombstone, state.version, deps.model);
    const storedTarget =
      source === undefined ? undefined : await deps.repository.getLead(target);
    if (storedTarget?.mergedInto !== undefined) {
      // The target was merged after it was resolved: resolve it again.
      await backOff(attempt);
      continue;
    }
    const targetWrite =
      source === undefined
        ? undefined
        : mergedTargetWrite(deps, target, storedTarget, source, tombstone, now);
    outgoing.push(...(targetWrite?.outgoing ?? []));
    try {
      await deps.repository.saveLeadChange({
        sourceId: 'identity',
        expectedVersion: source?.version ?? 0,
        state,
        ...(history === undefined ? {} : { history }),
        events: [],
        outgoing,
        mergeTarget: target,
        ...(targetWrite === undefined
          ? {}
          : { mergeTargetChange: targetWrite.change }),
        // An erasure of `target` deletes the tombstones merged into it
        // before its state. So this check fails for a target erased since
        // it was resolved, which the target check lets pass because no
        // lead is stored.
        ...(followed === undefined ? {} : { followedTombstone: followed }),
        ...(source?.membership === undefined
          ? {}
          : {
              membership: {
                remove: {
                  accountId: source.membership.accountId,
                  leadId: link.from,
                },
              },
            }),
      });
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      await backOff(attempt);
      continue;
    }
    const events = noLinkEvents();
    await publishLinkEvents(deps, outgoing, events);
    // The logger redacts email-shaped ids, as in every log line.
    deps.log.info('identity linked', {
      sourceLeadId: link.from,
      targetLeadId: target,
    });
    await repointMergedLeads(deps, link.from, target);
    const moved = state.mergePending
      ? await moveEvents(deps, state, now, events)
      : 0;
    return outcome(link.from, target, 'linked', moved, events);
  }
  throw new ConcurrencyError(
    'A lead kept changing while it was merged; retry the request.',
  );
}

/**
 * Evaluates again the accounts that the tombstone lists in
 * `accountsLeft`: the account of the merged lead, whose membership item
 * the tombstone's transaction deleted, and the email-domain account that
 * the lead linked to its group. The lead's fit, intent and role no longer
 * count there, which can end an episode or leave the account without
 * leads. Runs after the moved events, so a target that links the same
 * domain has written the link again by then. The merge is marked
 * complete only after this check, so a request that stops before it
 * leaves the merge pending, and a repeated link or the sweep checks the
 * accounts.
 */
async function checkAccountsLeft(
  deps: ScoringDependencies,
  tombstone: LeadState,
  now: number,
  events: LinkEvents,
): Promise<void> {
  const accountIds = tombstone.accountsLeft ?? [];
  if (accountIds.length === 0) return;
  const accountEvents = await checkAccounts(deps, accountIds, now);
  await publishLinkEvents(deps, accountEvents, events);
}

/**
 * Builds the history entry of the reviews due before a merge, as one
 * sweep at the last of them would have written it. Returns undefined when
 * no review was due or the reviews changed neither score nor status. The
 * merge's own recycle adds no entry.
 */
function reviewHistory(
  source: LeadState | undefined,
  tombstone: Tombstone,
  version: number,
  model: ScoringModel,
): HistoryEntry | undefined {
  const { reviewed } = tombstone;
  if (source === undefined || reviewed === undefined) return undefined;
  return historyEntry(
    source,
    { ...reviewed.state, version },
    reviewed.score,
    model,
    'sweep',
    0,
  );
}

/**
 * Returns the write of a merge's target in the tombstone's transaction:
 * the target with the merged lead's qualification history added (see
 * absorbQualification), or a new lead that contains only that history
 * when the target is not stored yet. The new lead's events arrive with
 * the moved pages. Reviews of the target that fell due run first, as at
 * ingest. Returns undefined for a stored target when the merged lead
 * never qualified, because nothing of the target changes then.
 */
function mergedTargetWrite(
  deps: ScoringDependencies,
  targetId: string,
  stored: LeadState | undefined,
  source: LeadState,
  tombstone: Tombstone,
  now: number,
): { change: MergeTargetChange; outgoing: OutgoingEvent[] } | undefined {
  const { model } = deps;
  if (stored !== undefined && tombstone.state.episode === 0) return undefined;

  const before =
    stored ??
    newLead(
      targetId,
      model,
      source.firstSeenAt,
      now,
      newOutcomeSalt(),
      newIncarnationId(),
    );

  const caughtUp = catchUpReviews(before, model, now);
  // A copy, taken before the evaluation changes the reviewed state.
  const reviewed =
    caughtUp.score === undefined
      ? undefined
      : { state: { ...caughtUp.state }, score: caughtUp.score };
  const evaluation = evaluateLead(
    absorbQualification(caughtUp.state, tombstone),
    model,
    now,
  );
  const history = writeHistory(
    stored,
    reviewed,
    evaluation.state,
    evaluation.score,
    model,
    'merge',
    0,
  );

  const personal = eventPersonalData(deps, evaluation.state);
  const outgoing = [...caughtUp.transitions, ...evaluation.transitions].map(
    (transition) =>
      transitionEvent(
        targetId,
        transition,
        model,
        now,
        personal,
        incarnationOf(evaluation.state),
      ),
  );
  // NOTE: the target's membership item keeps its old status until the
  // first moved page, written right after this, updates it.
  return {
    change: {
      expectedVersion: before.version,
      state: { ...evaluation.state, version: history.version },
      ...historyFields(history),
    },
    outgoing,
  };
}

async function continueLinked(
  deps: ScoringDependencies,
  source: LeadState,
  target: string,
  now: number,
): Promise<LinkOutcome> {
  const linkedTo = await resolveLeadId(deps, source.mergedInto ?? target);
  if (linkedTo !== target) {
    if (isNewConflict(source.leadId, linkedTo, target, now)) {
      deps.log.warn('identity link conflict', {
        ...logFields(source.leadId),
        linkedLeadId: linkedTo,
        requestedLeadId: target,
      });
    }
    return outcome(source.leadId, linkedTo, 'conflict', 0, noLinkEvents());
  }
  if (!source.mergePending) {
    return outcome(
      source.leadId,
      linkedTo,
      'already-linked',
      0,
      noLinkEvents(),
    );
  }
  // A merge left unfinished may also have left its merged leads pointing
  // at the source. Finished merges skip this read, because most requests
  // of an identified visitor restate the link.
  await repointMergedLeads(deps, source.leadId, linkedTo);
  const events = noLinkEvents();
  const moved = await moveEvents(deps, source, now, events);
  return outcome(source.leadId, linkedTo, 'already-linked', moved, events);
}

/** Time for which one function instance logs a link conflict once. */
const CONFLICT_LOG_INTERVAL_MS = 60 * 60 * 1000;
/** Conflicts that one function instance remembers having logged. */
const MAX_LOGGED_CONFLICTS = 1_000;
/** Time each remembered conflict was last logged, oldest first. */
const loggedConflicts = new Map<string, number>();

/**
 * Tells whether a link conflict should be logged at `now`: when this
 * function instance has not logged it within the last hour. Every
 * message of a second user on a shared browser restates the conflicting
 * link, so logging each one would add a warning per page view.
 */
function isNewConflict(
  from: string,
  linkedTo: string,
  requested: string,
  now: number,
): boolean {
  const key = JSON.stringify([from, linkedTo, requested]);
  const loggedAt = loggedConflicts.get(key);
  if (loggedAt !== undefined && now - loggedAt < CONFLICT_LOG_INTERVAL_MS) {
    return false;
  }
  loggedConflicts.delete(key);
  loggedConflicts.set(key, now);
  if (loggedConflicts.size > MAX_LOGGED_CONFLICTS) {
    const oldest = loggedConflicts.keys().next().value;
    if (oldest !== undefined) loggedConflicts.delete(oldest);
  }
  return true;
}

/**
 * Points the tombstones of leads merged into `from` at `target`, the lead
 * that `from` now merges into. Otherwise each alias of a renamed user
 * would add a link to the chain that ingest follows, and ingest fails
 * beyond MAX_REDIRECTS links. A tombstone that keeps changing keeps
 * pointing at `from`, which still leads to `target`. A repeated link of
 * `from` retries it only while the merge of `from` is unfinished.
 */
async function repointMergedLeads(
  deps: ScoringDependencies,
  from: string,
  target: string,
): Promise<void> {
  for (const mergedId of await deps.repository.listMergedLeadIds(from)) {
    if (mergedId === target) continue;
    await repointTombstone(deps, mergedId, from, target);
  }
}

async function repointTombstone(
  deps: ScoringDependencies,
  leadId: string,
  from: string,
  target: string,
): Promise<void> {
  for (let attempt = 1; attempt <= REPOINT_ATTEMPTS; attempt += 1) {
    const tombstone = await deps.repository.getLead(leadId);
    if (tombstone?.mergedInto !== from) return;
    try {
      await deps.repository.saveLeadChange({
        sourceId: 'identity',
        expectedVersion: tombstone.version,
        state: {
          ...tombstone,
          mergedInto: target,
          version: tombstone.version + 1,
        },
        events: [],
        outgoing: [],
        mergeTarget: target,
      });
      return;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      await backOff(attempt);
    }
  }
  deps.log.warn('merged lead not repointed', logFields(leadId));
}

/**
 * Returns the lead an id stands for now: the id itself, or the end of its
 * chain of merged leads.
 */
export async function resolveLeadId(
  deps: ScoringDependencies,
  leadId: string,
): Promise<string> {
  return (await followLeadId(deps, leadId)).leadId;
}

/**
 * Follows the chain of merged leads from `leadId` as resolveLeadId does.
 * Returns the lead at its end, its state as read (undefined when it is
 * not stored, or when the chain is longer than MAX_REDIRECTS) and the
 * last tombstone followed, which is undefined when `leadId` is not
 * merged.
 */
async function followLeadId(
  deps: ScoringDependencies,
  leadId: string,
): Promise<{
  leadId: string;
  followed: FollowedTombstone | undefined;
  state: LeadState | undefined;
}> {
  let current = leadId;
  let followed: FollowedTombstone | undefined;
  for (let step = 0; step < MAX_REDIRECTS; step += 1) {
    const state = await deps.repository.getLead(current);
    if (state?.mergedInto === undefined) {
      return { leadId: current, followed, state };
    }
    followed = { leadId: current, mergedInto: state.mergedInto };
    current = state.mergedInto;
  }
  return { leadId: current, followed, state: undefined };
}

/**
 * Moves the stored events of a merged lead to the lead its tombstone
 * points at, a page per transaction. Once none are left, it checks the
 * accounts that the tombstone lists (checkAccountsLeft) and then marks
 * the merge complete. Returns the number of events moved, and adds the
 * lead and account events the moves caused to `events`. Stops after
 * MAX_PAGES_PER_REQUEST pages, and the sweep resumes at the tombstone's
 * review time. Stops too, after the same account check, once the lead is
 * no longer the incarnation of `tombstone`, because an erasure deleted
 * it: events stored under its id from then on belong to a new lead.
 */
export async function moveEvents(
  deps: ScoringDependencies,
  tombstone: LeadState,
  now: number,
  events: LinkEvents = noLinkEvents(),
): Promise<number> {
  let moved = 0;
  for (let page = 0; page < MAX_PAGES_PER_REQUEST; page += 1) {
    const count = await movePage(deps, tombstone, now, events);
    if (count === undefined) {
      deps.log.info('merge ended by erasure', {
        ...logFields(tombstone.leadId),
        moved,
      });
      // The tombstone is gone or another lead now, so no later request
      // checks these accounts.
      await checkAccountsLeft(deps, tombstone, now, events);
      return moved;
    }
    if (count === 0) {
      await checkAccountsLeft(deps, tombstone, now, events);
      await completeMerge(deps, tombstone);
      return moved;
    }
    moved += count;
  }
  deps.log.info('merge left for the sweep', {
    ...logFields(tombstone.leadId),
    moved,
  });
  return moved;
}

/**
 * Moves one page of events and returns how many: 0 when none are left,
 * undefined when the lead is no longer the incarnation of `tombstone`
 * or no longer merged.
 */
async function movePage(
  deps: ScoringDependencies,
  tombstone: LeadState,
  now: number,
  linkEvents: LinkEvents,
): Promise<number | undefined> {
  const from = tombstone.leadId;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const { events } = await deps.repository.listEvents(
      from,
      MAX_EVENTS_PER_WRITE,
    );
    if (events.length === 0) return 0;
    const source = await deps.repository.getLead(from);
    if (
      !isIncarnationOf(source, tombstone) ||
      source.mergedInto === undefined
    ) {
      return undefined;
    }
    const target = await resolveLeadId(deps, source.mergedInto);
    try {
      if (target === from) {
        // The lead was erased and stored again while its chain was
        // followed, and that chain now leads back to it, so the next
        // attempt reads the lead again. Moving events within one lead
        // would put two actions on one item, which DynamoDB rejects.
        throw new VersionConflictError(from);
      }
      const written = await writeMovedPage(
        deps,
        { leadId: from, mergedInto: source.mergedInto },
        target,
        events,
        now,
      );
      await publishLinkEvents(deps, written.outgoing, linkEvents);
      const accountEvents = await checkAccounts(deps, written.accounts, now);
      await publishLinkEvents(deps, accountEvents, linkEvents);
      return events.length;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      await backOff(attempt);
    }
  }
  throw new ConcurrencyError(
    'A lead kept changing while it was merged; retry the request.',
  );
}

/**
 * Tells whether `state` is stored and is the incarnation that `tombstone`
 * was read from. Versions start again at 1 when an erased lead is stored
 * again, so only the incarnation sets the two apart.
 */
function isIncarnationOf(
  state: LeadState | undefined,
  tombstone: LeadState,
): state is LeadState {
  return (
    state !== undefined && incarnationOf(state) === incarnationOf(tombstone)
  );
}

/**
 * Moves `events` from the tombstone `source` to `to` in one transaction,
 * which fails as a version conflict when the tombstone no longer points
 * where it did when it was read, as after an erasure deleted it.
 */
async function writeMovedPage(
  deps: ScoringDependencies,
  source: FollowedTombstone,
  to: string,
  events: readonly StoredEvent[],
  now: number,
): Promise<{ outgoing: OutgoingEvent[]; accounts: string[] }> {
  const { model, repository } = deps;
  const stored = await repository.getLead(to);
  if (stored?.mergedInto !== undefined) {
    throw new VersionConflictError(to);
  }
  // The moved events count with their own times, so reviews of the
  // target due before the first of them run first, as ingest runs them.
  const { before, outcomes, evaluation, reviewed, outgoing, membership } =
    scoreNewEvents(
      deps,
      to,
      stored,
      events.map((stored) => stored.event),
      now,
    );
  const history = writeHistory(
    stored,
    reviewed,
    evaluation.state,
    evaluation.score,
    model,
    'event',
    events.length,
  );
  const state = { ...evaluation.state, version: history.version };
  const change: LeadChange = {
    sourceId: 'identity',
    expectedVersion: before.version,
    state,
    ...historyFields(history),
    ...(membership.change === undefined
      ? {}
      : { membership: membership.change }),
    events: events.map(({ event, sourceId }) => ({
      event,
      sourceId,
      movedFrom: source.leadId,
      outcome: outcomes.get(event.messageId) ?? {
        messageId: event.messageId,
      },
    })),
    outgoing,
    followedTombstone: source,
  };
  await repository.saveLeadChange(change);
  return { outgoing, accounts: membership.accounts };
}

/**
 * Marks the merge of `merged` complete, unless the lead is gone or is
 * another incarnation, whose merge is not this one.
 */
async function completeMerge(
  deps: ScoringDependencies,
  merged: LeadState,
): Promise<void> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const tombstone = await deps.repository.getLead(merged.leadId);
    if (!isIncarnationOf(tombstone, merged) || !tombstone.mergePending) {
      return;
    }
    try {
      await deps.repository.saveLeadChange({
        sourceId: 'identity',
        expectedVersion: tombstone.version,
        state: {
          ...completedTombstone(tombstone),
          version: tombstone.version + 1,
        },
        events: [],
        outgoing: [],
      });
      return;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      await backOff(attempt);
    }
  }
}

function outcome(
  from: string,
  to: string,
  status: LinkOutcome['status'],
  movedEvents: number,
  events: LinkEvents,
): LinkOutcome {
  return { from, to, status, movedEvents, events };
}

/**
 * Log fields of a merge: the source lead's id, anonymous or a user id.
 * The logger replaces an id with `@` by `[email sha256:<hex>]`.
 */
function logFields(from: string): Record<string, unknown> {
  return { sourceLeadId: from };
}

function backOff(attempt: number): Promise<void> {
  return sleepWithJitter(Math.min(MAX_BACKOFF_MS, 10 * 2 ** attempt));
}
