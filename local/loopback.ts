import { isIP } from 'node:net';

/**
 * An IPv4-mapped IPv6 address of 127.0.0.0/8, dotted as typed
 * (`::ffff:127.0.0.1`) or in hexadecimal as a URL's `hostname` gives it
 * (`::ffff:7f00:1`).
 */
const MAPPED_LOOPBACK =
  /^::ffff:(127(\.\d{1,3}){3}|7f[0-9a-f]{2}:[0-9a-f]{1,4})$/;

/**
 * Tells whether a host name or address names this machine only:
 * `localhost` and its subdomains (with or without the final dot), `::1`,
 * the whole 127.0.0.0/8 block and its IPv4-mapped IPv6 addresses. A
 * URL's `hostname` gives IPv6 addresses in brackets and IPv4 shorthands
 * such as `127.1` already in dotted form, and both are read here.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  const address = name.replace(/^\[(.*)\]$/, '$1');
  if (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    address === '::1' ||
    MAPPED_LOOPBACK.test(address) ||
    /^127(\.\d{1,3}){3}$/.test(name)
  ) {
    return true;
  }
  // Node.js listens on IPv4 shorthands such as `127.1` or `0x7f.1` as
  // 127.0.0.1, and the URL parser writes them in that dotted form.
  const url = `http://${isIP(address) === 6 ? `[${address}]` : name}`;
  if (!URL.canParse(url)) return false;
  const { hostname } = new URL(url);
  return hostname !== name && /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** Tells whether an endpoint URL points at this machine only. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  return isLoopbackHost(new URL(endpoint).hostname);
}

/**
 * A Host header: an IPv6 address in brackets, or a name or IPv4 address
 * without user info, path or white space, and an optional port. Group 1
 * is the host, group 2 the port.
 */
const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[^\s:@/?#[\]\\]+)(?::(\d{1,5}))?$/;

/** The highest TCP port number. */
const MAX_PORT = 65_535;

/**
 * Tells whether a Host header gives a port above 65535, which names no TCP
 * port. Such a Host is invalid, and RFC 9112, section 3.2, requires a 400
 * for an invalid Host.
 */
export function hasInvalidHostPort(value: string): boolean {
  const port = HOST_HEADER.exec(value)?.[2];
  return port !== undefined && Number(port) > MAX_PORT;
}

/**
 * Tells whether a Host header names this machine only. A browser sends
 * the host of the page's URL, so a page of another site whose domain
 * resolves to 127.0.0.1 (DNS rebinding) sends its own domain and fails
 * this check. Some clients, such as Python's urllib, send the host as
 * typed, so shorthands such as 127.1 are read through the URL parser.
 */
export function isLoopbackHostHeader(value: string): boolean {
  const match = HOST_HEADER.exec(value);
  const host = match?.[1];
  if (host === undefined) return false;
  if (match?.[2] !== undefined && Number(match[2]) > MAX_PORT) return false;
  const url = `http://${host}`;
  return URL.canParse(url) && isLoopbackEndpoint(url);
}
