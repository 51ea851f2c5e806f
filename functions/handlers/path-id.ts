/**
 * Maximum size in UTF-8 bytes of a lead or account id in a path. Ingest
 * accepts user ids of the same size, and DynamoDB rejects partition keys
 * of 2048 bytes or more.
 */
export const MAX_PATH_ID_BYTES = 512;

/** Returns whether an id fits in {@link MAX_PATH_ID_BYTES}. */
export function fitsPathIdLimit(id: string): boolean {
  return Buffer.byteLength(id, 'utf8') <= MAX_PATH_ID_BYTES;
}
