import {
  accountIdForLog,
  decayedIntent,
  isEngaged,
  scoreAccount,
  storedAccountId,
} from '../domain/account.js';
import { NotFoundError } from '../domain/errors.js';
import { roundCents } from '../domain/explanation.js';
import { displayText } from '../domain/id-text.js';
import type { LeadStatus } from '../domain/lead.js';
import { toIso } from '../domain/time.js';
import { readAccount } from './account-reads.js';
import type { ScoringDependencies } from './dependencies.js';

/** Leads listed in an account view, most engaged first. */
export const MAX_ACCOUNT_LEADS_SHOWN = 100;

/** A lead behind an account, as the accounts API shows it. */
export interface AccountLeadView {
  leadId: string;
  role: string | null;
  /** Intent decayed to the time of the request. */
  intent: number;
  engaged: boolean;
  fit: number;
  status: LeadStatus;
  /** Time of the lead's last membership write. */
  updatedAt: string;
}

/** An account as the accounts API returns it, scored at request time. */
export interface AccountView {
  accountId: string;
  status: 'engaged' | 'mqa';
  episode: number;
  qualifiedAt: string | null;
  score: number;
  fit: number;
  engagement: number;
  threshold: number;
  recycleBelow: number;
  coverage: {
    covered: string[];
    missing: string[];
    required: string[];
    missingRequired: string[];
    minimumRoles: number;
  };
  /** Whether coverage and score meet the model's rule right now. */
  meetsRule: boolean;
  leadCount: number;
  engagedLeadCount: number;
  /** Up to MAX_ACCOUNT_LEADS_SHOWN leads, most engaged first. */
  leads: AccountLeadView[];
  modelVersion: string;
  scoredAt: string;
  /**
   * The email-domain account requested, when its leads count in the
   * group's account shown.
   */
  requestedAccountId?: string;
}

/**
 * Returns an account scored at the current time from its members'
 * snapshots, with the leads of the email-domain accounts linked to it.
 * An email-domain account linked to a group's returns the group's.
 * Raises NotFoundError for an account without leads.
 */
export async function getAccount(
  deps: ScoringDependencies,
  requestedId: string,
): Promise<AccountView> {
  const storedId = storedAccountId(requestedId);
  const read = await readAccount(deps, storedId);
  const { accountId, state, members } = read;
  // An account check deletes the state of an account without leads, but
  // a state can remain until then, as when that check failed.
  if (members.length === 0) {
    // The response repeats the requested id, but a domain or company
    // name can name a person, so traces get the hash that logs show.
    throw new NotFoundError(
      `Account ${displayText(requestedId)} was not found.`,
      { traceMessage: `Account ${accountIdForLog(storedId)} was not found.` },
    );
  }
  const now = deps.clock();
  const score = scoreAccount(members, deps.model, now);
  const policy = deps.model.accounts;
  const engagedLevel = policy?.engagedIntent ?? Number.POSITIVE_INFINITY;
  const leads = members
    .map((member) => {
      const intent = decayedIntent(member, deps.model, now);
      return {
        leadId: member.leadId,
        role: member.role ?? null,
        intent: roundCents(intent),
        engaged: isEngaged(intent, engagedLevel),
        fit: member.fit,
        status: member.status,
        updatedAt: toIso(member.intentAt),
      };
    })
    .sort((a, b) => b.intent - a.intent || (a.leadId < b.leadId ? -1 : 1));
  return {
    accountId,
    status: state?.status ?? 'engaged',
    episode: state?.episode ?? 0,
    qualifiedAt:
      state?.status === 'mqa' && state.qualifiedAt !== undefined
        ? toIso(state.qualifiedAt)
        : null,
    score: score.score,
    fit: score.fit,
    engagement: score.engagement,
    threshold: policy?.qualification.threshold ?? 0,
    recycleBelow: policy?.qualification.recycleBelow ?? 0,
    coverage: {
      covered: score.covered,
      missing: score.missing,
      required: [...(policy?.qualification.requiredRoles ?? [])],
      missingRequired: score.missingRequired,
      minimumRoles: policy?.qualification.minimumRoles ?? 0,
    },
    meetsRule: score.meetsRule,
    leadCount: score.leads,
    engagedLeadCount: score.engagedLeads,
    leads: leads.slice(0, MAX_ACCOUNT_LEADS_SHOWN),
    modelVersion: deps.model.version,
    scoredAt: toIso(now),
    ...(read.linkedFrom === undefined ? {} : { requestedAccountId: storedId }),
  };
}
