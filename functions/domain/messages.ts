import * as z from 'zod/mini';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import {
  characterCount,
  type IdSubject,
  idTextIssues,
  leadIdTextIssues,
  MAX_ID_BYTES,
} from './id-text.js';
import { isEmailAddress, normalizeEmail } from './identity.js';
// Importing issues.js also installs the plain wording of zod issues
// ("must be a string", "is required") that these schemas' rejections use.
import { requiredNotNullMessage } from './issues.js';
import { nullAsAbsent, preprocess } from './null-as-absent.js';
import {
  nonFiniteNumberPath,
  wellFormedJson,
  wellFormedText,
} from './well-formed.js';

/**
 * Schemas for incoming messages in the Segment Spec (track, page, screen,
 * identify, group, alias), as sent by Segment and RudderStack libraries.
 * Unknown top-level fields are ignored, not rejected, because clients add
 * their own (`_metadata`, `channel`, `version`).
 */

/** Maximum length of a messageId in characters (Unicode code points). */
export const MAX_MESSAGE_ID_CHARACTERS = 256;

function addIssues(messages: string[], context: z.core.$RefinementCtx): void {
  for (const message of messages) {
    context.addIssue({ code: 'custom', message });
  }
}

function checkIdText(text: string, context: z.core.$RefinementCtx): void {
  addIssues(idTextIssues(text), context);
}

/** The thing that a message's id names, and whether the id is optional. */
interface IdRole {
  optional: boolean;
  subject: IdSubject;
}

/**
 * Checks a messageId: the checks of every id, with its length in
 * characters and in bytes reported as one issue naming both limits.
 */
function checkMessageIdText(
  text: string,
  context: z.core.$RefinementCtx,
): void {
  const characters = characterCount(text);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (characters > MAX_MESSAGE_ID_CHARACTERS || bytes > MAX_ID_BYTES) {
    context.addIssue({
      code: 'custom',
      message: `is ${characters} characters and ${bytes} bytes in UTF-8; a messageId may have at most ${MAX_MESSAGE_ID_CHARACTERS} characters and ${MAX_ID_BYTES} bytes. Send a shorter id.`,
    });
    return;
  }
  checkIdText(text, context);
}

/** Advice in the rejection of a numeric id that cannot be stored. */
const NUMERIC_ID_ADVICE = `Send the id as a string, or as an integer from -${Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}.`;

/**
 * A numeric id. JSON parsing rounds integers beyond 2^53 - 1, so two such
 * ids of different people could become one lead. They are rejected
 * instead.
 */
const numericId = z
  .number()
  .check(
    z.refine(
      (value) => Math.abs(value) <= Number.MAX_SAFE_INTEGER,
      `is a number beyond 2^53 - 1, which JSON parsing rounds. ${NUMERIC_ID_ADVICE}`,
    ),
  );

/**
 * Returns the rejection message of an id that is neither a string nor a
 * finite number. JSON parsing reads a number beyond the range of a
 * double, such as 1e400, as Infinity, which z.number() rejects.
 */
function invalidIdIssue(input: unknown): string {
  if (input === undefined) return 'is required';
  if (input === null) return requiredNotNullMessage('a string or a number');
  if (input === Infinity || input === -Infinity) {
    return `is a number too large to represent, which JSON parsing reads as ${input}. ${NUMERIC_ID_ADVICE}`;
  }
  return 'must be a string or a number';
}

/**
 * Returns the schema of a lead-forming id whose errors fit `role`. The
 * error of an invisible id names the role's subject, and it suggests
 * leaving the id out only where the id is optional.
 */
function identifier(role: IdRole) {
  return z.pipe(
    z.union(
      [
        z.string().check(
          z.trim(),
          z.minLength(1, 'must not be empty'),
          z.superRefine((text, context) =>
            addIssues(leadIdTextIssues(text, role), context),
          ),
        ),
        numericId,
      ],
      { error: (issue) => invalidIdIssue(issue.input) },
    ),
    z.transform(String),
  );
}

/** A required id of a lead, such as an alias's previousId. */
const leadIdentifier = identifier({ optional: false, subject: 'lead' });

/**
 * A userId or anonymousId that a client sends for "none": null, or an
 * empty string, which the RudderStack JavaScript SDK 1.x sends as the userId
 * of every call before identify. It reads as absent, so the other id decides
 * the lead.
 */
const optionalIdentifier = preprocess(
  (value) =>
    value === null || (typeof value === 'string' && value.trim() === '')
      ? undefined
      : value,
  z.optional(identifier({ optional: true, subject: 'lead' })),
);

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})/;

/**
 * An ISO 8601 date, or date-time with an optional UTC offset, with a
 * four-digit year. Date.parse alone also takes free text ("5" is May
 * 2001) and six-digit years, which the clock skew correction could push
 * beyond the range of a Date.
 */
const ISO_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?$/;

/**
 * Tells whether a date-time's calendar date exists. Date.parse rolls an
 * ISO date with day 29 to 31 past the end of its month into the next
 * month (2026-02-30 becomes March 2), so the day is checked against the
 * month's length.
 */
function hasValidCalendarDate(text: string): boolean {
  const match = ISO_DATE.exec(text);
  if (match === null) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  return day >= 1 && day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const isLeap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return isLeap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Parses an ISO 8601 date or date-time with a four-digit year on a date
 * that exists into epoch milliseconds; returns undefined for anything else.
 */
export function parseIsoDateTime(text: string): number | undefined {
  if (!ISO_DATE_TIME.test(text) || !hasValidCalendarDate(text)) {
    return undefined;
  }
  const time = Date.parse(withUtcOffset(text));
  return Number.isNaN(time) ? undefined : time;
}

/**
 * Completes the UTC offset of a date-time for Date.parse, which reads a
 * date-time without an offset in the server's time zone and rejects an
 * offset of hours only (`+02`). A missing offset is read as UTC, as a
 * bare date already is, so the result does not depend on where the
 * engine runs.
 */
function withUtcOffset(text: string): string {
  const time = text.slice(10);
  if (time === '') return text;
  if (/[+-]\d{2}$/.test(time)) return `${text}:00`;
  return /([Zz]|[+-]\d{2}:?\d{2})$/.test(time) ? text : `${text}Z`;
}

const dateTime = z.string().check(
  z.superRefine((text, context) => {
    if (parseIsoDateTime(text) !== undefined) return;
    context.addIssue({
      code: 'custom',
      message:
        outOfRangeTimeMessage(text) ??
        'must be an ISO 8601 date-time with a four-digit year, such as 2026-01-31T12:00:00Z, on a day that exists',
    });
  }),
);

/**
 * Returns the message for an otherwise well-formed date-time whose time
 * of day or UTC offset is out of range, such as a leap second, or
 * undefined. Other text that parseIsoDateTime rejects gets undefined, so
 * callers give their own message on the expected format.
 */
export function outOfRangeTimeMessage(text: string): string | undefined {
  const offset = invalidUtcOffset(text);
  if (offset !== undefined) {
    return `has an invalid UTC offset "${offset}"; an offset has hours 00 to 23 and minutes 00 to 59, such as +02:00, or is Z for UTC`;
  }
  return invalidClockTimeMessage(text);
}

/**
 * Returns the message for an otherwise well-formed date-time whose time
 * of day is out of range, which Date.parse rejects, or undefined. A leap
 * second (:60) gets its own message, because UTC has them but JavaScript
 * time, like Unix time, does not.
 */
function invalidClockTimeMessage(text: string): string | undefined {
  if (!ISO_DATE_TIME.test(text) || !hasValidCalendarDate(text)) {
    return undefined;
  }
  const match = /^[Tt ](\d{2}):(\d{2})(?::(\d{2}))?/.exec(text.slice(10));
  if (match === null) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  const seconds = Number(match[3] ?? '0');
  if (seconds === 60) {
    return 'has a leap second (:60), which JavaScript dates cannot represent; seconds must be 00 to 59, so send :59 instead';
  }
  if (seconds > 60) return `has seconds ${match[3]}; seconds must be 00 to 59`;
  if (minutes > 59) return `has minutes ${match[2]}; minutes must be 00 to 59`;
  // Date.parse reads 24:00:00 as midnight of the next day, as ISO 8601
  // allows, so only a later time with hour 24 reaches this line.
  if (hours > 23) {
    return `has hours ${match[1]}; hours must be 00 to 23, or 24:00:00 for the end of the day`;
  }
  return undefined;
}

/**
 * Returns the UTC offset of an otherwise well-formed date-time when its
 * hours exceed 23 or its minutes 59, which Date.parse rejects. Returns
 * undefined when the offset is valid or absent.
 */
function invalidUtcOffset(text: string): string | undefined {
  if (!ISO_DATE_TIME.test(text) || !hasValidCalendarDate(text)) {
    return undefined;
  }
  const match = /[+-](\d{2}):?(\d{2})?$/.exec(text.slice(10));
  if (match === null) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2] ?? '0');
  return hours > 23 || minutes > 59 ? match[0] : undefined;
}

/**
 * A JSON object of free content (traits, properties, context), with lone
 * surrogates in its strings and keys replaced, so it can be stored. A
 * number beyond the range of a double is rejected, because it could not
 * be stored as it was scored.
 */
const jsonObject = z.pipe(
  z.record(z.string(), z.unknown()).check(
    z.superRefine((value, context) => {
      const path = nonFiniteNumberPath(value);
      if (path === undefined) return;
      context.addIssue({
        code: 'custom',
        path,
        message:
          'is a number too large to store (beyond about ±1.8e308); send a smaller number, or the value as a string',
      });
    }),
  ),
  z.transform((value: Record<string, unknown>) => wellFormedJson(value)),
);

/**
 * Maximum length of `event`, `name` and `category` in characters
 * (Unicode code points).
 */
export const MAX_TEXT_CHARACTERS = 256;

/**
 * Returns the check that a text is at most MAX_TEXT_CHARACTERS long. Its
 * error states the length, the limit and `advice`.
 */
function maxTextLength(advice: string) {
  return z.maxLength(MAX_TEXT_CHARACTERS, {
    error: (issue) =>
      `is ${characterCount(String(issue.input))} characters; the limit is ${MAX_TEXT_CHARACTERS} characters. ${advice}`,
  });
}

/**
 * Returns the schema of free text of at most MAX_TEXT_CHARACTERS, with
 * lone surrogates replaced.
 */
function shortText(advice: string) {
  return z.pipe(
    z.string().check(maxTextLength(advice)),
    z.transform(wellFormedText),
  );
}

const commonFields = {
  messageId: nullAsAbsent(
    z
      .string()
      .check(
        z.trim(),
        z.minLength(
          1,
          'must not be empty; send a unique id such as a UUID, or leave the field out to have one derived from the content',
        ),
        z.superRefine(checkMessageIdText),
      ),
  ),
  userId: optionalIdentifier,
  anonymousId: optionalIdentifier,
  timestamp: nullAsAbsent(dateTime),
  originalTimestamp: nullAsAbsent(dateTime),
  sentAt: nullAsAbsent(dateTime),
  context: nullAsAbsent(jsonObject),
};

const trackMessage = z.object({
  ...commonFields,
  type: z.literal('track'),
  event: z.pipe(
    z
      .string({
        error: (issue) =>
          issue.input === null ? requiredNotNullMessage('a string') : undefined,
      })
      .check(
        z.trim(),
        z.minLength(1, 'must not be empty'),
        maxTextLength(
          'Send a shorter event name, and the details in properties.',
        ),
      ),
    z.transform(wellFormedText),
  ),
  properties: nullAsAbsent(jsonObject),
});

const pageMessage = z.object({
  ...commonFields,
  type: z.enum(['page', 'screen']),
  name: nullAsAbsent(
    shortText(
      'Send a shorter page or screen name, and the details in properties.',
    ),
  ),
  category: nullAsAbsent(shortText('Send a shorter category.')),
  properties: nullAsAbsent(jsonObject),
});

const identifyMessage = z.object({
  ...commonFields,
  type: z.literal('identify'),
  traits: nullAsAbsent(jsonObject),
});

const groupMessage = z.object({
  ...commonFields,
  type: z.literal('group'),
  groupId: identifier({ optional: false, subject: 'account' }),
  traits: nullAsAbsent(jsonObject),
});

const aliasMessage = z.object({
  ...commonFields,
  type: z.literal('alias'),
  previousId: leadIdentifier,
  userId: leadIdentifier,
});

/** One incoming message of any supported type. */
export const segmentMessageSchema = z
  .discriminatedUnion('type', [
    trackMessage,
    pageMessage,
    identifyMessage,
    groupMessage,
    aliasMessage,
  ])
  .check(
    z.superRefine(
      (message, context) => {
        // An alias requires its own userId, and its check names the field.
        const idRequired = message.type !== 'alias';
        if (
          idRequired &&
          isAbsentId(message.userId) &&
          isAbsentId(message.anonymousId)
        ) {
          context.addIssue({
            code: 'custom',
            path: ['userId'],
            message: 'either userId or anonymousId is required',
          });
        }
        const userIds = {
          userId: message.userId,
          previousId: message.type === 'alias' ? message.previousId : undefined,
        };
        for (const [field, id] of Object.entries(userIds)) {
          if (id === '.' || id === '..') {
            context.addIssue({
              code: 'custom',
              path: [field],
              message: `must not be "${id}": a URL path cannot name it, so the lead could not be read or erased. Send another id.`,
            });
          }
          checkNormalizedEmailBytes(id, field, context);
        }
      },
      // Also runs when a field of the message failed its own check, so
      // one response names a missing id beside the other fields. The ids
      // are then still as sent, so null and blank ones count as absent.
      { when: (payload) => isRecord(payload.value) },
    ),
  );

function isAbsentId(id: unknown): boolean {
  return id == null || (typeof id === 'string' && id.trim() === '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks that an email-shaped user id stays within MAX_ID_BYTES once
 * normalized as a lead id. Lower case can take more bytes (U+0130 has 2,
 * its lower case 3), and the leads routes reject longer lead ids.
 */
function checkNormalizedEmailBytes(
  id: unknown,
  field: string,
  context: z.core.$RefinementCtx,
): void {
  // A refinement of the whole message also runs when this id failed its
  // own check, so it may still be a number or any other JSON value.
  if (typeof id !== 'string') return;
  const message = normalizedEmailBytesIssue(id);
  if (message !== undefined) {
    context.addIssue({ code: 'custom', path: [field], message });
  }
}

/**
 * Returns the issue of an email-shaped user id over MAX_ID_BYTES once
 * normalized as a lead id, or undefined for any other id.
 */
export function normalizedEmailBytesIssue(id: string): string | undefined {
  if (!isEmailAddress(id)) return undefined;
  const bytes = Buffer.byteLength(normalizeEmail(id), 'utf8');
  if (bytes <= MAX_ID_BYTES) return undefined;
  return `is ${bytes} bytes in UTF-8 once normalized as an email address (NFC, lower case); the limit is ${MAX_ID_BYTES} bytes. Send a shorter id.`;
}

export type SegmentMessage = z.infer<typeof segmentMessageSchema>;

export type MessageType = SegmentMessage['type'];

/** A trait value after flattening: only scalars are kept. */
export type TraitValue = string | number | boolean;

/**
 * A validated message reduced to what scoring and storage need, with the
 * event time resolved to epoch milliseconds.
 */
export interface TrackingEvent {
  messageId: string;
  type: MessageType;
  occurredAt: number;
  receivedAt: number;
  userId?: string;
  anonymousId?: string;
  /** Track event name, or page or screen name. */
  name?: string;
  category?: string;
  /** URL path of a page view, from properties or context. */
  path?: string;
  properties: Record<string, unknown>;
  /** Identify traits, and group traits under `company.`, flattened. */
  traits: Record<string, TraitValue>;
  groupId?: string;
  previousId?: string;
  userAgent?: string;
}

/**
 * Maximum distance between a client's clock and ours that is taken as
 * network delay rather than a wrong clock.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 60_000;

/**
 * Earliest event time: the start of year 0000, the first a timestamp can
 * state. A `sentAt` far ahead of the receive time shifts the stated time
 * back by the same amount, and a time before this one has no four-digit
 * year, so it would not read back as an ISO 8601 date-time.
 */
export const EARLIEST_EVENT_TIME = Date.parse('0000-01-01T00:00:00Z');

/**
 * Resolves when an event happened. The time is `timestamp`, else
 * `originalTimestamp`, else the receive time. When `sentAt` shows that the
 * client's clock is off by more than the tolerance, the offset is applied.
 * A time still after the receive time, by any amount, becomes the receive
 * time, so no event can postpone its own decay; a time before
 * EARLIEST_EVENT_TIME becomes that time.
 */
export function resolveEventTime(
  message: Pick<SegmentMessage, 'timestamp' | 'originalTimestamp' | 'sentAt'>,
  receivedAt: number,
): number {
  const stated = message.timestamp ?? message.originalTimestamp;
  if (stated === undefined) {
    return receivedAt;
  }
  let occurredAt = parseIsoDateTime(stated) ?? receivedAt;
  const sentAt =
    message.sentAt === undefined ? undefined : parseIsoDateTime(message.sentAt);
  if (sentAt !== undefined) {
    const clockOffset = receivedAt - sentAt;
    if (Math.abs(clockOffset) > CLOCK_SKEW_TOLERANCE_MS) {
      occurredAt += clockOffset;
    }
  }
  return Math.max(EARLIEST_EVENT_TIME, Math.min(occurredAt, receivedAt));
}

/**
 * Converts a validated message into a tracking event. A message without a
 * messageId gets one from the hash of its content, so a resent copy is
 * still recognized as a duplicate.
 */
export function toTrackingEvent(
  message: SegmentMessage,
  receivedAt: number,
): TrackingEvent {
  const userAgent = message.context?.userAgent;
  const specific = typeSpecificFields(message);
  // The fields in the order of withEventShape, so both give one shape.
  return {
    messageId: message.messageId ?? derivedMessageId(message),
    type: message.type,
    occurredAt: resolveEventTime(message, receivedAt),
    receivedAt,
    userId: message.userId,
    anonymousId: message.anonymousId,
    name: specific.name,
    category: specific.category,
    path: specific.path,
    properties: specific.properties ?? {},
    traits: specific.traits ?? {},
    groupId: specific.groupId,
    previousId: specific.previousId,
    userAgent: typeof userAgent === 'string' ? userAgent : undefined,
  };
}

/**
 * Returns the event as an object that has every field of TrackingEvent,
 * in one order, with undefined for the absent ones. Scoring reads each
 * event's fields many times, and V8 reads them fastest when all events
 * share one shape. JSON and DynamoDB items leave the undefined fields out.
 */
export function withEventShape(event: TrackingEvent): TrackingEvent {
  return {
    messageId: event.messageId,
    type: event.type,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    userId: event.userId,
    anonymousId: event.anonymousId,
    name: event.name,
    category: event.category,
    path: event.path,
    properties: event.properties,
    traits: event.traits,
    groupId: event.groupId,
    previousId: event.previousId,
    userAgent: event.userAgent,
  };
}

function typeSpecificFields(message: SegmentMessage): Partial<TrackingEvent> {
  switch (message.type) {
    case 'track':
      return { name: message.event, properties: message.properties ?? {} };
    case 'page':
    case 'screen':
      return pageFields(message);
    case 'identify':
      return { traits: flattenTraits(message.traits ?? {}) };
    case 'group':
      return {
        groupId: message.groupId,
        traits: flattenTraits(message.traits ?? {}, 'company.'),
      };
    case 'alias':
      return { previousId: message.previousId };
  }
}

function pageFields(
  message: z.infer<typeof pageMessage>,
): Partial<TrackingEvent> {
  const properties = message.properties ?? {};
  const fields: Partial<TrackingEvent> = { properties };
  const name = message.name ?? stringOrUndefined(properties.name);
  if (name !== undefined) fields.name = name;
  const category = message.category ?? stringOrUndefined(properties.category);
  if (category !== undefined) fields.category = category;
  const path = pagePath(properties, message.context ?? {});
  if (path !== undefined) fields.path = path;
  return fields;
}

function pagePath(
  properties: Record<string, unknown>,
  context: Record<string, unknown>,
): string | undefined {
  const contextPage = context.page as Record<string, unknown> | undefined;
  const path =
    stringOrUndefined(properties.path) ??
    stringOrUndefined(contextPage?.path) ??
    pathOfUrl(stringOrUndefined(properties.url)) ??
    pathOfUrl(stringOrUndefined(contextPage?.url));
  return path;
}

function pathOfUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

const MAX_TRAIT_DEPTH = 2;
/** Maximum length of a string trait in UTF-16 code units; longer ones are cut. */
export const MAX_TRAIT_LENGTH = 1000;
/** Maximum length of a kept trait name, with its prefix such as `company.`. */
const MAX_TRAIT_NAME_LENGTH = 200;

/**
 * Flattens nested traits into dot paths (`company.industry`), keeping only
 * strings, finite numbers and booleans up to two levels deep.
 */
export function flattenTraits(
  traits: Record<string, unknown>,
  prefix = '',
  depth = 1,
): Record<string, TraitValue> {
  const flat: Record<string, TraitValue> = {};
  for (const [key, value] of Object.entries(traits)) {
    if (key.trim() === '') continue;
    const path = `${prefix}${key}`;
    if (path.length > MAX_TRAIT_NAME_LENGTH) continue;
    if (typeof value === 'string') {
      flat[path] = value.slice(0, MAX_TRAIT_LENGTH);
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      flat[path] = isStorableNumber(value) ? value : String(value);
    } else if (typeof value === 'boolean') {
      flat[path] = value;
    } else if (isPlainObject(value) && depth < MAX_TRAIT_DEPTH) {
      Object.assign(flat, flattenTraits(value, `${path}.`, depth + 1));
    }
  }
  return flat;
}

/**
 * Tells whether a number is stored as a number. Integers beyond 2^53 lose
 * digits, and DynamoDB numbers stop at 38 significant digits and an
 * exponent of ±125, so other numbers are kept as their decimal text, which
 * range rules still read as numbers.
 */
function isStorableNumber(value: number): boolean {
  const magnitude = Math.abs(value);
  if (Number.isInteger(value)) return magnitude <= Number.MAX_SAFE_INTEGER;
  return magnitude > 1e-100 && magnitude < 1e100;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function derivedMessageId(message: SegmentMessage): string {
  // sentAt changes on every retry of the same message, so it is left out.
  const { sentAt: _sentAt, ...content } = message;
  return `hash-${sha256Hex(canonicalJson(content)).slice(0, 32)}`;
}
