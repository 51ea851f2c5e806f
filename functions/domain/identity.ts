import { domainToASCII } from 'node:url';
import { leadIdTextIssues } from './id-text.js';
import { normalizeText } from './issues.js';
import type { TrackingEvent } from './messages.js';

/** Prefix of lead ids made from an anonymous id. */
export const ANONYMOUS_PREFIX = 'anon:';

/**
 * Prefix added to a user id that starts with `anon:` or with this prefix
 * itself, so that no user id can name an anonymous lead and each lead id
 * comes from one user id only.
 */
export const ESCAPED_USER_PREFIX = '~';

/**
 * A text with one @ and no white space, with the part after the @ in
 * group 1. Each part's class excludes @, so the match takes linear time.
 */
const EMAIL_PARTS = /^[^\s@]+@([^\s@]+)$/u;

/**
 * Tells whether a text has the shape of an email address: one @, no
 * white space, and a dot in the domain with a character before and after
 * it. The dot is found without a regex, because `[^\s@]+\.[^\s@]+$`
 * backtracks over every dot. On Node.js 20 it took over a second for
 * `a@`, 32,768 dots and ` x`.
 */
export function isEmailAddress(text: string): boolean {
  const domain = EMAIL_PARTS.exec(text.trim())?.[1];
  // Dropping one UTF-16 code unit at each end keeps a dot that has a
  // character on both sides, also when that character is a surrogate pair.
  return domain?.slice(1, -1).includes('.') === true;
}

/**
 * Normalizes an email address for comparison and as a key: trimmed,
 * Unicode NFC and lower case. The original text is kept for display.
 */
export function normalizeEmail(text: string): string {
  return normalizeText(text);
}

/**
 * Returns a domain name in the form that accounts and domain rules
 * compare: the IDNA ASCII form of UTS #46, as node:url domainToASCII
 * gives it, so `bücher.example`, `BÜCHER.example` and
 * `xn--bcher-kva.example` are one domain. A name that IDNA rejects, such
 * as an address literal `[10.0.0.1]`, is kept as it is, and so is a name
 * with `%`, which domainToASCII would percent-decode (`%61cme.example` to
 * `acme.example`) as URL hosts are, although IDNA does not.
 */
export function asciiDomain(domain: string): string {
  if (domain.includes('%')) return domain;
  const ascii = domainToASCII(domain);
  return ascii === '' ? domain : ascii;
}

/**
 * The full stops that UTS #46 maps to `.` as label separators: the
 * ideographic full stop U+3002, the full-width U+FF0E and the half-width
 * ideographic U+FF61.
 */
const IDNA_DOT_SEPARATORS = /[\u3002\uFF0E\uFF61]/gu;

/**
 * Writes each IDNA dot separator of a text as `.`, as domainToASCII reads
 * it. Trailing-dot removal and the dot checks of a domain run on this
 * form, so `theta.example。` and `theta。example` name `theta.example`.
 */
export function withAsciiDots(text: string): string {
  return text.replace(IDNA_DOT_SEPARATORS, '.');
}

/**
 * Returns a domain or domain suffix of a model list (personal mailbox
 * domains, `domains` of a fit rule) in the form of asciiDomain, without
 * a leading `@`.
 */
export function domainListEntry(text: string): string {
  return asciiDomain(normalizeText(text).replace(/^@/, ''));
}

/**
 * Returns the normalized domain of an email address (the part after the
 * last @) or of a bare domain name, with IDNA dot separators read as
 * `.`, without a trailing dot and in the form of asciiDomain. Returns
 * undefined for text that is neither, and for a domain with characters
 * no domain name has: control characters and format characters such as
 * U+200B or the bidirectional controls, which would form an account that
 * looks like another one. They are checked before IDNA, which would drop
 * U+200B.
 */
export function emailDomainOf(text: string): string | undefined {
  const normalized = normalizeText(text);
  const at = normalized.lastIndexOf('@');
  const domain = withAsciiDots(
    at === -1 ? normalized : normalized.slice(at + 1),
  ).replace(/\.$/, '');
  if (
    domain === '' ||
    /[\s@/\p{Cf}]/u.test(domain) ||
    !domain.includes('.') ||
    leadIdTextIssues(domain, { optional: false }).length > 0
  ) {
    return undefined;
  }
  return asciiDomain(domain);
}

/**
 * Returns the lead id of a user id. A user id shaped like an email address
 * is normalized, so `Jane@Acme.example ` and `jane@acme.example` are one
 * lead. Any other user id is kept as it is, because it may be a
 * case-sensitive key of another system. A user id starting with `anon:`
 * or `~` gets a `~` in front, so the user id `anon:a1` is not the
 * anonymous lead `anon:a1`.
 */
export function userLeadId(userId: string): string {
  const id = isEmailAddress(userId) ? normalizeEmail(userId) : userId;
  return isPrefixed(id) ? `${ESCAPED_USER_PREFIX}${id}` : id;
}

/**
 * Returns the lead id named by an id in a request path or a file of lead
 * ids: a lead id starting with `anon:` or `~` as it is, and any other id
 * read as a user id, so an email address in any case finds its lead. The
 * id is trimmed as ingest trims the id of a message it came from: the
 * whole id, and also the anonymous id after `anon:` or the user id after
 * `~`, so `anon: a1 ` names `anon:a1`.
 */
export function requestedLeadId(id: string): string {
  const trimmed = id.trim();
  for (const prefix of [ANONYMOUS_PREFIX, ESCAPED_USER_PREFIX]) {
    if (trimmed.startsWith(prefix)) {
      return `${prefix}${trimmed.slice(prefix.length).trim()}`;
    }
  }
  return userLeadId(trimmed);
}

function isPrefixed(id: string): boolean {
  return id.startsWith(ANONYMOUS_PREFIX) || id.startsWith(ESCAPED_USER_PREFIX);
}

/** Returns the lead id of an anonymous id. */
export function anonymousLeadId(anonymousId: string): string {
  return `${ANONYMOUS_PREFIX}${anonymousId}`;
}

/** Tells whether a lead id was made from an anonymous id. */
export function isAnonymousLeadId(leadId: string): boolean {
  return leadId.startsWith(ANONYMOUS_PREFIX);
}

/**
 * Returns the lead an event belongs to before identity links are
 * followed: its userId (normalized when it is an email address), or its
 * anonymousId under the `anon:` prefix so the two id spaces never collide.
 */
export function leadIdOf(
  event: Pick<TrackingEvent, 'userId' | 'anonymousId'>,
): string {
  if (event.userId !== undefined) {
    return userLeadId(event.userId);
  }
  return anonymousLeadId(event.anonymousId ?? '');
}

/** A claim that the lead `from` is the same person as the lead `to`. */
export interface IdentityLink {
  from: string;
  to: string;
}

/**
 * Returns the identity links an event states. Any message with both a
 * userId and an anonymousId links the anonymous lead to the user, as an
 * identify call does. An alias links its previousId, which may be an
 * anonymous id or an earlier user id, to its userId.
 */
export function identityLinksOf(
  event: Pick<TrackingEvent, 'type' | 'userId' | 'anonymousId' | 'previousId'>,
): IdentityLink[] {
  if (event.userId === undefined) {
    return [];
  }
  const to = userLeadId(event.userId);
  const links: IdentityLink[] = [];
  if (event.anonymousId !== undefined) {
    links.push({ from: anonymousLeadId(event.anonymousId), to });
  }
  if (event.type === 'alias' && event.previousId !== undefined) {
    const previous = userLeadId(event.previousId);
    if (previous !== to) links.push({ from: previous, to });
    const anonymous = anonymousLeadId(event.previousId);
    if (!links.some((link) => link.from === anonymous)) {
      links.push({ from: anonymous, to });
    }
  }
  return links;
}
