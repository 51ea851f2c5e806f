import type { MessageType } from '../../domain/messages.js';

/**
 * What a tracking route's body holds: a batch (`{batch: [...]}`) or one
 * message of the given type.
 */
export type TrackingPayload = 'batch' | MessageType;

/**
 * Paths of the Segment tracking API and what each accepts. The one-letter
 * paths are those analytics.js 2.0 (`@segment/analytics-next`) calls; the
 * full names are those of Segment's HTTP API; `/v1/import` is its older
 * name of `/v1/batch`.
 */
export const TRACKING_ROUTES: Readonly<Record<string, TrackingPayload>> = {
  '/v1/batch': 'batch',
  '/v1/b': 'batch',
  '/v1/import': 'batch',
  '/v1/track': 'track',
  '/v1/t': 'track',
  '/v1/page': 'page',
  '/v1/p': 'page',
  '/v1/screen': 'screen',
  '/v1/s': 'screen',
  '/v1/identify': 'identify',
  '/v1/i': 'identify',
  '/v1/group': 'group',
  '/v1/g': 'group',
  '/v1/alias': 'alias',
  '/v1/a': 'alias',
};

/**
 * Returns what the tracking route at `path` accepts. A path behind a
 * prefix the request normalization could not remove (such as a custom
 * domain's base path) matches by its ending. Returns undefined for other
 * paths.
 */
export function trackingPayloadOf(path: string): TrackingPayload | undefined {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (Object.hasOwn(TRACKING_ROUTES, trimmed)) {
    return TRACKING_ROUTES[trimmed];
  }
  const suffix = Object.keys(TRACKING_ROUTES).find((route) =>
    trimmed.endsWith(route),
  );
  return suffix === undefined ? undefined : TRACKING_ROUTES[suffix];
}
