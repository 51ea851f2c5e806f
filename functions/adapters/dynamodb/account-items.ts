import { randomUUID } from 'node:crypto';
import type {
  AttributeValue,
  TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AccountMember, AccountState } from '../../domain/account.js';
import type { AccountLink } from '../../ports/lead-repository.js';
import { accountPartition, reviewAttributes } from './items.js';
import { TABLE_LAYOUT } from './table-layout.js';

/** Conversions between accounts and their items. */

type Item = Record<string, AttributeValue>;

const { partitionKey: PK, sortKey: SK } = TABLE_LAYOUT;
const { partitionKey: SHARD, sortKey: REVIEW_AT } = TABLE_LAYOUT.reviewIndex;

export const ACCOUNT_STATE_SORT_KEY = 'STATE';
export const MEMBER_SORT_PREFIX = 'MEMBER#';
/** Sort key of the item that links an email-domain account to a group's. */
export const ACCOUNT_LINK_SORT_KEY = 'LINK';
/**
 * Sort key prefix of the items that record each group account whose
 * leads linked an email-domain account, followed by the group's id.
 * It starts with ACCOUNT_LINK_SORT_KEY, so one query reads both.
 */
export const ACCOUNT_LINKER_SORT_PREFIX = 'LINKER#';

/**
 * Returns the item under `linkedAccountId` naming the account its leads
 * count in. The latest group call of one of the domain's leads decides.
 * Its `linkId` is new on every write, so a conditional change of the
 * link fails when another writer wrote it after it was read.
 */
export function accountLinkToItem(
  linkedAccountId: string,
  accountId: string,
): Item {
  return marshall({
    [PK]: accountPartition(linkedAccountId),
    [SK]: ACCOUNT_LINK_SORT_KEY,
    entity: 'account-link',
    accountId: linkedAccountId,
    linkedTo: accountId,
    linkId: randomUUID(),
  });
}

/**
 * Returns the item under `linkedAccountId` recording that a lead of the
 * group account `accountId` linked it at `linkedAt` (epoch ms).
 */
export function accountLinkerToItem(
  linkedAccountId: string,
  accountId: string,
  linkedAt: number,
): Item {
  return marshall({
    [PK]: accountPartition(linkedAccountId),
    [SK]: `${ACCOUNT_LINKER_SORT_PREFIX}${accountId}`,
    entity: 'account-linker',
    accountId: linkedAccountId,
    groupAccountId: accountId,
    linkedAt,
  });
}

/** Returns the key of the item of one group that linked an account. */
export function accountLinkerKey(
  linkedAccountId: string,
  accountId: string,
): Item {
  return marshall({
    [PK]: accountPartition(linkedAccountId),
    [SK]: `${ACCOUNT_LINKER_SORT_PREFIX}${accountId}`,
  });
}

/**
 * Reads the link items of an email-domain account: the link and the
 * groups that linked it, newest first. Returns undefined without a link.
 */
export function readAccountLinkItems(
  items: readonly Item[],
): AccountLink | undefined {
  let link: { linkedTo: string; linkId: string | undefined } | undefined;
  const groups: Array<{ accountId: string; linkedAt: number }> = [];
  for (const item of items) {
    const fields = unmarshall(item);
    if (fields.entity === 'account-link') {
      link = {
        linkedTo: String(fields.linkedTo),
        linkId: typeof fields.linkId === 'string' ? fields.linkId : undefined,
      };
    }
    if (fields.entity === 'account-linker') {
      groups.push({
        accountId: String(fields.groupAccountId),
        linkedAt: Number(fields.linkedAt),
      });
    }
  }
  if (link === undefined) return undefined;
  groups.sort((a, b) => b.linkedAt - a.linkedAt);
  return { ...link, groups: groups.map((group) => group.accountId) };
}

/** Returns the key of a lead's membership item under its account. */
export function memberKey(accountId: string, leadId: string): Item {
  return marshall({
    [PK]: accountPartition(accountId),
    [SK]: `${MEMBER_SORT_PREFIX}${leadId}`,
  });
}

export function accountStateKey(accountId: string): Item {
  return marshall({
    [PK]: accountPartition(accountId),
    [SK]: ACCOUNT_STATE_SORT_KEY,
  });
}

export function memberToItem(member: AccountMember): Item {
  return marshall(
    {
      [PK]: accountPartition(member.accountId),
      [SK]: `${MEMBER_SORT_PREFIX}${member.leadId}`,
      entity: 'member',
      ...member,
    },
    { removeUndefinedValues: true },
  );
}

export function itemToMember(fields: Record<string, unknown>): AccountMember {
  return {
    accountId: String(fields.accountId),
    leadId: String(fields.leadId),
    role: fields.role === undefined ? undefined : String(fields.role),
    fit: Number(fields.fit),
    intent: Number(fields.intent),
    intentAt: Number(fields.intentAt),
    ...intentTermsOf(fields.intentTerms),
    status: fields.status as AccountMember['status'],
    ...(typeof fields.linkedAccountId === 'string'
      ? { linkedAccountId: fields.linkedAccountId }
      : {}),
  };
}

/**
 * Reads the decaying terms of a member item. Items stored before they
 * existed have none, and their whole intent decays at the model's
 * retention (see decayedIntent).
 */
function intentTermsOf(value: unknown): Pick<AccountMember, 'intentTerms'> {
  if (!Array.isArray(value)) return {};
  const intentTerms = value.map((term: Record<string, unknown>) => ({
    points: Number(term.points),
    retentionPerQuarter: Number(term.retentionPerQuarter),
  }));
  return { intentTerms };
}

/**
 * Converts an account's state to its item. An MQA with a review time goes
 * into the review index, so the sweep evaluates it when decay can end
 * its episode.
 */
export function accountStateToItem(state: AccountState, shards: number): Item {
  const review = reviewAttributes(state.accountId, state.nextReviewAt, shards);
  return marshall(
    {
      [PK]: accountPartition(state.accountId),
      [SK]: ACCOUNT_STATE_SORT_KEY,
      entity: 'account',
      ...state,
      ...review,
    },
    { removeUndefinedValues: true },
  );
}

export function itemToAccountState(
  fields: Record<string, unknown>,
): AccountState {
  const {
    [PK]: _pk,
    [SK]: _sk,
    entity: _entity,
    [SHARD]: _shard,
    [REVIEW_AT]: _reviewAt,
    ...state
  } = fields as Record<string, unknown>;
  return { qualifiedAt: undefined, ...state } as unknown as AccountState;
}

/**
 * Splits the items of an account partition into state, members and the
 * account it is linked to.
 */
export function readAccountItems(items: readonly Item[]): {
  state: AccountState | undefined;
  members: AccountMember[];
  linkedTo: string | undefined;
} {
  let state: AccountState | undefined;
  let linkedTo: string | undefined;
  const members: AccountMember[] = [];
  for (const item of items) {
    const fields = unmarshall(item);
    if (fields.entity === 'member') members.push(itemToMember(fields));
    if (fields.entity === 'account') state = itemToAccountState(fields);
    if (fields.entity === 'account-link') linkedTo = String(fields.linkedTo);
  }
  return { state, members, linkedTo };
}

/**
 * Returns condition checks that fail when a member snapshot differs from
 * `members` as read (other intent, time, fit or role, or gone), and when
 * the email-domain account of a member no longer links to `accountId`.
 * Returns at most `limit` checks, for the members listed first.
 */
export function unchangedMemberChecks(
  tableName: string,
  accountId: string,
  members: readonly AccountMember[],
  limit: number,
): TransactWriteItem[] {
  const checks = new Map<string, TransactWriteItem>();
  for (const member of members) {
    if (checks.size >= limit) break;
    const key = memberKey(member.accountId, member.leadId);
    checks.set(JSON.stringify(key), {
      ConditionCheck: {
        TableName: tableName,
        Key: key,
        ConditionExpression: `#intent = :intent AND #intentAt = :intentAt AND #fit = :fit AND ${
          member.role === undefined
            ? 'attribute_not_exists(#role)'
            : '#role = :role'
        }`,
        ExpressionAttributeNames: {
          '#intent': 'intent',
          '#intentAt': 'intentAt',
          '#fit': 'fit',
          '#role': 'role',
        },
        ExpressionAttributeValues: marshall({
          ':intent': member.intent,
          ':intentAt': member.intentAt,
          ':fit': member.fit,
          ...(member.role === undefined ? {} : { ':role': member.role }),
        }),
      },
    });
    const linked = member.accountId;
    const linkKey = JSON.stringify(['link', linked]);
    if (linked === accountId || checks.has(linkKey)) continue;
    if (checks.size >= limit) break;
    checks.set(linkKey, {
      ConditionCheck: {
        TableName: tableName,
        Key: marshall({
          [PK]: accountPartition(linked),
          [SK]: ACCOUNT_LINK_SORT_KEY,
        }),
        ConditionExpression: '#linkedTo = :accountId',
        ExpressionAttributeNames: { '#linkedTo': 'linkedTo' },
        ExpressionAttributeValues: marshall({ ':accountId': accountId }),
      },
    });
  }
  return [...checks.values()];
}
