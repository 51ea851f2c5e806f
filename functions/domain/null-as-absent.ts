import * as z from 'zod/mini';

/**
 * Returns an optional field that reads null as absent. Segment's Python
 * library (segmentio/analytics-python) sends every optional field of a
 * call, with null for those it was not given, such as a page's `name`.
 */
export function nullAsAbsent<T extends z.core.$ZodType>(schema: T) {
  return preprocess(
    (value) => (value === null ? undefined : value),
    z.optional(schema),
  );
}

/**
 * Returns a schema that maps its input with `map` before `schema` checks
 * it: zod's `z.preprocess`, which zod/mini does not have.
 */
export function preprocess<T extends z.core.$ZodType>(
  map: (value: unknown) => unknown,
  schema: T,
): z.ZodMiniPipe<z.ZodMiniTransform<unknown, unknown>, T> {
  // Built as zod builds z.preprocess: z.pipe would require the result of
  // `map` to have the schema's input type.
  return new z.ZodMiniPipe({
    type: 'pipe',
    in: z.transform(map),
    out: schema,
  }) as z.ZodMiniPipe<z.ZodMiniTransform<unknown, unknown>, T>;
}
