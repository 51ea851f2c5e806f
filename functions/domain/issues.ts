import type * as z from 'zod';
import type { FieldIssue } from './errors.js';

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

/** Converts zod issues into field issues, with paths below `root`. */
export function toFieldIssues(error: z.ZodError, root = ''): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: formatPath(issue.path, root),
    message: issue.message,
  }));
}

/**
 * Converts the zod issues of a model or stage file into field issues. An
 * unknown key is reported at its own path, one issue per key, so a typo
 * such as `qualification.treshold` is named where it is.
 */
export function toDocumentIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') {
      return [{ field: formatPath(issue.path), message: issue.message }];
    }
    return issue.keys.map((key) => ({
      field: formatPath([...issue.path, key]),
      message: UNKNOWN_FIELD_MESSAGE,
    }));
  });
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
