import { accountIdForLog } from '../domain/account.js';
import type { ScoringDependencies } from './dependencies.js';

/** Reads and writes of one domain link before another writer wins. */
const MAX_ATTEMPTS = 3;
/**
 * Groups of one domain link checked at most, so the work stays bounded.
 * NOTE: a link whose groups beyond this many still link the domain is
 * deleted all the same, until one of their leads writes it again.
 */
const MAX_GROUPS_CHECKED = 20;

/**
 * Settles the link of the email-domain account `domainAccountId` once a
 * lead that linked it is gone, as after an erasure. The link stays while
 * a lead of its group still links the domain. Otherwise it moves to the
 * group whose lead linked the domain most recently and still does. When
 * no lead links the domain any more, the link is deleted with the
 * records of the groups, because it came only from the personal data of
 * leads that are gone. `goneLeadGroupId` is the group account of the lead
 * that is gone, and its record is deleted too once no lead of that group
 * links the domain, even when the link stays with another group. Returns
 * the accounts to evaluate again: the group that the domain's leads now
 * count in, or the domain's own account.
 */
export async function settleDomainLink(
  deps: ScoringDependencies,
  domainAccountId: string,
  goneLeadGroupId?: string,
): Promise<string[]> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const link = await deps.repository.getAccountLink(domainAccountId);
    if (link === undefined) return [];
    const candidates = [...new Set([link.linkedTo, ...link.groups])].slice(
      0,
      MAX_GROUPS_CHECKED,
    );
    const stale: string[] = [];
    let linker: string | undefined;
    for (const group of candidates) {
      if (await linksDomain(deps, group, domainAccountId)) {
        linker = group;
        break;
      }
      stale.push(group);
    }
    if (
      goneLeadGroupId !== undefined &&
      goneLeadGroupId !== linker &&
      !stale.includes(goneLeadGroupId) &&
      link.groups.includes(goneLeadGroupId) &&
      !(await linksDomain(deps, goneLeadGroupId, domainAccountId))
    ) {
      stale.push(goneLeadGroupId);
    }
    if (linker === link.linkedTo && stale.length === 0) return [];
    // The write is conditioned on the link as read, and every lead that
    // links the domain writes the link again with its group's record, so
    // a record that a lead wrote after the reads above is never deleted.
    const replaced = await deps.repository.replaceAccountLink(
      domainAccountId,
      link,
      linker,
      stale,
    );
    if (replaced) {
      deps.log.info('account link settled', {
        accountId: accountIdForLog(domainAccountId),
        linkedTo: linker,
        groupsRemoved: stale.length,
      });
      if (linker === link.linkedTo) return [];
      return [linker ?? domainAccountId];
    }
  }
  // Another writer kept writing the link, which then names its group.
  return [];
}

/** Tells whether a lead of the group account still links the domain. */
async function linksDomain(
  deps: ScoringDependencies,
  groupAccountId: string,
  domainAccountId: string,
): Promise<boolean> {
  const group = await deps.repository.getAccount(groupAccountId);
  return group.members.some(
    (member) => member.linkedAccountId === domainAccountId,
  );
}
