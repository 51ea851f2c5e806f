import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AccountMember, AccountState } from '../../domain/account.js';
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
 * Returns the item under `linkedAccountId` naming the account its leads
 * count in. The latest group call of one of the domain's leads decides.
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
  });
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
    status: fields.status as AccountMember['status'],
    ...(typeof fields.linkedAccountId === 'string'
      ? { linkedAccountId: fields.linkedAccountId }
      : {}),
  };
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
