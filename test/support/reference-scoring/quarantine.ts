import { normalizeText } from '../../../functions/domain/issues.js';
import type { TrackingEvent } from '../../../functions/domain/messages.js';
import type { QuarantinePolicy } from '../../../functions/domain/model.js';

/**
 * Reason an event was kept out of the score. Quarantined events are stored
 * and listed in the explanation, but add no points and are no activity.
 *
 * - `bot-user-agent`: `context.userAgent` is a crawler, HTTP library,
 *   headless browser, link previewer or mail security scanner.
 * - `click-within-seconds-of-delivery`: an email click less than the
 *   model's `minSecondsAfterDelivery` after the delivery time in its
 *   properties (or before it).
 * - `click-burst`: one of `burstClicksPerSecond` or more email clicks of
 *   the lead within the same second.
 * - `privacy-proxy-open`: an email open fetched by a privacy proxy.
 */
export type QuarantineReason =
  | 'bot-user-agent'
  | 'click-within-seconds-of-delivery'
  | 'click-burst'
  | 'privacy-proxy-open';

/** Quarantined events of one reason. */
export interface QuarantineTally {
  count: number;
  lastAt: number;
}

/**
 * Email clicks of one second, kept to detect bursts: how many arrived, and
 * the ones scored so far (rule id, or '' for no rule, and time), which a
 * burst takes back.
 */
export interface ClickSecond {
  clicks: number;
  scored: Array<[ruleId: string, at: number]>;
}

/**
 * Seconds of email clicks kept for burst detection, counted back from the
 * lead's latest click. A part of a burst that arrives later than this is
 * judged on its own.
 */
export const CLICK_HORIZON_MS = 86_400_000;

/** Most click seconds a lead keeps, the latest ones. */
export const MAX_CLICK_SECONDS = 500;

/** Returns the normalized name of a track event, undefined for other types. */
export function trackNameOf(event: TrackingEvent): string | undefined {
  if (event.type !== 'track' || event.name === undefined) return undefined;
  return normalizeText(event.name);
}

/**
 * Returns the reason a behaviour event is machine activity, or undefined
 * for an event that may be human. It judges the event on its own, so
 * bursts, which need the lead's other clicks, are detected in lead.ts.
 */
export function quarantineReasonOf(
  event: TrackingEvent,
  trackName: string | undefined,
  policy: QuarantinePolicy,
): QuarantineReason | undefined {
  const userAgent = event.userAgent?.trim();
  if (userAgent !== undefined && policy.isBotUserAgent(userAgent)) {
    return 'bot-user-agent';
  }
  if (trackName === undefined) {
    return undefined;
  }
  if (policy.emailClickEvents.has(trackName)) {
    return isTooSoonAfterDelivery(event, policy)
      ? 'click-within-seconds-of-delivery'
      : undefined;
  }
  if (policy.emailOpenEvents.has(trackName)) {
    return isProxyOpen(event, userAgent, policy)
      ? 'privacy-proxy-open'
      : undefined;
  }
  return undefined;
}

function isTooSoonAfterDelivery(
  event: TrackingEvent,
  policy: QuarantinePolicy,
): boolean {
  for (const property of policy.deliveryTimeProperties) {
    const deliveredAt = parseTime(event.properties[property]);
    if (deliveredAt !== undefined) {
      return event.occurredAt - deliveredAt < policy.minMsAfterDelivery;
    }
  }
  return false;
}

function isProxyOpen(
  event: TrackingEvent,
  userAgent: string | undefined,
  policy: QuarantinePolicy,
): boolean {
  if (userAgent !== undefined && policy.proxyUserAgent.test(userAgent)) {
    return true;
  }
  return policy.proxyFlagProperties.some((property) =>
    isTrue(event.properties[property]),
  );
}

/** Epoch values below this are seconds, above it milliseconds. */
const EPOCH_SECONDS_LIMIT = 100_000_000_000;

/**
 * Parses an ISO 8601 date-time, or epoch seconds or milliseconds, into
 * epoch milliseconds.
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    return value < EPOCH_SECONDS_LIMIT ? value * 1000 : value;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const text = value.trim();
    if (/^\d+(\.\d+)?$/.test(text)) return parseTime(Number(text));
    const time = Date.parse(text);
    return Number.isNaN(time) ? undefined : time;
  }
  return undefined;
}

function isTrue(value: unknown): boolean {
  if (value === true || value === 1) return true;
  return typeof value === 'string' && /^(true|1|yes)$/i.test(value.trim());
}

/** Returns the key of the second an event time falls in. */
export function secondOf(at: number): string {
  return String(Math.floor(at / 1000));
}

/**
 * Drops click seconds older than CLICK_HORIZON_MS before the latest one
 * or beyond the MAX_CLICK_SECONDS latest ones, and returns their scored
 * clicks.
 */
export function pruneClickSeconds(
  seconds: Record<string, ClickSecond>,
  latestAt: number,
): Array<[ruleId: string, at: number]> {
  const oldest = Math.floor((latestAt - CLICK_HORIZON_MS) / 1000);
  const keys = Object.keys(seconds).sort((a, b) => Number(a) - Number(b));
  const beyondLimit = new Set(keys.slice(0, -MAX_CLICK_SECONDS));
  const pruned: Array<[string, number]> = [];
  for (const key of keys) {
    if (Number(key) < oldest || beyondLimit.has(key)) {
      pruned.push(...(seconds[key] as ClickSecond).scored);
      delete seconds[key];
    }
  }
  return pruned;
}
