/**
 * Returns `defaults` overridden by `overrides`, field by field: nested
 * JSON objects merge, and any other value, arrays included, replaces the
 * default. Neither argument is changed.
 */
export function mergeDefaults(
  defaults: Record<string, unknown>,
  overrides: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    const base = Object.hasOwn(merged, key) ? merged[key] : undefined;
    const mergedValue =
      isPlainObject(base) && isPlainObject(value)
        ? mergeDefaults(base, value)
        : value;
    // defineProperty stores a `__proto__` key from JSON.parse as an
    // ordinary field, so strict validation rejects it instead of the key
    // replacing the prototype.
    Object.defineProperty(merged, key, {
      value: mergedValue,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
