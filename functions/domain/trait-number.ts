/**
 * A number in decimal notation, with an optional sign and exponent. The
 * digits before and after the point are separate groups, so a long run
 * of digits is matched in linear time.
 */
const DECIMAL_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Digits grouped by commas in threes, with an optional decimal point. The
 * first group starts with 1 to 9, because grouped digits do not start
 * with 0: `0,500` is 0.5 written with a decimal comma.
 */
const COMMA_GROUPS = /^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$/;

/** Digits grouped by commas in twos before the last three, as in India. */
const INDIAN_GROUPS = /^[+-]?[1-9]\d?(,\d{2})*,\d{3}(\.\d+)?$/;

/**
 * Digits grouped by dots in threes, with an optional decimal comma. With
 * one dot and no comma, as in `25.000`, the text is ambiguous instead.
 * The first group starts with 1 to 9, as in COMMA_GROUPS.
 */
const DOT_GROUPS =
  /^[+-]?[1-9]\d{0,2}(\.\d{3}){2,}(,\d+)?$|^[+-]?[1-9]\d{0,2}\.\d{3},\d+$/;

/**
 * One dot after one to three digits, the first not 0, and then three
 * digits: 25,000 where a dot groups digits, as in German, and 25 where it
 * is a decimal point.
 */
const AMBIGUOUS_DOT = /^[+-]?[1-9]\d{0,2}\.\d{3}$/;

/**
 * Reads a trait value as a number for a range rule: a finite JSON number,
 * or text in decimal notation. Spaces and underscores are left out, and
 * commas or dots count only where they group digits in a way that no
 * other reading gives. Text such as `25.000` or `2,5` reads as no number,
 * as do hexadecimal, octal and binary literals, which Number() would read.
 */
export function traitNumber(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const digits = ungrouped(value.replace(/[_\s]/g, ''));
  if (digits === undefined || !DECIMAL_NUMBER.test(digits)) return undefined;
  const number = Number(digits);
  return Number.isFinite(number) ? number : undefined;
}

/**
 * Returns `text` without its group separators and with a decimal point,
 * or undefined when its commas and dots can be read more than one way.
 */
function ungrouped(text: string): string | undefined {
  if (COMMA_GROUPS.test(text) || INDIAN_GROUPS.test(text)) {
    return text.replaceAll(',', '');
  }
  if (DOT_GROUPS.test(text)) {
    return text.replaceAll('.', '').replace(',', '.');
  }
  if (text.includes(',') || AMBIGUOUS_DOT.test(text)) return undefined;
  return text;
}
