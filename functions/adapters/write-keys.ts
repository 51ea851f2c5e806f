import { createHash, timingSafeEqual } from 'node:crypto';
import type { WriteKeyVerifier } from '../ports/write-keys.js';

/** A tracking source and the SHA-256 digest of its write key. */
export interface WriteKeyDigest {
  sourceId: string;
  sha256: string;
}

/** Returns the hex SHA-256 digest of a write key. */
export function hashWriteKey(writeKey: string): string {
  return createHash('sha256').update(writeKey, 'utf8').digest('hex');
}

/**
 * Verifies write keys against stored SHA-256 digests, so the keys
 * themselves are never kept. Every digest is compared in constant time.
 */
export class DigestWriteKeyVerifier implements WriteKeyVerifier {
  private readonly digests: Array<{ sourceId: string; digest: Buffer }>;

  constructor(digests: readonly WriteKeyDigest[]) {
    this.digests = digests.map(({ sourceId, sha256 }) => ({
      sourceId,
      digest: Buffer.from(sha256, 'hex'),
    }));
  }

  async verify(writeKey: string): Promise<string | undefined> {
    const candidate = Buffer.from(hashWriteKey(writeKey), 'hex');
    let match: string | undefined;
    for (const { sourceId, digest } of this.digests) {
      if (
        digest.length === candidate.length &&
        timingSafeEqual(digest, candidate)
      ) {
        match ??= sourceId;
      }
    }
    return match;
  }
}
