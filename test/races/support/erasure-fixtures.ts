import { sha256Hex } from '../../../functions/domain/canonical-json.js';
import type { TableItem } from './table-check.js';

/**
 * Returns an identify message of `userId` with a title and a company of
 * 5,000 employees, linking `anonymousId` when given.
 */
export function identify(userId: string, title: string, anonymousId?: string) {
  return {
    type: 'identify',
    messageId: `${userId}-${anonymousId ?? 'known'}-identify`,
    userId,
    ...(anonymousId === undefined ? {} : { anonymousId }),
    traits: {
      title,
      email: userId,
      company: { employee_count: 5000, industry: 'Manufacturing' },
    },
  };
}

export function demo(ids: Record<string, string>, messageId: string) {
  return { type: 'track', messageId, event: 'Demo Requested', ...ids };
}

export function blog(ids: Record<string, string>, messageId: string) {
  return {
    type: 'page',
    messageId,
    ...ids,
    properties: { path: '/blog/post' },
  };
}

export function pricing(ids: Record<string, string>, messageId: string) {
  return { type: 'page', messageId, ...ids, properties: { path: '/pricing' } };
}

export function alias(messageId: string, userId: string, previousId: string) {
  return { type: 'alias', messageId, userId, previousId };
}

/**
 * Returns the ids and messages of a qualified lead that has an anonymous
 * id merged into it, a chain of two aliased ids (`old` merged into
 * `renamed`, then `renamed` into the lead) and a peer in its account.
 * `tag` makes every id and message id unique.
 */
export function chainedLead(tag: string) {
  const domain = `case-${tag}.example`;
  const lead = `erin@${domain}`;
  const anonymous = `browser-${tag}`;
  const old = `old@${domain}`;
  const renamed = `renamed@${domain}`;
  const peer = `carl@${domain}`;
  const messages = [
    blog({ anonymousId: anonymous }, `${tag}-anonymous-blog`),
    identify(lead, 'Chief Procurement Officer', anonymous),
    demo({ userId: lead }, `${tag}-lead-demo`),
    pricing({ userId: lead }, `${tag}-lead-pricing`),
    demo({ userId: lead }, `${tag}-lead-demo-2`),
    blog({ userId: old }, `${tag}-old-blog`),
    blog({ userId: renamed }, `${tag}-renamed-blog`),
    alias(`${tag}-alias-old`, renamed, old),
    alias(`${tag}-alias-renamed`, lead, renamed),
    identify(peer, 'CFO'),
    demo({ userId: peer }, `${tag}-peer-demo`),
  ];
  return {
    lead,
    anonymous,
    peer,
    /** Every text that names the lead or an id merged into it. */
    all: [lead, anonymous, old, renamed, sha256Hex(lead)],
    messages,
  };
}

/** Returns the items whose attributes contain one of `texts`. */
export function itemsNaming(
  items: readonly TableItem[],
  texts: readonly string[],
): TableItem[] {
  return items.filter((item) => {
    const text = JSON.stringify(item);
    return texts.some((name) => text.includes(name));
  });
}
