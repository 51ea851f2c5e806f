import * as z from 'zod/mini';
import type { ApiRequest } from '../adapters/http/api-request.js';
import { readJsonBody } from '../adapters/http/request-body.js';
import type { DispositionRequest } from '../domain/disposition.js';
import { type FieldIssue, ValidationError } from '../domain/errors.js';
import { hasBidiControl, isInvisibleOnly } from '../domain/id-text.js';
import { requiredNotNullMessage, toFieldIssues } from '../domain/issues.js';
import { nullAsAbsent } from '../domain/null-as-absent.js';

/** Maximum body of a disposition or recycle request in bytes. */
const MAX_BODY_BYTES = 4 * 1024;
/**
 * Maximum length of a sales reason in code points. An emoji such as U+1F600
 * counts once, not as the two UTF-16 code units of String.length.
 */
export const MAX_REASON_LENGTH = 200;
const TOO_LARGE_ADVICE = `Send one disposition with a reason of at most ${MAX_REASON_LENGTH} characters.`;

/**
 * A surrogate not part of a pair. The reason goes out in "Lead
 * Disposition Changed", and strict UTF-8 encoders and JSON parsers reject
 * such text.
 */
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** A control character (category Cc): U+0000 to U+001F, U+007F to U+009F. */
const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * Tells whether a text has a control character other than tab and line
 * breaks. Consumers of "Lead Disposition Changed" store the reason as
 * text, and some databases reject U+0000 in text.
 */
function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text.replace(/[\t\n\r]/g, ''));
}

/** Counts the code points of a text, with a lone surrogate as one. */
function codePointCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

const reason = z
  .string({
    // A null reason is missing too, as a null field is absent elsewhere.
    error: (issue) =>
      issue.input === undefined || issue.input === null
        ? `is required: give the reason in 1 to ${MAX_REASON_LENGTH} characters`
        : 'must be a string',
  })
  .check(
    z.trim(),
    // zod 4.6 runs z.minLength and z.maxLength on any input with a length,
    // even after a type error, so an array got length errors too. A
    // refinement runs only on a string.
    z.refine((text) => text.length >= 1, 'must not be empty'),
    z.refine(
      (text) => codePointCount(text) <= MAX_REASON_LENGTH,
      `must be at most ${MAX_REASON_LENGTH} characters`,
    ),
    z.refine(
      (text) => !LONE_SURROGATE.test(text),
      'must be well-formed Unicode; it contains a lone surrogate (U+D800 to U+DFFF)',
    ),
    z.refine(
      (text) => !hasControlCharacter(text),
      'must not contain control characters other than tab and line breaks (U+0000 to U+001F, U+007F to U+009F); remove them',
    ),
    // Lead ids follow the same two rules: sales and CRM users read the
    // reason, so it must show as what it is.
    z.refine(
      (text) => !hasBidiControl(text),
      'must not contain bidirectional controls (U+202A to U+202E, U+2066 to U+2069), which make the text display in another order than it is stored; remove them',
    ),
    z.refine(
      (text) => !isInvisibleOnly(text),
      `consists only of invisible characters (format characters such as U+200B, or white space); give the reason in 1 to ${MAX_REASON_LENGTH} visible characters`,
    ),
  );

const dispositionBody = z.discriminatedUnion(
  'disposition',
  [
    z.strictObject({
      disposition: z.literal('accepted'),
      reason: nullAsAbsent(reason),
    }),
    z.strictObject({ disposition: z.literal('rejected'), reason }),
    z.strictObject({ disposition: z.literal('recycled'), reason }),
    z.strictObject({
      disposition: z.literal('converted'),
      convertedTo: z.enum(['sql', 'opportunity'], {
        error: (issue) => convertedToMessage(issue.input),
      }),
      reason: nullAsAbsent(reason),
    }),
  ],
  {
    error: (issue) =>
      dispositionMessage(
        isRecord(issue.input) ? issue.input.disposition : undefined,
      ),
  },
);

/**
 * Fields of a body whose `disposition` is missing or unknown, each checked
 * as the dispositions that take it check it. The discriminated union then
 * reports only `disposition`, so this schema names the other invalid fields.
 */
const anyDispositionFields = z.strictObject({
  disposition: z.optional(z.unknown()),
  convertedTo: z.optional(
    z.nullable(
      z.enum(['sql', 'opportunity'], {
        error: (issue) => convertedToMessage(issue.input),
      }),
    ),
  ),
  reason: z.optional(z.nullable(reason)),
});

const DISPOSITIONS = '"accepted", "rejected", "converted" or "recycled"';

function dispositionMessage(input: unknown): string {
  if (input === undefined)
    return `is required; it must be one of ${DISPOSITIONS}`;
  if (input === null) return requiredNotNullMessage(`one of ${DISPOSITIONS}`);
  return `must be one of ${DISPOSITIONS}`;
}

/** Words the issue of convertedTo, which a converted disposition requires. */
function convertedToMessage(input: unknown): string {
  const allowed = '"sql" or "opportunity"';
  if (input === undefined) {
    return `is required when disposition is "converted"; it must be ${allowed}`;
  }
  if (input === null) {
    return `is required when disposition is "converted"; it must be ${allowed}, not null`;
  }
  return `must be ${allowed}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Reads the body of POST /leads/{leadId}/disposition:
 * `{"disposition": "accepted" | "rejected" | "converted" | "recycled",
 * "reason"?: string, "convertedTo"?: "sql" | "opportunity"}`. Rejected and
 * recycled need a reason; converted needs convertedTo. An optional reason
 * that is null counts as absent, as in tracking messages.
 */
export function dispositionOf(request: ApiRequest): DispositionRequest {
  const body = jsonObjectOf(
    readJsonBody(request, MAX_BODY_BYTES, TOO_LARGE_ADVICE, {
      rejectRepeatedKeys: true,
    }),
    'The disposition request body must be a JSON object, such as {"disposition": "accepted"}.',
  );
  // `convertedTo` is null in "Lead Disposition Changed" of any other
  // disposition, so a body copied from such an event may carry it.
  if (body.disposition !== 'converted' && body.convertedTo === null) {
    delete body.convertedTo;
  }
  const parsed = dispositionBody.safeParse(body);
  if (!parsed.success) {
    const issues = toFieldIssues(parsed.error).map((issue) =>
      body.disposition === 'converted' || issue.field !== 'convertedTo'
        ? issue
        : CONVERTED_TO_ONLY_WHEN_CONVERTED,
    );
    throw new ValidationError(
      'The disposition request is invalid; see errors for each field.',
      isKnownDisposition(body.disposition)
        ? issues
        : [...issues, ...otherFieldIssues(body)],
    );
  }
  const disposition = parsed.data;
  return {
    kind: disposition.disposition,
    reason: disposition.reason,
    convertedTo:
      disposition.disposition === 'converted'
        ? disposition.convertedTo
        : undefined,
  };
}

function isKnownDisposition(value: unknown): boolean {
  return (
    value === 'accepted' ||
    value === 'rejected' ||
    value === 'converted' ||
    value === 'recycled'
  );
}

/**
 * Returns the issues of the fields other than `disposition` that no
 * disposition would accept, for a body whose disposition is invalid.
 */
function otherFieldIssues(body: Record<string, unknown>): FieldIssue[] {
  const parsed = anyDispositionFields.safeParse(body);
  if (parsed.success) return [];
  return toFieldIssues(parsed.error);
}

/**
 * The issue of a `convertedTo` sent with another disposition. Only the
 * converted disposition has that field, so the generic unknown-field
 * message would wrongly suggest a misspelling.
 */
const CONVERTED_TO_ONLY_WHEN_CONVERTED: FieldIssue = {
  field: 'convertedTo',
  message:
    'applies only when disposition is "converted"; remove it, or send "disposition": "converted"',
};

/**
 * Returns a request body that is a JSON object, or raises a
 * ValidationError with `message` for an array, null or a scalar.
 */
function jsonObjectOf(body: unknown, message: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError(message, [
      {
        field: '(root)',
        message: `must be a JSON object; got ${jsonTypeOf(body)}`,
      },
    ]);
  }
  return { ...body };
}

/** Names the JSON type of a parsed value that is not an object. */
function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

const recycleBody = z.strictObject({ reason });

/** Reads the body of POST /leads/{leadId}/recycle: `{"reason": "..."}`. */
export function recycleReasonOf(request: ApiRequest): string {
  const body = jsonObjectOf(
    readJsonBody(request, MAX_BODY_BYTES, TOO_LARGE_ADVICE, {
      rejectRepeatedKeys: true,
    }),
    'The recycle request body must be a JSON object: {"reason": "..."}.',
  );
  const parsed = recycleBody.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError(
      'The body must give the reason for recycling and nothing else: {"reason": "..."}.',
      toFieldIssues(parsed.error),
    );
  }
  return parsed.data.reason;
}
