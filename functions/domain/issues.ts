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
 * Normalizes a categorical value for comparison: trimmed, Unicode NFC and
 * lower case, so "Manufacturing " and "manufacturing" are equal.
 */
export function normalizeText(text: string): string {
  return text.trim().normalize('NFC').toLowerCase();
}
