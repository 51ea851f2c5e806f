import { UsageError } from './replay/errors.js';

/**
 * Reads a numeric option or variable of decimal digits only, from `min`
 * to `max`. Number() alone would read "" as 0 and accept "0x10", "1e3",
 * " 5" and "5.0", so those are rejected with the option's name and range.
 * Without `max`, the message gives the lower bound only, and a value
 * beyond Number.MAX_SAFE_INTEGER is rejected as too large.
 */
export function parseIntegerOption(
  name: string,
  text: string,
  min: number,
  max?: number,
): number {
  const value = Number(text);
  const range =
    max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
  if (!/^[0-9]+$/.test(text) || value < min || (max ?? value) < value) {
    throw new UsageError(`${name} must be an integer ${range}, got "${text}".`);
  }
  if (!Number.isSafeInteger(value)) {
    throw new UsageError(
      `${name} is too large, got "${text}". Give at most ${Number.MAX_SAFE_INTEGER}.`,
    );
  }
  return value;
}
