import { normalizeText } from './issues.js';
import { matchedPart } from './matched-part.js';
import { parseIsoDateTime, type TrackingEvent } from './messages.js';
import type { QuarantinePolicy } from './model.js';

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
  /** The second: event time in milliseconds divided by 1000, floored. */
  second: number;
  clicks: number;
  scored: Array<[ruleId: string, at: number]>;
}

/** Email clicks of one second as stored, keyed by the second. */
export type StoredClickSecond = Omit<ClickSecond, 'second'>;

/**
 * Seconds of email clicks kept for burst detection, counted back from the
 * lead's latest click. A part of a burst that arrives later than this is
 * judged on its own.
 */
export const CLICK_HORIZON_MS = 86_400_000;

/**
 * Most click seconds a lead keeps, the latest ones. Without a limit, a
 * scanner that clicks in thousands of seconds of one day would grow the
 * lead's state beyond DynamoDB's 400 KB item limit, after which every
 * write of the lead fails. A second with two clicks scored under a rule
 * id of 64 characters takes about 190 bytes, so these take under 100 KB.
 * People click in far fewer seconds a day.
 */
export const MAX_CLICK_SECONDS = 500;

/** Returns the normalized name of a track event, undefined for other types. */
export function trackNameOf(event: TrackingEvent): string | undefined {
  if (event.type !== 'track' || event.name === undefined) return undefined;
  let normalized = normalizedNames.get(event.name);
  if (normalized === undefined) {
    normalized = normalizeText(event.name);
    if (normalizedNames.size >= MAX_REMEMBERED_NAMES) normalizedNames.clear();
    normalizedNames.set(event.name, normalized);
  }
  return normalized;
}

/**
 * Normalized track names by name as sent. Senders repeat a few event
 * names, and Unicode normalization costs more than a lookup.
 */
const normalizedNames = new Map<string, string>();

/** Track names remembered. The memo is cleared when full. */
const MAX_REMEMBERED_NAMES = 1024;

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
  if (
    userAgent !== undefined &&
    policy.proxyUserAgent.test(matchedPart(userAgent))
  ) {
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
 * epoch milliseconds. A date-time without a UTC offset is read as UTC, as
 * event timestamps are.
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    return value < EPOCH_SECONDS_LIMIT ? value * 1000 : value;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const text = value.trim();
    if (/^\d+(\.\d+)?$/.test(text)) return parseTime(Number(text));
    return parseIsoDateTime(text);
  }
  return undefined;
}

function isTrue(value: unknown): boolean {
  if (value === true || value === 1) return true;
  return typeof value === 'string' && /^(true|1|yes)$/i.test(value.trim());
}

/** Returns the second an event time falls in. */
export function secondOf(at: number): number {
  return Math.floor(at / 1000);
}

/**
 * Drops click seconds, sorted by second, older than CLICK_HORIZON_MS
 * before the latest one or beyond the MAX_CLICK_SECONDS latest ones, and
 * returns their scored clicks.
 */
export function pruneClickSeconds(
  seconds: ClickSecond[],
  latestAt: number,
): Array<[ruleId: string, at: number]> {
  const oldest = Math.floor((latestAt - CLICK_HORIZON_MS) / 1000);
  let count = 0;
  while (
    count < seconds.length &&
    (seconds[count] as ClickSecond).second < oldest
  ) {
    count += 1;
  }
  count = Math.max(count, seconds.length - MAX_CLICK_SECONDS);
  if (count === 0) return [];
  const pruned: Array<[string, number]> = [];
  for (const second of seconds.splice(0, count)) pruned.push(...second.scored);
  return pruned;
}

/** Converts click seconds to their stored form, a record by second. */
export function toStoredClickSeconds(
  seconds: readonly ClickSecond[],
): Record<string, StoredClickSecond> {
  const stored: Record<string, StoredClickSecond> = {};
  for (const { second, clicks, scored } of seconds) {
    stored[second] = { clicks, scored };
  }
  return stored;
}

/** Converts stored click seconds to a list sorted by second. */
export function fromStoredClickSeconds(
  stored: Readonly<Record<string, StoredClickSecond>>,
): ClickSecond[] {
  const seconds: ClickSecond[] = [];
  for (const key in stored) {
    const { clicks, scored } = stored[key] as StoredClickSecond;
    seconds.push({ second: Number(key), clicks, scored });
  }
  return seconds.sort((a, b) => a.second - b.second);
}
