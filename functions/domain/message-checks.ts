/**
 * Checks of one tracking message before it is scored: its nesting, its
 * size and its schema. Ingest rejects a message that fails them, and
 * offline tools such as the backtest use them to judge messages alike.
 */
import type { FieldIssue } from './errors.js';
import { toFieldIssues } from './issues.js';
import { type SegmentMessage, segmentMessageSchema } from './messages.js';

/** Maximum size of one message as JSON in UTF-8 bytes, as Segment's API. */
export const MAX_MESSAGE_BYTES = 32 * 1024;

/**
 * Maximum nesting of objects and arrays within one top-level field of a
 * message, such as `properties`. A few thousand levels overflow the stack
 * of the recursive JSON.stringify that measures and stores the message.
 */
export const MAX_NESTING_DEPTH = 32;

export type ParsedMessage =
  | { success: true; data: SegmentMessage }
  | { success: false; errors: FieldIssue[] };

/**
 * Validates one message: its nesting, its size, then its schema. A
 * message with fields nested too deep gets an error for each of them and
 * the schema errors of its other fields. A message over MAX_MESSAGE_BYTES
 * gets the size error alone, because checking its fields would cost what
 * the limit saves. The size is that of `sent`, the message as the client
 * sent it, when the tracking API added fields to it, such as a batch's
 * `sentAt` or a route's `type`.
 */
export function parseMessage(
  message: unknown,
  sent: unknown = message,
): ParsedMessage {
  const tooDeep = fieldsNestedTooDeep(message);
  if (tooDeep.length > 0) {
    return {
      success: false,
      errors: [
        ...tooDeep.map(tooDeepIssue),
        ...otherFieldIssues(message as Record<string, unknown>, sent, tooDeep),
      ],
    };
  }
  const sizeIssue = messageSizeIssue(measuredMessage(message, sent));
  if (sizeIssue !== undefined) return { success: false, errors: [sizeIssue] };
  const parsed = segmentMessageSchema.safeParse(message);
  return parsed.success
    ? { success: true, data: parsed.data }
    : { success: false, errors: toFieldIssues(parsed.error) };
}

function tooDeepIssue(field: string): FieldIssue {
  return {
    field,
    message: `nests objects or arrays more than ${MAX_NESTING_DEPTH} levels deep; the limit is ${MAX_NESTING_DEPTH} levels. Send flatter properties, traits and context.`,
  };
}

/**
 * Returns the size error of a message over MAX_MESSAGE_BYTES, or
 * undefined. The message must nest no field too deep, because
 * JSON.stringify recurses.
 */
function messageSizeIssue(message: unknown): FieldIssue | undefined {
  // An array fails the schema's first check, and is not measured, because
  // JSON.stringify recurses into arrays nested deeper than the stack holds.
  const bytes = Array.isArray(message)
    ? 0
    : Buffer.byteLength(JSON.stringify(message) ?? '', 'utf8');
  if (bytes <= MAX_MESSAGE_BYTES) return undefined;
  return {
    field: '(root)',
    message: `is ${bytes} bytes of JSON; the limit is ${MAX_MESSAGE_BYTES} bytes per message. Send fewer or shorter properties and traits.`,
  };
}

/**
 * Returns the message that the size limit measures. That is `sent`,
 * unless a field in which it differs from `message` nests too deep for
 * the recursive JSON.stringify (such as a deep `type` that a single-call
 * route replaced), and `message` in that case.
 */
function measuredMessage(message: unknown, sent: unknown): unknown {
  if (sent === message || !isRecord(sent) || !isRecord(message)) {
    return message;
  }
  const differing = Object.keys(sent).filter(
    (field) => sent[field] !== message[field],
  );
  return differing.some((field) => isNestedTooDeep(sent[field]))
    ? message
    : sent;
}

/**
 * Returns the schema errors of a message's fields other than `tooDeep`,
 * or none when the message as sent is over MAX_MESSAGE_BYTES without
 * them, as an oversized message gets none. Each too-deep field is
 * replaced with an empty object or array, so the schema never walks its
 * depth, and a too-deep id still counts as sent. The errors of the
 * replaced fields are left out, because an empty value has errors of its
 * own ("must not be empty").
 */
function otherFieldIssues(
  message: Record<string, unknown>,
  sent: unknown,
  tooDeep: readonly string[],
): FieldIssue[] {
  const shallow = withEmptyFields(message, tooDeep);
  const shallowSent = isRecord(sent) ? withEmptyFields(sent, tooDeep) : sent;
  if (messageSizeIssue(measuredMessage(shallow, shallowSent)) !== undefined) {
    return [];
  }
  const skipped = new Set(tooDeep);
  const parsed = segmentMessageSchema.safeParse(shallow);
  if (parsed.success) return [];
  const issues = parsed.error.issues.filter((issue) => {
    const field = issue.path[0];
    return typeof field !== 'string' || !skipped.has(field);
  });
  return toFieldIssues({ issues });
}

/**
 * Returns a copy of `message` with each of `fields` that it has replaced
 * by an empty object or array.
 */
function withEmptyFields(
  message: Record<string, unknown>,
  fields: readonly string[],
): Record<string, unknown> {
  const emptied = new Set(fields);
  // Object.fromEntries defines each key as data, so a `__proto__` field
  // stays a field and does not set the prototype.
  return Object.fromEntries(
    Object.entries(message).map(([field, value]) => {
      if (!emptied.has(field)) return [field, value];
      return [field, Array.isArray(value) ? [] : {}];
    }),
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Returns the top-level fields of a message whose objects and arrays nest
 * more than MAX_NESTING_DEPTH levels (the field's own value is level 1),
 * in the message's order. It walks with an explicit stack, because
 * recursion is what such a message would overflow.
 */
function fieldsNestedTooDeep(message: unknown): string[] {
  // The schema rejects a message that is not an object, and an array
  // has no fields to name.
  if (
    message === null ||
    typeof message !== 'object' ||
    Array.isArray(message)
  ) {
    return [];
  }
  return Object.entries(message).flatMap(([field, value]) =>
    isNestedTooDeep(value) ? [field] : [],
  );
}

function isNestedTooDeep(value: unknown): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [
    { value, depth: 1 },
  ];
  for (let entry = pending.pop(); entry; entry = pending.pop()) {
    if (entry.value === null || typeof entry.value !== 'object') continue;
    if (entry.depth > MAX_NESTING_DEPTH) return true;
    for (const child of Object.values(entry.value)) {
      pending.push({ value: child, depth: entry.depth + 1 });
    }
  }
  return false;
}
