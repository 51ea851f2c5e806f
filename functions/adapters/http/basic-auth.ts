import type { ApiRequest } from './api-request.js';

/** Returns the user name of an HTTP Basic Authorization header. */
export function basicAuthUser(request: ApiRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header?.match(/^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i);
  if (!match?.[1]) {
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  const user = separator === -1 ? decoded : decoded.slice(0, separator);
  return user === '' ? undefined : user;
}
