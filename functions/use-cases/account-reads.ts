import type { AccountMember, AccountState } from '../domain/account.js';
import type { AccountSnapshot } from '../ports/lead-repository.js';
import type { ScoringDependencies } from './dependencies.js';

/**
 * Email-domain accounts whose leads one account counts at most, so that
 * reading an account stays bounded.
 * NOTE: the leads of linked domains past the first 20 by id count in no
 * account, because their own account follows the link to the group.
 */
export const MAX_LINKED_ACCOUNTS = 20;

/** An account as evaluated: its own members and those of linked domains. */
export interface AccountRead {
  /** The account evaluated, a group's after following a link. */
  accountId: string;
  state: AccountState | undefined;
  members: AccountMember[];
  /**
   * The requested email-domain account and its own state, when its leads
   * count in the group's account `accountId`.
   */
  linkedFrom?: { accountId: string; state: AccountState | undefined };
  /**
   * For an email-domain account read as its own, the group's account its
   * stored link names although no lead of that group links it any more.
   */
  staleLinkTo?: string;
}

/**
 * Reads an account with the leads that count in it. A lead with a group
 * call and a business email links its domain's account to the group's.
 * The domain's leads then count in the group's account, and a read of
 * the domain's account returns the group's. A link stays valid while
 * one of the group's leads still has the domain and the domain's latest
 * link names the group.
 */
export async function readAccount(
  deps: Pick<ScoringDependencies, 'repository'>,
  accountId: string,
): Promise<AccountRead> {
  const own = await deps.repository.getAccount(accountId);
  const { linkedTo } = own;
  if (linkedTo !== undefined && linkedTo !== accountId) {
    const group = await deps.repository.getAccount(linkedTo);
    if (group.members.some((m) => m.linkedAccountId === accountId)) {
      const known = new Map([[accountId, own]]);
      return {
        accountId: linkedTo,
        state: group.state,
        members: await withLinkedMembers(deps, linkedTo, group, known),
        linkedFrom: { accountId, state: own.state },
      };
    }
  }
  return {
    accountId,
    state: own.state,
    members: await withLinkedMembers(deps, accountId, own, new Map()),
    ...(linkedTo !== undefined && linkedTo !== accountId
      ? { staleLinkTo: linkedTo }
      : {}),
  };
}

/**
 * Returns the account's members followed by the members of each
 * email-domain account linked to it, read unless `known` has them.
 */
async function withLinkedMembers(
  deps: Pick<ScoringDependencies, 'repository'>,
  accountId: string,
  account: AccountSnapshot,
  known: ReadonlyMap<string, AccountSnapshot>,
): Promise<AccountMember[]> {
  const linked = new Set<string>();
  for (const member of account.members) {
    const id = member.linkedAccountId;
    if (id !== undefined && id !== accountId) linked.add(id);
  }
  const members = [...account.members];
  const ids = [...linked].sort().slice(0, MAX_LINKED_ACCOUNTS);
  const snapshots = await Promise.all(
    ids.map((id) => known.get(id) ?? deps.repository.getAccount(id)),
  );
  for (const snapshot of snapshots) {
    if (snapshot.linkedTo === accountId) members.push(...snapshot.members);
  }
  return members;
}
