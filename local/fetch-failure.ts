/**
 * Returns the reason for a fetch that failed because fetch blocks the
 * port of `url`, or undefined for any other failure. The Fetch standard
 * blocks ports of other protocols, such as 6000 (X11) and 10080, and
 * fetch then fails with only "bad port" in `cause`, without connecting.
 */
export function blockedPortReason(
  error: unknown,
  url: string,
): string | undefined {
  let cause = error;
  while (cause instanceof Error && cause.cause !== undefined) {
    cause = cause.cause;
  }
  if (!(cause instanceof Error) || cause.message !== 'bad port') {
    return undefined;
  }
  return `Node.js's fetch does not connect to port ${portOf(url)}, because the Fetch standard blocks it as the port of another protocol`;
}

function portOf(url: string): string {
  try {
    return new URL(url).port || 'of the URL';
  } catch {
    return 'of the URL';
  }
}
