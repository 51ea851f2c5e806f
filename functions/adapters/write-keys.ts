import { createHash, timingSafeEqual } from 'node:crypto';
import type * as z from 'zod/mini';
import type { WriteKeyVerifier } from '../ports/write-keys.js';

/** A tracking source and the SHA-256 digest of its write key. */
export interface WriteKeyDigest {
  sourceId: string;
  sha256: string;
}

/**
 * Problem of a write key with a colon. Clients send the key as the HTTP
 * Basic user name, `base64(key + ":")`, and RFC 7617 ends the user name at
 * the first colon, so the server would read only the part before it.
 */
const COLON_PROBLEM =
  'must not contain ":", because clients send the write key as the HTTP Basic user name, which ends at the first colon (RFC 7617). Choose a key without ":", such as the output of `openssl rand -hex 24`';

/**
 * Problem of a write key with white space at either end, which copying a
 * key adds or drops unnoticed, so the key that clients send would differ.
 */
const WHITESPACE_PROBLEM =
  'must not start or end with white space, which copying the key adds or drops unnoticed. Remove it, or choose a key such as the output of `openssl rand -hex 24`';

/** Problem of a write key with a control character, such as a newline. */
const CONTROL_PROBLEM =
  'must not contain control characters (U+0000 to U+001F, U+007F to U+009F), such as a newline copied with the key. Remove them from the key';

/**
 * Returns why a new write key cannot be used, or undefined when it can.
 * The message is a predicate to follow the setting's name.
 */
export function writeKeyProblem(writeKey: string): string | undefined {
  if (writeKey.includes(':')) return COLON_PROBLEM;
  if (/\p{Cc}/u.test(writeKey)) return CONTROL_PROBLEM;
  if (writeKey.trim() !== writeKey) return WHITESPACE_PROBLEM;
  return undefined;
}

/** Zod refinement that adds the writeKeyProblem of a key, if any. */
export function addWriteKeyIssue(
  writeKey: string,
  context: z.core.$RefinementCtx,
): void {
  const problem = writeKeyProblem(writeKey);
  if (problem !== undefined) {
    context.addIssue({ code: 'custom', message: problem });
  }
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
