import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/**
 * Address ranges that EventBridge, which calls an endpoint from the AWS
 * network, cannot reach: loopback, unspecified, private (RFC 1918),
 * shared (RFC 6598, carrier-grade NAT), link-local, unique local,
 * multicast and reserved addresses.
 */
const UNREACHABLE_ADDRESSES = new BlockList();
UNREACHABLE_ADDRESSES.addSubnet('0.0.0.0', 8, 'ipv4');
UNREACHABLE_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
UNREACHABLE_ADDRESSES.addSubnet('10.0.0.0', 8, 'ipv4');
UNREACHABLE_ADDRESSES.addSubnet('100.64.0.0', 10, 'ipv4');
UNREACHABLE_ADDRESSES.addSubnet('172.16.0.0', 12, 'ipv4');
UNREACHABLE_ADDRESSES.addSubnet('192.168.0.0', 16, 'ipv4');
UNREACHABLE_ADDRESSES.addSubnet('169.254.0.0', 16, 'ipv4');
// Multicast (224.0.0.0/4) and reserved (240.0.0.0/4, with broadcast).
UNREACHABLE_ADDRESSES.addSubnet('224.0.0.0', 3, 'ipv4');
UNREACHABLE_ADDRESSES.addAddress('::', 'ipv6');
UNREACHABLE_ADDRESSES.addAddress('::1', 'ipv6');
UNREACHABLE_ADDRESSES.addSubnet('fc00::', 7, 'ipv6');
UNREACHABLE_ADDRESSES.addSubnet('fe80::', 10, 'ipv6');
UNREACHABLE_ADDRESSES.addSubnet('ff00::', 8, 'ipv6');

/**
 * Checks whether a URL's host is `localhost`, a name under `.localhost` or a
 * literal IP address in UNREACHABLE_ADDRESSES. The WHATWG URL parser has
 * already turned forms such as `2130706433` into `127.0.0.1`. Names that
 * resolve to such addresses pass, because synthesis does no DNS lookup.
 */
export function isUnreachableHost(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const version = isIP(host);
  if (version === 0) return false;
  return UNREACHABLE_ADDRESSES.check(host, version === 4 ? 'ipv4' : 'ipv6');
}

/**
 * EventBridge's syntax of an API destination's InvocationEndpoint, at most
 * 2048 characters (Amazon EventBridge API Reference, ApiDestination). The
 * CDK's CloudFormation schema check applies it to a connection's
 * AuthorizationEndpoint too. It excludes `#`, brackets, braces and
 * non-ASCII characters, so no fragment and no IPv6 address.
 */
const EVENTBRIDGE_URL_PATTERN =
  /^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@&=+$,A-Za-z0-9])+)([).!';/?:,])?$/;
const MAX_EVENTBRIDGE_URL_LENGTH = 2048;

/**
 * An https URL that EventBridge calls, such as an API destination's
 * endpoint. A user name or password would be written verbatim into the
 * template, so the connection's secret must carry credentials instead.
 */
export const eventBridgeUrlSchema = z
  .url({ protocol: /^https$/, error: 'must be an https URL' })
  .superRefine((value, context) => {
    // Zod runs this check after a failed URL check too.
    if (!URL.canParse(value)) return;
    // The URL parser also reads https:host and HTTPS://host, but the
    // template keeps the value as written.
    if (new URL(value).protocol === 'https:' && !value.startsWith('https://')) {
      context.addIssue({
        code: 'custom',
        message:
          'must start with https:// in lower case, because the template contains the URL as written; write it as https://host/path',
      });
    }
    if (
      value.length > MAX_EVENTBRIDGE_URL_LENGTH ||
      !EVENTBRIDGE_URL_PATTERN.test(value)
    ) {
      context.addIssue({
        code: 'custom',
        message: `must be at most ${MAX_EVENTBRIDGE_URL_LENGTH} characters of letters, digits, %XX escapes and -()_.!~*';/?:@&=+$, as EventBridge requires. Percent-encode other characters, remove any #fragment and use a host name instead of an IPv6 address.`,
      });
    }
    const url = new URL(value);
    if (url.username !== '' || url.password !== '') {
      context.addIssue({
        code: 'custom',
        message:
          "must not contain a user name or password, which would be written into the template; put credentials in the connection's auth secret",
      });
    }
    if (isUnreachableHost(url)) {
      context.addIssue({
        code: 'custom',
        message:
          'must not be a loopback, private, link-local, multicast or reserved address, which EventBridge cannot reach; use the public host name of the endpoint',
      });
    }
  });

/**
 * The URL of an API destination. EventBridge reads each `*` in its path
 * as a wildcard that the rule target's PathParameterValues fill
 * (EventBridge API Reference, HttpParameters). The engine sets no path
 * parameters, so a `*` there could not be sent as written.
 * NOTE: EventBridge does not document what it sends for an unfilled
 * wildcard, or whether %2A is also read as one.
 */
export const apiDestinationEndpointSchema = eventBridgeUrlSchema.refine(
  (value) => !URL.canParse(value) || !new URL(value).pathname.includes('*'),
  {
    message:
      'must not contain * in its path, which EventBridge reads as a path parameter wildcard that the engine does not fill; name the path in full',
  },
);

/** Checks whether a URL has a query string, a usual place for tokens. */
export function hasQueryString(value: string): boolean {
  return new URL(value).search !== '';
}
