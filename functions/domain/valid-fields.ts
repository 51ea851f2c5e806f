import type * as z from 'zod';

/**
 * Helpers for refinements that compare fields. By default zod skips an
 * object's refinements once any of its fields has an issue, so a file with
 * two mistakes would get only one named. With `when: whenValid(...)` such a
 * refinement runs whenever the fields it reads are valid themselves.
 *
 * NOTE: zod 4.6 marks the issue of an array longer than its `.max` as
 * aborting, which skips every `when` check of the objects around it. A
 * file with such an array gets its cross-field issues only once the array
 * is fixed.
 */

type FieldPath = readonly PropertyKey[];

/**
 * Issue codes that leave no readable value at their path: the value is of
 * the wrong type, or matches no member of a union.
 */
const UNREADABLE_CODES = new Set(['invalid_type', 'invalid_union']);

function startsWith(path: FieldPath, prefix: FieldPath): boolean {
  return prefix.every((key, index) => path[index] === key);
}

/**
 * Returns whether the value at `path` can be read: no issue of a wrong type or
 * union at it or at an object or array that contains it. Issues inside the
 * value, such as one about an item, do not count.
 */
export function isReadableAt(
  issues: readonly z.core.$ZodRawIssue[],
  path: FieldPath,
): boolean {
  return !issues.some(
    (issue) =>
      UNREADABLE_CODES.has(issue.code ?? '') &&
      startsWith(path, unreadablePath(issue)),
  );
}

/**
 * Returns the path of the value that an unreadable issue leaves unparsed.
 * A discriminated union reports a bad discriminator at the discriminator
 * field, but none of the object around it was parsed.
 */
function unreadablePath(issue: z.core.$ZodRawIssue): FieldPath {
  const path = issue.path ?? [];
  const isDiscriminator =
    issue.code === 'invalid_union' &&
    'discriminator' in issue &&
    issue.discriminator !== undefined;
  return isDiscriminator ? path.slice(0, -1) : path;
}

/**
 * Returns whether the value at `path` is valid: readable, and without any issue
 * at it or inside it. Refinement issues about a container as a whole,
 * such as a limit on the sum of its items, leave its items valid.
 */
export function isValidAt(
  issues: readonly z.core.$ZodRawIssue[],
  path: FieldPath,
): boolean {
  return (
    isReadableAt(issues, path) &&
    !issues.some((issue) => startsWith(issue.path ?? [], path))
  );
}

/**
 * Returns a `when` option of a refinement that runs once every field at
 * `paths`, relative to the refined value, is valid.
 */
export function whenValid(
  ...paths: FieldPath[]
): (payload: z.core.ParsePayload) => boolean {
  return (payload) => paths.every((path) => isValidAt(payload.issues, path));
}

/**
 * Returns a `when` option of a refinement that runs once every value at
 * `paths` can be read. The refinement itself must skip the parts of them
 * that have issues, with isValidAt.
 */
export function whenReadable(
  ...paths: FieldPath[]
): (payload: z.core.ParsePayload) => boolean {
  return (payload) => paths.every((path) => isReadableAt(payload.issues, path));
}
