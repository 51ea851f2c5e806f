/**
 * Tells whether a host name or address names this machine only:
 * `localhost` and its subdomains (with or without the final dot), `::1`
 * and the whole 127.0.0.0/8 block. A URL's `hostname` gives IPv6
 * addresses in brackets and IPv4 shorthands such as `127.1` already in
 * dotted form, and both are read here.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name === '::1' ||
    name === '[::1]' ||
    /^127(\.\d{1,3}){3}$/.test(name)
  );
}

/** Tells whether an endpoint URL points at this machine only. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  return isLoopbackHost(new URL(endpoint).hostname);
}
