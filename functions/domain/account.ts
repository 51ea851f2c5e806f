import { domainToASCII } from 'node:url';
import { sha256Hex } from './canonical-json.js';
import { normalizeCompanyName } from './company-name.js';
import { type DecayingTerm, decayFactor, timeBelowLevel } from './decay.js';
import { isBelowInCents, roundCents } from './explanation.js';
import { scoreFit } from './fit.js';
import { MAX_ID_BYTES } from './id-text.js';
import { emailDomainOf, isEmailAddress, withAsciiDots } from './identity.js';
import { collapseWhiteSpace, normalizeText } from './issues.js';
import type { LeadState, LeadStatus, Membership, TraitEntry } from './lead.js';
import { MAX_TRAIT_LENGTH } from './messages.js';
import type { AccountPolicy, ScoringModel } from './model.js';
import type { LeadScore } from './score.js';

/**
 * Accounts and buying groups. A lead belongs to one account, named by
 * the strongest source it has: a group call's groupId, then its business
 * email domain, then a company trait. Each lead keeps a membership
 * snapshot under its account: role, firmographic fit, intent and status
 * at one time. The snapshot is rewritten only when one of those fields
 * changes in a way that matters (see membershipChanged). The account's
 * own item changes only when it qualifies, leaves its episode or gets a
 * new review time, so page views never write a shared item.
 */

/** Source of an account id. */
export type AccountSource = 'group' | 'company' | 'email-domain';

/** A lead's account. */
export interface AccountRef {
  accountId: string;
  source: AccountSource;
  /**
   * The email-domain account of a lead whose group call names its
   * account, which links that domain's leads to the group's account.
   */
  linkedAccountId?: string;
}

/** A lead's share of its account as stored under the account. */
export interface AccountMember {
  accountId: string;
  leadId: string;
  role: string | undefined;
  /** Points of the lead's fit rules in the model's firmographic groups. */
  fit: number;
  /** Lead intent at `intentAt`, rounded to cents and at least 0. */
  intent: number;
  intentAt: number;
  /**
   * The lead's decaying intent points at `intentAt`, one term per
   * retention. The rest of `intent` never decays: negative points and
   * rules that keep all their points. Absent on snapshots stored before
   * the field existed, whose whole intent decays at the model's retention.
   */
  intentTerms?: DecayingTerm[];
  status: LeadStatus;
  /** See AccountRef.linkedAccountId. */
  linkedAccountId?: string;
}

export type AccountStatus = 'engaged' | 'mqa';

/** Stored state of an account, apart from its members. */
export interface AccountState {
  accountId: string;
  /** Optimistic-concurrency version; 0 for an account not stored yet. */
  version: number;
  /**
   * Random id drawn when the state is first stored. "Account Qualified"
   * event ids include it, so an account stored again after its state was
   * deleted gets new event ids for its episodes. Absent on states stored
   * before it existed.
   */
  incarnationId?: string;
  status: AccountStatus;
  /** Number of qualifications so far; the current one when status is mqa. */
  episode: number;
  statusChangedAt: number;
  qualifiedAt: number | undefined;
  /**
   * Model of the last stored evaluation. Absent on a state that
   * `npm run model -- rescore` stored for an account never stored
   * before, until the sweep checks it.
   */
  modelVersion?: string;
  /**
   * When the account must be evaluated again without member changes: for
   * an MQA, the earliest time decay can end its episode. Any state can
   * also have the time `npm run model -- rescore` marked it due at,
   * which its next check clears. Undefined otherwise.
   */
  nextReviewAt?: number;
}

/** An account's score and buying-group coverage at one time. */
export interface AccountScore {
  at: number;
  score: number;
  /** Highest firmographic fit among the account's leads. */
  fit: number;
  /** Sum of the decayed intent of the `engagementLeads` most engaged leads. */
  engagement: number;
  /** Roles with an engaged lead, in model order. */
  covered: string[];
  /** Roles without an engaged lead, in model order. */
  missing: string[];
  /** Required roles still without an engaged lead. */
  missingRequired: string[];
  leads: number;
  engagedLeads: number;
  /** Whether coverage and score meet the model's rule. */
  meetsRule: boolean;
}

/** A change of account status, the cause of "Account Qualified". */
export interface AccountTransition {
  /**
   * `resumed` restores an episode ended less than ACCOUNT_RESUME_WINDOW_MS
   * before, and sends no event.
   */
  kind: 'qualified' | 'recycled' | 'resumed';
  episode: number;
  at: number;
  score: AccountScore;
}

export interface AccountEvaluation {
  state: AccountState;
  score: AccountScore;
  transition: AccountTransition | undefined;
}

/**
 * Maximum size in UTF-8 bytes of an account id, the limit that
 * GET /accounts/{accountId} accepts.
 */
export const MAX_ACCOUNT_ID_BYTES = 512;

/** Hex digits of the SHA-256 suffix that ends a shortened account id. */
const HASH_SUFFIX_DIGITS = 16;

/**
 * Returns `<kind>:<name>`, or when that exceeds MAX_ACCOUNT_ID_BYTES, the
 * name cut at a character boundary followed by `~` and a SHA-256 prefix
 * of the whole name. The same name always gives the same id, and two
 * long names that share their first bytes differ in the hash suffix.
 */
export function boundedAccountId(kind: string, name: string): string {
  const accountId = `${kind}:${name}`;
  if (Buffer.byteLength(accountId, 'utf8') <= MAX_ACCOUNT_ID_BYTES) {
    return accountId;
  }
  const suffix = `~${sha256Hex(name).slice(0, HASH_SUFFIX_DIGITS)}`;
  let budget =
    MAX_ACCOUNT_ID_BYTES -
    Buffer.byteLength(`${kind}:`, 'utf8') -
    suffix.length;
  let head = '';
  for (const character of name) {
    const size = Buffer.byteLength(character, 'utf8');
    if (size > budget) break;
    head += character;
    budget -= size;
  }
  return `${kind}:${head}${suffix}`;
}

/**
 * Returns an account id as log lines carry it. A `domain:` id is the
 * email domain of its leads and a `company:` id the company trait they
 * typed, either of which names a person for a sole trader or a family.
 * So such an id is logged as `<kind> sha256:<hex>`, the SHA-256 of the
 * whole id. Group ids, keys of another system, are logged as they are.
 */
export function accountIdForLog(accountId: string): string {
  for (const kind of ['domain', 'company']) {
    if (accountId.startsWith(`${kind}:`)) {
      return `${kind} sha256:${sha256Hex(accountId)}`;
    }
  }
  return accountId;
}

/**
 * Returns the id an account is stored under for an id as a caller may
 * spell it. The name of a `domain:` or `company:` id is normalized as
 * accountOf normalizes it at ingest: a domain is trimmed, in Unicode NFC,
 * lower case and without a trailing dot (`domain:ACME.example.` names
 * `domain:acme.example`), and a company name goes through
 * normalizeCompanyName (`company:ACME, Inc.` names `company:acme`). A
 * group id is only trimmed, as at ingest, because it is a case-sensitive
 * key of another system. A shortened id is kept as it is.
 */
export function storedAccountId(requestedId: string): string {
  const accountId = requestedId.trim();
  const colon = accountId.indexOf(':');
  const kind = accountId.slice(0, colon);
  const name = accountId.slice(colon + 1);
  if (colon === -1 || normalizeText(name) === '') return accountId;
  if (kind === 'domain') {
    const domain = emailDomainOf(name);
    return domain === undefined ? accountId : boundedAccountId(kind, domain);
  }
  if (kind === 'company') {
    // Normalizing would remove the `~` of the hash suffix.
    if (isShortenedAccountId(accountId)) return accountId;
    // Ingest cuts string traits, so a longer name is cut the same way.
    const company = normalizeCompanyName(name.slice(0, MAX_TRAIT_LENGTH));
    return company === '' ? accountId : boundedAccountId(kind, company);
  }
  if (kind === 'group') return boundedAccountId(kind, name.trim());
  return accountId;
}

/**
 * Returns why the name of a requested `domain:` id forms no account, as
 * an error message for the `accountId` field, or undefined when it can
 * form one. The rules are those of businessDomainOf at ingest. A
 * shortened id is accepted as it is.
 */
export function domainAccountIssue(
  name: string,
  policy: AccountPolicy | undefined,
): string | undefined {
  if (isShortenedAccountId(`domain:${name.trim()}`)) return undefined;
  const domain = emailDomainOf(name);
  if (domain === undefined) return malformedDomainIssue(name);
  if (!isHostName(domain)) {
    return 'must be a host name of letters, digits and inner hyphens between dots, such as acme.example; an address literal, an IP address or an empty label forms no account';
  }
  if (policy !== undefined && isPersonalDomain(domain, policy)) {
    return 'names a personal mailbox domain (accounts.personalEmailDomains), which forms no account; read its leads with GET /leads/{leadId}';
  }
  return undefined;
}

/** Returns the rule of emailDomainOf that a domain name breaks. */
function malformedDomainIssue(name: string): string {
  const normalized = normalizeText(name);
  const domain = withAsciiDots(
    normalized.slice(normalized.lastIndexOf('@') + 1),
  ).replace(/\.$/, '');
  if (/[\s/\p{Cf}]/u.test(domain)) {
    return 'must be a domain name without spaces, "/" or format characters such as U+200B, which could pass for another domain; such a domain forms no account';
  }
  if (!domain.includes('.')) {
    return 'must be a domain name with a dot, such as acme.example; a name without one forms no account';
  }
  const bytes = Buffer.byteLength(domain, 'utf8');
  if (bytes > MAX_ID_BYTES) {
    return `is a domain of ${bytes} bytes in UTF-8; one of more than ${MAX_ID_BYTES} bytes forms no account`;
  }
  return 'must be a domain name that an email address can have, such as acme.example; this one forms no account';
}

/**
 * Tells whether an id has the form boundedAccountId gives a long name:
 * a `~` and hash suffix, within 3 bytes of the limit, because a name is
 * cut only at a character boundary.
 */
function isShortenedAccountId(accountId: string): boolean {
  const bytes = Buffer.byteLength(accountId, 'utf8');
  return (
    bytes > MAX_ACCOUNT_ID_BYTES - 4 &&
    bytes <= MAX_ACCOUNT_ID_BYTES &&
    new RegExp(`~[0-9a-f]{${HASH_SUFFIX_DIGITS}}$`).test(accountId)
  );
}

/**
 * Returns the account of a lead, or undefined when it has none: a lead
 * with only a personal or malformed email address forms no account.
 */
export function accountOf(
  state: LeadState,
  policy: AccountPolicy,
): AccountRef | undefined {
  const groupId = state.groupId?.value;
  const domain = businessDomainOf(state, policy);
  if (typeof groupId === 'string' && groupId.trim() !== '') {
    return {
      accountId: boundedAccountId('group', groupId.trim()),
      source: 'group',
      ...(domain === undefined
        ? {}
        : { linkedAccountId: boundedAccountId('domain', domain) }),
    };
  }
  // A business email domain names one company however people spell its
  // name, so it ranks above the free-text company trait.
  if (domain !== undefined) {
    return {
      accountId: boundedAccountId('domain', domain),
      source: 'email-domain',
    };
  }
  const company = companyNameOf(firstTrait(state.traits, policy.companyTraits));
  const name = normalizeCompanyName(company);
  if (name !== '') {
    return { accountId: boundedAccountId('company', name), source: 'company' };
  }
  return undefined;
}

/**
 * Returns a company trait as a name: a string as it is and a finite
 * number as its decimal string (12345 is "12345"), else "".
 */
function companyNameOf(trait: unknown): string {
  if (typeof trait === 'string') return trait;
  if (typeof trait !== 'number' || !Number.isFinite(trait)) return '';
  // String() would write 1e21 as "1e+21".
  return Number.isInteger(trait) ? BigInt(trait).toString() : String(trait);
}

function businessDomainOf(
  state: LeadState,
  policy: AccountPolicy,
): string | undefined {
  const email = state.traits.email?.value ?? state.leadId;
  // The shape check reads IDNA dot separators as dots, so `ann@acme。example`
  // has a domain. isEmailAddress itself stays as it is, because it also
  // picks the user ids that are lower-cased into lead ids, and changing it
  // would move the stored leads of such user ids to new ids.
  if (typeof email !== 'string' || !isEmailAddress(withAsciiDots(email))) {
    return undefined;
  }
  const domain = emailDomainOf(email);
  if (
    domain === undefined ||
    !isHostName(domain) ||
    isPersonalDomain(domain, policy)
  ) {
    return undefined;
  }
  return domain;
}

/**
 * A label of a host name (RFC 1123, section 2.1): letters, digits and
 * hyphens, 1 to 63 characters, with no hyphen at either end.
 */
const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Checks whether a domain in the form of asciiDomain is a host name that
 * a company's mail can come from: labels of HOST_LABEL and a top-level
 * label that is not all digits. An address literal such as `[10.0.0.1]`,
 * a bare IPv4 address, an empty or hyphen-edged label and a punycode
 * label that IDNA rejects (asciiDomain keeps it as sent) form no account.
 */
function isHostName(domain: string): boolean {
  const labels = domain.split('.');
  const top = labels[labels.length - 1] ?? '';
  return (
    labels.every((label) => HOST_LABEL.test(label)) &&
    !/^\d+$/.test(top) &&
    domainToASCII(domain) === domain
  );
}

function isPersonalDomain(domain: string, policy: AccountPolicy): boolean {
  for (const personal of policy.personalEmailDomains) {
    if (domain === personal || domain.endsWith(`.${personal}`)) return true;
  }
  return false;
}

/** Returns the first buying-group role whose title pattern matches. */
export function roleOf(
  state: LeadState,
  policy: AccountPolicy,
): string | undefined {
  const title = firstTrait(state.traits, policy.titleTraits);
  if (title === undefined) return undefined;
  const text = collapseWhiteSpace(normalizeText(String(title)));
  return policy.roles.find((role) => role.title.test(text))?.id;
}

function firstTrait(
  traits: Readonly<Record<string, TraitEntry>>,
  keys: readonly string[],
) {
  for (const key of keys) {
    const entry = Object.hasOwn(traits, key) ? traits[key] : undefined;
    if (entry !== undefined && entry.value !== null) return entry.value;
  }
  return undefined;
}

/** Returns the points of the lead's fit rules in firmographic groups. */
export function firmographicFit(state: LeadState, model: ScoringModel): number {
  const groups = model.accounts?.fitGroups ?? new Set<string>();
  const byId = new Map(model.fitRules.map((rule) => [rule.id, rule]));
  let fit = 0;
  for (const contribution of scoreFit(state.traits, model)) {
    const group = byId.get(contribution.ruleId)?.group;
    if (group !== undefined && groups.has(group)) fit += contribution.points;
  }
  return roundCents(fit);
}

/**
 * Returns the lead's membership at `now` and its member snapshot, or
 * undefined when the model has no accounts or the lead has no account.
 */
export function membershipOf(
  state: LeadState,
  score: LeadScore,
  model: ScoringModel,
  now: number,
): { membership: Membership; member: AccountMember } | undefined {
  const policy = model.accounts;
  if (policy === undefined || state.mergedInto !== undefined) {
    return undefined;
  }
  const account = accountOf(state, policy);
  if (account === undefined) return undefined;
  const role = roleOf(state, policy);
  const fit = firmographicFit(state, model);
  const intent = Math.max(0, roundCents(score.intent));
  const linked =
    account.linkedAccountId === undefined
      ? {}
      : { linkedAccountId: account.linkedAccountId };
  const membership: Membership = {
    accountId: account.accountId,
    role,
    fit,
    intentStep: Math.floor(intent / policy.engagementStep),
    engaged: intent >= policy.engagedIntent,
    status: state.status,
    ...linked,
  };
  const member: AccountMember = {
    accountId: account.accountId,
    leadId: state.leadId,
    role,
    fit,
    intent,
    intentAt: now,
    intentTerms: decayingTermsOf(score, model),
    status: state.status,
    ...linked,
  };
  return { membership, member };
}

/**
 * Returns the positive intent points of a score that decay, summed per
 * retention and rounded to cents, in the order their retentions first
 * appear in the model.
 */
function decayingTermsOf(
  score: LeadScore,
  model: ScoringModel,
): DecayingTerm[] {
  const { positions } = model.intentIndex;
  const byRetention = new Map<number, number>();
  for (const contribution of score.intentContributions) {
    const position = positions.get(contribution.ruleId);
    if (position === undefined) continue;
    const rule = model.intentRules[position];
    if (rule === undefined || rule.points <= 0) continue;
    const retention = rule.retentionPerQuarter;
    if (retention >= 1 || contribution.points <= 0) continue;
    byRetention.set(
      retention,
      (byRetention.get(retention) ?? 0) + contribution.points,
    );
  }
  const terms: DecayingTerm[] = [];
  for (const [retentionPerQuarter, points] of byRetention) {
    const cents = roundCents(points);
    if (cents > 0) terms.push({ points: cents, retentionPerQuarter });
  }
  return terms;
}

/** Tells whether a new membership must be written over the stored one. */
export function membershipChanged(
  before: Membership | undefined,
  after: Membership | undefined,
): boolean {
  if (before === undefined || after === undefined) return before !== after;
  return (
    before.accountId !== after.accountId ||
    before.role !== after.role ||
    before.fit !== after.fit ||
    before.intentStep !== after.intentStep ||
    before.engaged !== after.engaged ||
    before.status !== after.status ||
    before.linkedAccountId !== after.linkedAccountId
  );
}

/**
 * Returns the accounts whose coverage or qualification a membership
 * change can change, so they must be evaluated again: both accounts when
 * a lead moves from one account to another, the email-domain account
 * whose link the lead no longer makes or writes again. None while a lead
 * without a link stays below the engaged level in one account, unless
 * its firmographic fit or its intent step changes.
 */
export function accountsToCheck(
  before: Membership | undefined,
  after: Membership | undefined,
): string[] {
  if (!membershipChanged(before, after)) return [];
  // A new link brings the linked domain's leads into the account.
  const linkAdded =
    after?.linkedAccountId !== undefined &&
    after.linkedAccountId !== before?.linkedAccountId;
  // A move takes the lead's fit from one account to the other, even when
  // the lead is not engaged, and the highest fit is part of the score.
  const moved =
    before !== undefined &&
    after !== undefined &&
    before.accountId !== after.accountId;
  // A dropped link may leave the domain's leads counting in their own
  // account again, or in another group that links the domain.
  const dropped =
    before?.linkedAccountId !== undefined &&
    before.linkedAccountId !== after?.linkedAccountId
      ? before.linkedAccountId
      : undefined;
  // Every membership write of a linking lead writes the domain's link
  // again, which can take it from another group (see checkAccounts).
  const relinked = after?.linkedAccountId;
  const engaged = (before?.engaged ?? false) || (after?.engaged ?? false);
  // The highest firmographic fit and the intent of the most engaged leads
  // count in the account's score whether or not their leads are engaged.
  // A fit of zero or below never raises it.
  const fitChanged =
    before?.fit !== after?.fit &&
    Math.max(before?.fit ?? 0, after?.fit ?? 0) > 0;
  const stepped = (before?.intentStep ?? 0) !== (after?.intentStep ?? 0);
  if (
    !linkAdded &&
    !moved &&
    !engaged &&
    !fitChanged &&
    !stepped &&
    dropped === undefined &&
    relinked === undefined
  ) {
    return [];
  }
  const accounts = [
    before?.accountId,
    after?.accountId,
    dropped,
    relinked,
  ].filter((id): id is string => id !== undefined);
  return [...new Set(accounts)];
}

/** Creates the state of an account not stored yet. */
export function newAccount(
  accountId: string,
  model: ScoringModel,
  at: number,
): AccountState {
  return {
    accountId,
    version: 0,
    status: 'engaged',
    episode: 0,
    statusChangedAt: at,
    qualifiedAt: undefined,
    modelVersion: model.version,
  };
}

/**
 * Scores an account at `now` from its members' snapshots: the highest
 * firmographic fit plus the intent, decayed to `now`, of its
 * `engagementLeads` most engaged leads. A role is covered when one of its
 * leads has decayed intent at the engaged level, compared in cents as the
 * account view shows it.
 */
export function scoreAccount(
  members: readonly AccountMember[],
  model: ScoringModel,
  now: number,
): AccountScore {
  const policy = model.accounts;
  const roles = policy?.roles.map((role) => role.id) ?? [];
  const engagedLevel = policy?.engagedIntent ?? Number.POSITIVE_INFINITY;
  let fit = 0;
  let engagedLeads = 0;
  const intents: number[] = [];
  const coveredRoles = new Set<string>();
  for (const member of members) {
    fit = Math.max(fit, member.fit);
    const intent = decayedIntent(member, model, now);
    intents.push(intent);
    if (isEngaged(intent, engagedLevel)) {
      engagedLeads += 1;
      if (member.role !== undefined) coveredRoles.add(member.role);
    }
  }
  intents.sort((a, b) => b - a);
  const counted = intents.slice(0, policy?.engagementLeads ?? intents.length);
  const engagement = counted.reduce((sum, intent) => sum + intent, 0);
  const covered = roles.filter((role) => coveredRoles.has(role));
  const missing = roles.filter((role) => !coveredRoles.has(role));
  const required = policy?.qualification.requiredRoles ?? [];
  const missingRequired = required.filter((role) => !coveredRoles.has(role));
  const score = roundCents(fit + engagement);
  const meetsRule =
    policy !== undefined &&
    score >= policy.qualification.threshold &&
    missingRequired.length === 0 &&
    covered.length >= policy.qualification.minimumRoles;
  return {
    at: now,
    score,
    fit: roundCents(fit),
    engagement: roundCents(engagement),
    covered,
    missing,
    missingRequired,
    leads: members.length,
    engagedLeads,
    meetsRule,
  };
}

/**
 * Returns the members whose snapshots an account's qualification at `now`
 * rests on: the one with the highest firmographic fit, the
 * `engagementLeads` most engaged, and the most engaged lead of each
 * covered role. While these are unchanged, the score and coverage can
 * only be higher than evaluated, whatever happens to the other members.
 */
export function membersBehindRule(
  members: readonly AccountMember[],
  model: ScoringModel,
  now: number,
): AccountMember[] {
  const policy = model.accounts;
  if (policy === undefined || members.length === 0) return [];
  const ranked = members
    .map((member) => ({ member, intent: decayedIntent(member, model, now) }))
    .sort((a, b) => b.intent - a.intent);
  const chosen = new Set<AccountMember>();
  let fittest = ranked[0]?.member as AccountMember;
  for (const { member } of ranked) {
    if (member.fit > fittest.fit) fittest = member;
  }
  chosen.add(fittest);
  for (const { member } of ranked.slice(0, policy.engagementLeads)) {
    chosen.add(member);
  }
  const covered = new Set<string>();
  for (const { member, intent } of ranked) {
    const role = member.role;
    if (role === undefined || !isEngaged(intent, policy.engagedIntent)) {
      continue;
    }
    if (covered.has(role)) continue;
    covered.add(role);
    chosen.add(member);
  }
  return [...chosen];
}

/**
 * Tells whether a lead's decayed intent reaches the engaged level. It
 * compares the intent rounded to cents, as the account view shows it and
 * as a membership snapshot stores it. An exact comparison would end the
 * engagement of a lead at exactly the level a millisecond after its
 * write, although the view shows the level for hours.
 */
export function isEngaged(intent: number, engagedIntent: number): boolean {
  return !isBelowInCents(intent, engagedIntent);
}

/**
 * Returns a member's intent decayed from its snapshot time to `now`, at
 * least 0. Only its decaying terms fall, so a lead whose penalty
 * outweighs its decayed points shows 0, as the lead's own intent does.
 */
export function decayedIntent(
  member: AccountMember,
  model: ScoringModel,
  now: number,
): number {
  if (member.intent <= 0) return 0;
  const { steady, terms } = intentPartsOf(member, model);
  const elapsed = now - member.intentAt;
  let intent = steady;
  for (const term of terms) {
    intent += term.points * decayFactor(term.retentionPerQuarter, elapsed);
  }
  return Math.max(0, intent);
}

/**
 * Splits a member's intent at its snapshot time into the points that
 * never decay and the decaying terms.
 */
function intentPartsOf(
  member: AccountMember,
  model: ScoringModel,
): { steady: number; terms: readonly DecayingTerm[] } {
  const terms = member.intentTerms ?? [
    { points: member.intent, retentionPerQuarter: model.retentionPerQuarter },
  ];
  let decaying = 0;
  for (const term of terms) decaying += term.points;
  return { steady: member.intent - decaying, terms };
}

/**
 * Time after an episode's end during which an account that meets its
 * qualification again resumes that episode instead of starting a new
 * one. A check that read the members before a concurrent member change
 * can end an episode that the change keeps. The next check reads the
 * change well within this window, so resuming sends no second
 * "Account Qualified" for one committee.
 */
export const ACCOUNT_RESUME_WINDOW_MS = 60_000;

/**
 * Evaluates an account at `now` with hysteresis. The account qualifies
 * as a marketing qualified account (MQA) when its score and coverage meet
 * the model's rule. Its episode ends when the score falls below the
 * recycle level or a required role loses its last engaged lead. It
 * resumes when neither is the case any more within
 * ACCOUNT_RESUME_WINDOW_MS.
 */
export function evaluateAccount(
  stored: AccountState,
  members: readonly AccountMember[],
  model: ScoringModel,
  now: number,
): AccountEvaluation {
  const score = scoreAccount(members, model, now);
  const policy = model.accounts;
  const state = { ...stored, modelVersion: model.version };
  if (policy === undefined) {
    return { state, score, transition: undefined };
  }
  const below = score.score < policy.qualification.recycleBelow;
  const holds = !below && score.missingRequired.length === 0;
  if (holds && endedRecently(state, now)) {
    state.status = 'mqa';
    state.statusChangedAt = now;
    state.nextReviewAt = accountReviewAt(members, model, score, now);
    return {
      state,
      score,
      transition: transitionOf('resumed', state, now, score),
    };
  }
  if (state.status !== 'mqa' && score.meetsRule) {
    state.status = 'mqa';
    state.episode += 1;
    state.qualifiedAt = now;
    state.statusChangedAt = now;
    state.nextReviewAt = accountReviewAt(members, model, score, now);
    return {
      state,
      score,
      transition: transitionOf('qualified', state, now, score),
    };
  }
  if (state.status === 'mqa' && !holds) {
    state.status = 'engaged';
    state.statusChangedAt = now;
    delete state.nextReviewAt;
    return {
      state,
      score,
      transition: transitionOf('recycled', state, now, score),
    };
  }
  return { state, score, transition: undefined };
}

function transitionOf(
  kind: AccountTransition['kind'],
  state: AccountState,
  now: number,
  score: AccountScore,
): AccountTransition {
  return { kind, episode: state.episode, at: now, score };
}

/** Tells whether an account's episode ended within the resume window. */
function endedRecently(state: AccountState, now: number): boolean {
  // An account leaves mqa only by ending an episode, so a later status
  // with a past episode marks that end.
  return (
    state.status !== 'mqa' &&
    state.episode > 0 &&
    now - state.statusChangedAt < ACCOUNT_RESUME_WINDOW_MS
  );
}

/**
 * Returns the earliest time after `now` at which decay alone can end an
 * MQA's episode: its score falls below the recycle level, or a required
 * role (or one of the `minimumRoles` covered roles) loses its last
 * engaged lead. Undefined when decay never ends it.
 */
export function accountReviewAt(
  members: readonly AccountMember[],
  model: ScoringModel,
  score: AccountScore,
  now: number,
): number | undefined {
  const policy = model.accounts;
  if (policy === undefined) return undefined;
  const below = engagementBelowAt(members, model, policy, score.fit, now);
  const lapses = roleLapses(members, model, policy.engagedIntent);
  const required = policy.qualification.requiredRoles.map(
    (role) => lapses.get(role) ?? now,
  );
  const sorted = [...lapses.values()].sort((a, b) => b - a);
  const minimum = policy.qualification.minimumRoles;
  // Coverage below the minimum does not end an episode, so a lapse in the
  // past would make every review due again at once.
  const coverageLapse = minimum > 0 ? sorted[minimum - 1] : undefined;
  const coverage =
    coverageLapse !== undefined && coverageLapse > now ? [coverageLapse] : [];
  const times = [below, ...required, ...coverage].filter(
    (time): time is number => time !== undefined && Number.isFinite(time),
  );
  return times.length === 0 ? undefined : Math.max(now, Math.min(...times));
}

/**
 * Returns the first millisecond after `now` at which the account score,
 * rounded to cents, is below the recycle level, or undefined when decay
 * never takes it there. It follows the members that count at `now`. A
 * member whose penalty outweighs its decayed points counts as 0, not
 * below, so this time can come early, never late, and the review at it
 * computes the next one.
 */
function engagementBelowAt(
  members: readonly AccountMember[],
  model: ScoringModel,
  policy: AccountPolicy,
  fit: number,
  now: number,
): number | undefined {
  const counted = members
    .map((member) => ({ member, intent: decayedIntent(member, model, now) }))
    .filter(({ intent }) => intent > 0)
    .sort((a, b) => b.intent - a.intent)
    .slice(0, policy.engagementLeads);
  let base = fit;
  const terms: DecayingTerm[] = [];
  for (const { member } of counted) {
    const parts = intentPartsOf(member, model);
    base += parts.steady;
    const elapsed = now - member.intentAt;
    for (const term of parts.terms) {
      const factor = decayFactor(term.retentionPerQuarter, elapsed);
      const points = term.points * factor;
      if (points > 0) terms.push({ ...term, points });
    }
  }
  return timeBelowLevel(now, base, terms, policy.qualification.recycleBelow);
}

/**
 * Returns, per role, the time its last engaged lead stops being engaged:
 * the first millisecond its intent, rounded to cents, is below the level.
 */
function roleLapses(
  members: readonly AccountMember[],
  model: ScoringModel,
  engagedIntent: number,
): Map<string, number> {
  const lapses = new Map<string, number>();
  for (const member of members) {
    if (member.role === undefined) continue;
    if (!isEngaged(member.intent, engagedIntent)) continue;
    const { steady, terms } = intentPartsOf(member, model);
    const lapse =
      timeBelowLevel(member.intentAt, steady, terms, engagedIntent) ??
      Number.POSITIVE_INFINITY;
    lapses.set(member.role, Math.max(lapses.get(member.role) ?? 0, lapse));
  }
  return lapses;
}
