/**
 * Problem of an admin token with a character outside visible ASCII. The
 * token travels in the Authorization header, whose value Node.js reads
 * byte by byte as Latin-1, and the local server trims it, so a space at
 * either end or any non-ASCII character makes every admin request fail
 * with 401.
 */
const ADMIN_TOKEN_CHARACTERS_PROBLEM =
  'must contain only visible ASCII characters, ! to ~ (U+0021 to U+007E), because clients send it in the Authorization header; white space, control characters and non-ASCII characters never match. Choose a token such as the output of `openssl rand -hex 24`';

/**
 * Returns why an admin token cannot be used, or undefined when it can.
 * The message is a predicate to follow the setting's name.
 */
export function adminTokenProblem(adminToken: string): string | undefined {
  if (adminToken === '') return 'must not be empty';
  if (!/^[\x21-\x7e]+$/.test(adminToken)) return ADMIN_TOKEN_CHARACTERS_PROBLEM;
  return undefined;
}
