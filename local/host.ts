import { isIP } from 'node:net';

/**
 * Returns a host without the brackets that URLs put around an IPv6
 * address, so `[::1]` and `::1` name one address.
 */
export function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Returns the host as a URL writes it: an IPv6 address in brackets, any
 * other host as it is. `http://::1:3000` is no valid URL, but
 * `http://[::1]:3000` is.
 *
 * NOTE: the URL of an address with a zone, such as `fe80::1%eth0`, is
 * not valid, because RFC 6874 needs its `%` written as `%25`.
 */
export function urlHost(host: string): string {
  const bare = bareHost(host);
  return isIP(bare) === 6 ? `[${bare}]` : bare;
}
