import {
  type AccountMember,
  type AccountState,
  type AccountTransition,
  accountIdForLog,
  accountReviewAt,
  accountsToCheck,
  evaluateAccount,
  membersBehindRule,
  membershipChanged,
  membershipOf,
  newAccount,
} from '../domain/account.js';
import { ConcurrencyError } from '../domain/errors.js';
import { type LeadState, newIncarnationId } from '../domain/lead.js';
import {
  accountQualifiedEvent,
  type OutgoingEvent,
} from '../domain/outgoing-events.js';
import type { LeadScore } from '../domain/score.js';
import {
  type LeadChange,
  VersionConflictError,
} from '../ports/lead-repository.js';
import { settleDomainLink } from './account-links.js';
import { type AccountRead, readAccount } from './account-reads.js';
import { mapWithConcurrency, sleepWithJitter } from './concurrency.js';
import type { ScoringDependencies } from './dependencies.js';

const ACCOUNT_CONCURRENCY = 4;
const MAX_ATTEMPTS = 10;
const MAX_BACKOFF_MS = 250;
/** Groups that once linked one email domain evaluated at most, newest first. */
const MAX_GROUPS_LEFT_BEHIND = 20;

/** Account work of one lead write. */
export interface MembershipUpdate {
  /** Items to write with the lead, undefined when nothing changed. */
  change: LeadChange['membership'];
  /** Accounts to evaluate once the lead's write is committed. */
  accounts: string[];
}

/**
 * Works out the lead's membership at `now`, stores it on `state` and
 * returns the membership items to write with the lead. Nothing is
 * written while the membership stays the same, which is the case for
 * most events: a page view moves a lead's intent less than a step.
 */
export function updateMembership(
  state: LeadState,
  score: LeadScore,
  deps: ScoringDependencies,
  now: number,
): MembershipUpdate {
  const before = state.membership;
  const next = membershipOf(state, score, deps.model, now);
  if (!membershipChanged(before, next?.membership)) {
    return { change: undefined, accounts: [] };
  }
  if (next === undefined) {
    delete state.membership;
  } else {
    state.membership = next.membership;
  }
  const remove =
    before === undefined
      ? undefined
      : { accountId: before.accountId, leadId: state.leadId };
  return {
    change: {
      ...(next === undefined ? {} : { put: next.member }),
      ...(remove === undefined ? {} : { remove }),
    },
    accounts: accountsToCheck(before, next?.membership),
  };
}

/**
 * Evaluates each account at `now`, and each group that an email-domain
 * account among them linked before, and stores their status changes
 * with their outgoing events. Returns the events to publish. Reads every
 * member of an account, but writes the account's state only when its
 * status or an MQA's review time changes, so concurrent checks rarely
 * conflict.
 */
export async function checkAccounts(
  deps: ScoringDependencies,
  accountIds: readonly string[],
  now: number,
): Promise<OutgoingEvent[]> {
  const unique = [...new Set(accountIds)];
  const results = await mapWithConcurrency(
    unique,
    ACCOUNT_CONCURRENCY,
    (accountId) => checkAccount(deps, accountId, now),
  );
  const leftBehind = await groupsLeftBehind(deps, unique);
  const others = await mapWithConcurrency(
    leftBehind,
    ACCOUNT_CONCURRENCY,
    (accountId) => checkAccount(deps, accountId, now),
  );
  return [...results.flat(), ...others.flat()];
}

/**
 * Returns the group accounts, other than `accountIds`, that once linked
 * an email-domain account of `accountIds` and no longer do. A lead's
 * write of a domain's link replaces the group it named without reading
 * it, so that group may have lost the domain's lead of a required role.
 */
async function groupsLeftBehind(
  deps: ScoringDependencies,
  accountIds: readonly string[],
): Promise<string[]> {
  const checked = new Set(accountIds);
  const domains = accountIds.filter((id) => id.startsWith('domain:'));
  const links = await Promise.all(
    domains.map((domain) => deps.repository.getAccountLink(domain)),
  );
  const groups = new Set<string>();
  for (const link of links) {
    if (link === undefined) continue;
    for (const group of link.groups.slice(0, MAX_GROUPS_LEFT_BEHIND)) {
      if (group !== link.linkedTo && !checked.has(group)) groups.add(group);
    }
  }
  return [...groups];
}

async function checkAccount(
  deps: ScoringDependencies,
  accountId: string,
  now: number,
): Promise<OutgoingEvent[]> {
  const published: OutgoingEvent[] = [];
  let endedEpisode = false;
  let linkSettled = false;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const account = await readAccount(deps, accountId);
    if (isLeftEmpty(account)) {
      try {
        await deleteEmptyAccount(deps, account.accountId, account.state);
        return published;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        // Another check wrote the account after this read, so a lead
        // may have joined: read it again.
        await sleepWithJitter(Math.min(MAX_BACKOFF_MS, 10 * 2 ** attempt));
        continue;
      }
    }
    if (account.staleLinkTo !== undefined && !linkSettled) {
      // No lead of the linked group has the domain any more, so the link
      // moves to another group that links it or is deleted. The next read
      // evaluates the account that the domain's leads then count in.
      linkSettled = true;
      await settleDomainLink(deps, accountId);
      continue;
    }
    try {
      const linked = account.linkedFrom;
      // The linked domain's leads now count in the group's account, so
      // an episode of the domain's own account ends, and a review time
      // that a model rescore gave its state is cleared.
      if (
        linked?.state?.status === 'mqa' ||
        linked?.state?.nextReviewAt !== undefined
      ) {
        await settleAccount(deps, linked.accountId, linked.state, [], now);
      }
      const settled = await settleAccount(
        deps,
        account.accountId,
        account.state,
        account.members,
        now,
      );
      published.push(...settled.outgoing);
      // A member whose write committed after this read but before the
      // episode's end is seen only by a read after the end, which
      // resumes the episode if that member keeps it qualified.
      if (settled.transition?.kind !== 'recycled' || endedEpisode) {
        return published;
      }
      endedEpisode = true;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      // Another check wrote the account after the end, so it read every
      // member this read could.
      if (endedEpisode) return published;
      await sleepWithJitter(Math.min(MAX_BACKOFF_MS, 10 * 2 ** attempt));
    }
  }
  // The message leaves out the account id, because the sweep logs it and
  // an email-domain id can name a person.
  throw new ConcurrencyError(
    'An account kept changing concurrently; retry the request.',
  );
}

/**
 * Tells whether an account read has a stored state but no lead left, as
 * after its last lead was erased or moved to another account. An MQA
 * first ends its episode, and an email-domain account whose link is
 * stale first has its link settled.
 * NOTE: a domain read through its link to a group has `linkedFrom` set,
 * so the domain's own state stays even when none of its leads is left.
 */
function isLeftEmpty(
  account: AccountRead,
): account is AccountRead & { state: AccountState } {
  return (
    account.members.length === 0 &&
    account.state !== undefined &&
    account.state.status !== 'mqa' &&
    account.linkedFrom === undefined &&
    account.staleLinkTo === undefined
  );
}

/**
 * Deletes the state item of an account without leads, because a
 * family's or sole trader's email domain names a person. The delete is
 * conditioned on the version read. A lead that joins meanwhile keeps its
 * member item, which the delete never touches, and its own check then
 * finds no state and evaluates the account from the start, with a new
 * incarnation id and so new event ids.
 */
async function deleteEmptyAccount(
  deps: ScoringDependencies,
  accountId: string,
  state: AccountState,
): Promise<void> {
  await deps.repository.deleteAccountState(accountId, state.version);
  deps.log.info('empty account deleted', {
    accountId: accountIdForLog(accountId),
    episode: state.episode,
  });
}

/** Status change and events of one account check. */
interface Settlement {
  transition: AccountTransition | undefined;
  /** Events written with the change, to publish. */
  outgoing: OutgoingEvent[];
}

/**
 * Evaluates one account and writes its status change, new review time or
 * cleared rescore mark, if any, under its version. Raises
 * VersionConflictError when the account changed meanwhile.
 */
async function settleAccount(
  deps: ScoringDependencies,
  accountId: string,
  stored: AccountState | undefined,
  members: readonly AccountMember[],
  now: number,
): Promise<Settlement> {
  const current = stored ?? {
    ...newAccount(accountId, deps.model, now),
    incarnationId: newIncarnationId(),
  };
  const evaluation = evaluateAccount(current, members, deps.model, now);
  const { transition } = evaluation;
  const state = { ...evaluation.state, version: current.version + 1 };
  if (transition === undefined && current.status !== 'mqa') {
    // Only a model rescore gives a state other than an MQA a review time.
    // Writing the state without it takes the account out of the review
    // index and stores the model it was checked with.
    if (current.nextReviewAt === undefined) {
      return { transition, outgoing: [] };
    }
    delete state.nextReviewAt;
  } else if (transition === undefined) {
    const reviewAt = accountReviewAt(
      members,
      deps.model,
      evaluation.score,
      now,
    );
    if (!needsNewReview(current, reviewAt, now)) {
      return { transition, outgoing: [] };
    }
    if (reviewAt === undefined) delete state.nextReviewAt;
    else state.nextReviewAt = reviewAt;
  }
  const outgoing =
    transition?.kind === 'qualified'
      ? [
          accountQualifiedEvent(
            accountId,
            transition,
            deps.model,
            now,
            current.incarnationId,
          ),
        ]
      : [];
  await deps.repository.saveAccountChange({
    expectedVersion: current.version,
    state,
    outgoing,
    ...(transition?.kind === 'qualified' || transition?.kind === 'resumed'
      ? { unchangedMembers: qualifyingMembers(accountId, members, deps, now) }
      : {}),
  });
  if (transition !== undefined) {
    deps.log.info('account status changed', {
      accountId: accountIdForLog(accountId),
      status: state.status,
      episode: transition.episode,
      change: transition.kind,
    });
  }
  return { transition, outgoing };
}

/**
 * Returns the member snapshots a qualification rests on, so that its
 * write fails when another writer changed or removed one of them after
 * this read (an erasure, an unsubscribe), instead of qualifying the
 * account on data that is gone. A member of a linked email domain counts
 * only through a group lead that links the domain, so that lead is kept
 * unchanged too.
 * An episode's end rests on members missing from the read, which no
 * condition can cover, so checkAccount reads the account again after an
 * end instead.
 */
function qualifyingMembers(
  accountId: string,
  members: readonly AccountMember[],
  deps: ScoringDependencies,
  now: number,
): AccountMember[] {
  const behind = membersBehindRule(members, deps.model, now);
  const linkers = new Map<string, AccountMember>();
  for (const member of behind) {
    const domain = member.accountId;
    if (domain === accountId || linkers.has(domain)) continue;
    const linker = members.find(
      (m) => m.accountId === accountId && m.linkedAccountId === domain,
    );
    if (linker !== undefined) linkers.set(domain, linker);
  }
  return [...behind, ...linkers.values()];
}

/**
 * Tells whether an MQA's stored review time must change: it has come, or
 * a member change brought the end of the episode closer.
 */
function needsNewReview(
  state: AccountState,
  reviewAt: number | undefined,
  now: number,
): boolean {
  const stored = state.nextReviewAt;
  if (stored === undefined) return reviewAt !== undefined;
  return stored <= now || (reviewAt !== undefined && reviewAt < stored);
}
