/** Checks tracking write keys. */
export interface WriteKeyVerifier {
  /**
   * Returns the id of the tracking source a write key belongs to, or
   * undefined when the key is unknown.
   */
  verify(writeKey: string): Promise<string | undefined>;
}
