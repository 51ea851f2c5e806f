import { en } from 'zod/locales';
import * as z from 'zod/mini';
import type { FieldIssue } from './errors.js';

/**
 * Words a zod issue in plain terms, with the field left to the path: "must
 * be a string, not a number", "is required". Returns undefined for issues
 * that carry their own message, so zod keeps it. A message given to a
 * schema (`.min(1, 'must not be empty')`) takes precedence over this one.
 */
export function plainIssueMessage(
  issue: z.core.$ZodRawIssue,
): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return invalidTypeMessage(issue.expected, issue.input);
    case 'invalid_union':
      return invalidUnionMessage(issue);
    case 'invalid_value':
      return issue.input === undefined
        ? `is required; it must be one of ${issue.values.map(String).join(', ')}`
        : `must be one of ${issue.values.map(String).join(', ')}`;
    case 'unrecognized_keys':
      return unknownFieldMessage(issue.inst);
    case 'too_small':
      return tooSmallMessage(
        issue.origin,
        Number(issue.minimum),
        issue.inclusive,
      );
    case 'too_big':
      return tooBigMessage(
        issue.origin,
        Number(issue.maximum),
        issue.inclusive,
      );
    case 'invalid_format':
      return `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return undefined;
  }
}

// The schemas that the Lambda functions run use zod/mini, because zod's
// chained API brings its JSON Schema generator into every bundle, about
// 60 KB more (measured with esbuild 0.28 and zod 4.6). Only synthesis and
// the tools use zod itself, as model-schema.ts does. zod/mini loads no
// locale, so English is set here for the issues left to zod.
z.config({ ...en(), customError: plainIssueMessage });

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  record: 'an object',
  array: 'an array',
  null: 'null',
};

function invalidTypeMessage(expected: string, input: unknown): string {
  if (input === undefined) return 'is required';
  // JSON.parse reads a number beyond the double range, such as 1e400, as
  // Infinity, which zod rejects as an invalid number.
  if (typeof input === 'number' && !Number.isFinite(input)) {
    return `must be a finite number, not ${input}; a JSON number this large does not fit in a double`;
  }
  // zod reports a fraction in an integer field as an invalid type, which
  // the type message would word as "an integer, not a number".
  if (expected === 'int' && typeof input === 'number') {
    return `must be a whole number, not ${input}`;
  }
  const expectedType = TYPE_NAMES[expected] ?? `of type ${expected}`;
  return `must be ${expectedType}, not ${kindOf(input)}`;
}

/** Names the JSON kind of a value: "an array", "null", "a number". */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'boolean') return 'a boolean';
  return TYPE_NAMES[typeof value] ?? `a ${typeof value}`;
}

function invalidUnionMessage(
  issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidUnion>,
): string | undefined {
  const options = (issue as { options?: unknown[] }).options;
  if (!Array.isArray(options)) return undefined;
  const allowed = `must be one of ${options.map(String).join(', ')}`;
  const discriminator = (issue as { discriminator?: string }).discriminator;
  if (discriminator === undefined || !isRecord(issue.input)) {
    return issue.input === undefined ? `is required; it ${allowed}` : allowed;
  }
  // A discriminator, such as a message's type, is always required, so a
  // null one is named as missing rather than as a wrong value.
  const value = issue.input[discriminator];
  if (value === undefined) return `is required; it ${allowed}`;
  if (value === null) return `is required; it ${allowed}, not null`;
  return allowed;
}

/**
 * Returns the message of a required field that is null, which counts as
 * missing: "is required; it must be a string, not null".
 */
export function requiredNotNullMessage(expected: string): string {
  return `is required; it must be ${expected}, not null`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function unknownFieldMessage(schema: unknown): string {
  const shape = (schema as { _zod?: { def?: { shape?: object } } })?._zod?.def
    ?.shape;
  if (shape === undefined) return UNKNOWN_FIELD_MESSAGE;
  return `is not a known field; allowed fields are ${Object.keys(shape).join(', ')}. Remove it or correct its spelling.`;
}

function tooSmallMessage(
  origin: string,
  minimum: number,
  inclusive = true,
): string {
  if (origin === 'string') {
    return minimum <= 1
      ? 'must not be empty'
      : `must be at least ${minimum} characters`;
  }
  if (origin === 'array' || origin === 'set') {
    return minimum <= 1
      ? 'must not be empty'
      : `must have at least ${minimum} items`;
  }
  return inclusive
    ? `must be at least ${minimum}`
    : `must be greater than ${minimum}`;
}

function tooBigMessage(
  origin: string,
  maximum: number,
  inclusive = true,
): string {
  if (origin === 'string') return `must be at most ${maximum} characters`;
  if (origin === 'array' || origin === 'set') {
    return `must have at most ${maximum} items`;
  }
  return inclusive
    ? `must be at most ${maximum}`
    : `must be less than ${maximum}`;
}

/** Formats a zod issue path as `batch[2].properties.path`. */
export function formatPath(path: readonly PropertyKey[], root = ''): string {
  let text = root;
  for (const key of path) {
    if (typeof key === 'number') {
      text += `[${key}]`;
    } else {
      text += text === '' ? String(key) : `.${String(key)}`;
    }
  }
  return text === '' ? '(root)' : text;
}

/**
 * Converts zod issues into field issues, with paths below `root`. An
 * unknown key is reported at its own path, one issue per key, so a typo
 * such as `qualification.treshold` is named where it is.
 */
export function toFieldIssues(
  error: Pick<z.core.$ZodError, 'issues'>,
  root = '',
): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') {
      return [{ field: formatPath(issue.path, root), message: issue.message }];
    }
    return issue.keys.map((key) => ({
      field: formatPath([...issue.path, key], root),
      message: issue.message,
    }));
  });
}

/** Converts the zod issues of a model or stage file into field issues. */
export function toDocumentIssues(error: z.core.$ZodError): FieldIssue[] {
  return toFieldIssues(error);
}

const UNKNOWN_FIELD_MESSAGE =
  'is not a known field; remove it or correct its spelling';

/**
 * Normalizes a categorical value for comparison: trimmed, Unicode NFC and
 * lower case, so "Manufacturing " and "manufacturing" are equal.
 */
export function normalizeText(text: string): string {
  return text.trim().normalize('NFC').toLowerCase();
}

/**
 * Replaces each run of white space (spaces, tabs, line breaks, no-break
 * and other Unicode spaces) with one space, so that a title typed as
 * "Chief  Procurement Officer" or with a no-break space matches a
 * pattern or value written with single spaces.
 */
export function collapseWhiteSpace(text: string): string {
  return text.replace(/\s+/gu, ' ');
}

/**
 * Finds `__proto__` keys at any depth of a parsed JSON document.
 * JSON.parse keeps such a key as an ordinary field, but zod records and
 * plain object assignment drop it without a word, so a document that
 * names it would lose a rule or a condition silently.
 */
export function prototypeKeyIssues(
  value: unknown,
  path: PropertyKey[] = [],
): FieldIssue[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) {
    return value.flatMap((item, index) =>
      prototypeKeyIssues(item, [...path, index]),
    );
  }
  const issues: FieldIssue[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (key === '__proto__') {
      issues.push({
        field: formatPath([...path, key]),
        message:
          'is not supported as a field name, because JavaScript objects ' +
          'cannot hold it as data; rename or remove it',
      });
    }
    issues.push(...prototypeKeyIssues(child, [...path, key]));
  }
  return issues;
}
