import type {
  CancellationReason,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { CapacityExceededError } from '../../domain/errors.js';
import {
  DuplicateMessageError,
  type LeadChange,
  VersionConflictError,
} from '../../ports/lead-repository.js';
import type { ChangeItems, ItemRole } from './change-items.js';

/** Mapping of cancelled transactions and throttled requests to errors. */

/**
 * Maps a cancelled transaction to the port's errors: a failed message
 * marker is a duplicate. An item that DynamoDB throttled makes the
 * transaction a CapacityExceededError, even beside a conflict, because
 * retrying at once would meet the same limit. A failed state condition,
 * a moved event that is gone or a conflict with another transaction is a
 * version conflict.
 */
export function cancellationError(
  change: LeadChange,
  roles: readonly ItemRole[],
  error: TransactionCanceledException,
): Error {
  const reasons = error.CancellationReasons ?? [];
  const failed = (index: number) =>
    reasons[index]?.Code === 'ConditionalCheckFailed';
  const duplicates = roles.flatMap((role, index) =>
    role.kind === 'marker' && failed(index) ? [role.messageId] : [],
  );
  if (duplicates.length > 0 && !failed(0)) {
    return new DuplicateMessageError(duplicates);
  }
  if (isThrottled(reasons)) {
    return new CapacityExceededError({ cause: error });
  }
  if (reasons.every(isConflictReason)) {
    return new VersionConflictError(change.state.leadId);
  }
  return error;
}

/**
 * Sorts the changes of a cancelled transaction by the reasons DynamoDB
 * returns per item, in item order. A change with a failed condition or a
 * transaction conflict is conflicted. A change with another reason, such
 * as throttling or validation, failed. A change whose items all have the
 * reason None is clear to send again. Returns undefined when the reasons
 * blame no change or do not match the items, so nothing is sent again.
 */
export function blameChanges(
  units: readonly ChangeItems[],
  reasons: readonly CancellationReason[],
):
  | { conflicted: LeadChange[]; failed: LeadChange[]; clear: ChangeItems[] }
  | undefined {
  const itemCount = units.reduce((sum, unit) => sum + unit.items.length, 0);
  if (reasons.length !== itemCount) return undefined;
  const blame = {
    conflicted: [] as LeadChange[],
    failed: [] as LeadChange[],
    clear: [] as ChangeItems[],
  };
  let offset = 0;
  for (const unit of units) {
    const codes = reasons
      .slice(offset, offset + unit.items.length)
      .map((reason) => reason.Code ?? 'None');
    offset += unit.items.length;
    if (codes.some((code) => CONFLICT_CODES.has(code))) {
      blame.conflicted.push(unit.change);
    } else if (codes.some((code) => code !== 'None')) {
      blame.failed.push(unit.change);
    } else {
      blame.clear.push(unit);
    }
  }
  return blame.clear.length === units.length ? undefined : blame;
}

/** Cancellation reasons that a fresh read and a retry can resolve. */
const CONFLICT_CODES: ReadonlySet<string> = new Set([
  'ConditionalCheckFailed',
  'TransactionConflict',
]);

/**
 * Names of the errors DynamoDB raises when a request exceeds the table's
 * or the account's throughput.
 */
export const THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
]);

/**
 * Cancellation reasons of a transaction item that DynamoDB throttled.
 * The SDK's TransactionCanceledException documentation lists
 * ProvisionedThroughputExceeded and ThrottlingError. RequestLimitExceeded,
 * the account's limit, is listed in case DynamoDB reports it per item.
 */
const THROTTLING_REASONS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
  'ThrottlingError',
]);

/**
 * Tells whether a cancellation reason means only that another writer got
 * there first: a failed condition, a conflict or an item that did not
 * fail.
 */
export function isConflictReason(reason: CancellationReason): boolean {
  return (
    reason.Code === undefined ||
    reason.Code === 'None' ||
    reason.Code === 'ConditionalCheckFailed' ||
    reason.Code === 'TransactionConflict'
  );
}

/** Tells whether DynamoDB throttled an item of a cancelled transaction. */
export function isThrottled(reasons: readonly CancellationReason[]): boolean {
  return reasons.some((reason) => THROTTLING_REASONS.has(reason.Code ?? ''));
}
