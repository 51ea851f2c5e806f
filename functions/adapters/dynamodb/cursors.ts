import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { canonicalJson, sha256Hex } from '../../domain/canonical-json.js';
import { InvalidCursorError } from '../../ports/lead-repository.js';
import { isHistorySortKey } from './items.js';
import { TABLE_LAYOUT } from './table-layout.js';

/** Page cursors of the repository's queries, as base64url JSON. */

type Item = Record<string, AttributeValue>;

export function encode(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(unmarshall(key as never))).toString(
    'base64url',
  );
}

/** Name of the field of a history cursor that binds it to its lead. */
const CURSOR_TAG = 'lead';

/**
 * Returns the tag that binds history cursors to one incarnation of a lead:
 * a hash of its id and its random incarnationId, so the tag reveals
 * neither. Undefined for a lead stored before incarnationId existed. Its
 * cursors are then accepted for any lead, but the query still reads only
 * the lead of the request.
 */
export function historyCursorTag(
  leadId: string,
  cursorKey: string | undefined,
): string | undefined {
  if (cursorKey === undefined) return undefined;
  return sha256Hex(canonicalJson(['history-cursor', leadId, cursorKey])).slice(
    0,
    16,
  );
}

/**
 * Encodes the position after a page of history as a cursor: the sort key
 * and the lead's tag, without the partition key, which names the lead.
 */
export function encodeHistoryCursor(
  key: Record<string, unknown>,
  tag: string | undefined,
): string {
  const fields = unmarshall(key as never);
  const cursor = {
    [TABLE_LAYOUT.sortKey]: fields[TABLE_LAYOUT.sortKey],
    ...(tag === undefined ? {} : { [CURSOR_TAG]: tag }),
  };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/**
 * Decodes a history cursor, accepting only the sort key of a history
 * entry with the listed lead's tag, so a cursor cannot read other items.
 * A cursor from before cursors dropped the partition key is accepted
 * when that key is the listed lead's and the lead has no incarnationId,
 * as only leads stored before incarnationId existed can have one.
 */
export function historyCursorKey(
  cursor: string,
  partition: string,
  tag: string | undefined,
): Item {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (typeof key !== 'object' || key === null) throw new InvalidCursorError();
  const {
    [TABLE_LAYOUT.partitionKey]: legacyPartition,
    [TABLE_LAYOUT.sortKey]: sortKey,
    [CURSOR_TAG]: cursorTag,
    ...rest
  } = key as Record<string, unknown>;
  const bound =
    legacyPartition === undefined
      ? cursorTag === tag
      : legacyPartition === partition &&
        cursorTag === undefined &&
        tag === undefined;
  const valid =
    Object.keys(rest).length === 0 && bound && isHistorySortKey(sortKey);
  if (!valid) throw new InvalidCursorError();
  return marshall({
    [TABLE_LAYOUT.partitionKey]: partition,
    [TABLE_LAYOUT.sortKey]: sortKey,
  });
}

export function decode(cursor: string) {
  return marshall(JSON.parse(Buffer.from(cursor, 'base64url').toString()));
}
