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

/** Validates one message: its nesting, its size, then its schema. */
export function parseMessage(message: unknown): ParsedMessage {
  const tooDeep = fieldNestedTooDeep(message);
  if (tooDeep !== undefined) {
    return {
      success: false,
      errors: [
        {
          field: tooDeep,
          message: `nests objects or arrays more than ${MAX_NESTING_DEPTH} levels deep; the limit is ${MAX_NESTING_DEPTH} levels. Send flatter properties, traits and context.`,
        },
      ],
    };
  }
  // An array fails the schema's first check, and is not measured, because
  // JSON.stringify recurses into arrays nested deeper than the stack holds.
  const bytes = Array.isArray(message)
    ? 0
    : Buffer.byteLength(JSON.stringify(message) ?? '', 'utf8');
  if (bytes > MAX_MESSAGE_BYTES) {
    return {
      success: false,
      errors: [
        {
          field: '(root)',
          message: `is ${bytes} bytes of JSON; the limit is ${MAX_MESSAGE_BYTES} bytes per message. Send fewer or shorter properties and traits.`,
        },
      ],
    };
  }
  const parsed = segmentMessageSchema.safeParse(message);
  return parsed.success
    ? { success: true, data: parsed.data }
    : { success: false, errors: toFieldIssues(parsed.error) };
}

/**
 * Returns the top-level field of a message whose objects and arrays nest
 * more than MAX_NESTING_DEPTH levels (the field's own value is level 1),
 * or undefined. It walks with an explicit stack, because recursion is
 * what such a message would overflow.
 */
function fieldNestedTooDeep(message: unknown): string | undefined {
  // The schema rejects a message that is not an object, and an array
  // has no fields to name.
  if (
    message === null ||
    typeof message !== 'object' ||
    Array.isArray(message)
  ) {
    return undefined;
  }
  for (const [field, value] of Object.entries(message)) {
    const pending: Array<{ value: unknown; depth: number }> = [
      { value, depth: 1 },
    ];
    for (let entry = pending.pop(); entry; entry = pending.pop()) {
      if (entry.value === null || typeof entry.value !== 'object') continue;
      if (entry.depth > MAX_NESTING_DEPTH) return field;
      for (const child of Object.values(entry.value)) {
        pending.push({ value: child, depth: entry.depth + 1 });
      }
    }
  }
  return undefined;
}
