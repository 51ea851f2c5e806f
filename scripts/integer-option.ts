import { UsageError } from './replay/errors.js';

/**
 * Reads a numeric option or variable of decimal digits only, from `min`
 * to `max`. Number() alone would read "" as 0 and accept "0x10", "1e3",
 * " 5" and "5.0", so those are rejected with the option's name and range.
 */
export function parseIntegerOption(
  name: string,
  text: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value < min || value > max) {
    throw new UsageError(
      `${name} must be an integer from ${min} to ${max}, got "${text}".`,
    );
  }
  return value;
}
