import { isIPv4, isIPv6 } from 'node:net';
import type { z } from 'zod';

/**
 * Checks of EventBridge's event pattern syntax, so that synthesis names the
 * field of a pattern that EventBridge or the CDK would reject. The
 * operators are those EventBridge documents for event buses: prefix,
 * suffix, equals-ignore-case, wildcard, anything-but, numeric, exists,
 * cidr and $or (Amazon EventBridge User Guide, "Comparison operators for
 * use in event patterns").
 */

type Path = (string | number)[];

const NUMERIC_OPERATORS = ['=', '<', '<=', '>', '>='];
const LOWER_BOUNDS = ['>', '>='];
const UPPER_BOUNDS = ['<', '<='];

/**
 * Numbers that numeric and anything-but matchers take: at most 5e9 in
 * magnitude, with at most 6 decimal places. A range must be non-empty
 * within them, so `[">=", 5e9]` is rejected too. Source: the classes
 * ComparableNumber and Range of aws/event-ruler, the open-source matching
 * library of EventBridge.
 * NOTE: older versions of the EventBridge User Guide give 1e9 as the
 * bound, which synthesis does not enforce.
 */
const MAX_NUMERIC_MAGNITUDE = 5e9;
const MAX_NUMERIC_DECIMALS = 6;
const NUMBER_LIMITS = `numbers from -${MAX_NUMERIC_MAGNITUDE} to ${MAX_NUMERIC_MAGNITUDE} with at most ${MAX_NUMERIC_DECIMALS} decimal places, the range EventBridge matches`;

const MATCHERS = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
];
const ANYTHING_BUT_MATCHERS = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
];

/**
 * Adds an issue for every invalid part of `fields`, an object of fields
 * whose values are arrays of matchers, nested objects of fields, or, for
 * `$or`, an array of at least two such objects.
 */
export function checkPatternFields(
  fields: Record<string, unknown>,
  path: Path,
  context: z.RefinementCtx,
): void {
  for (const [name, value] of Object.entries(fields)) {
    const fieldPath = [...path, name];
    if (name === '$or') {
      checkAlternatives(value, fieldPath, context);
    } else if (Array.isArray(value)) {
      checkMatchers(value, fieldPath, context);
    } else if (isObject(value)) {
      if (Object.keys(value).length === 0) {
        addIssue(context, fieldPath, 'must match on at least one field');
      }
      checkPatternFields(value, fieldPath, context);
    } else {
      addIssue(
        context,
        fieldPath,
        `must be an array of values such as ["Lead Qualified"] or an object of fields, got ${JSON.stringify(value)}`,
      );
    }
  }
}

function checkAlternatives(
  value: unknown,
  path: Path,
  context: z.RefinementCtx,
): void {
  if (!Array.isArray(value) || value.length < 2) {
    addIssue(
      context,
      path,
      'must be an array of at least two patterns, such as [{"detail": {"fit": [1]}}, {"detail": {"intent": [1]}}]',
    );
    return;
  }
  value.forEach((alternative, index) => {
    if (!isObject(alternative) || Object.keys(alternative).length === 0) {
      addIssue(
        context,
        [...path, index],
        'must be a pattern that matches on at least one field',
      );
      return;
    }
    checkPatternFields(alternative, [...path, index], context);
  });
}

function checkMatchers(
  values: unknown[],
  path: Path,
  context: z.RefinementCtx,
): void {
  if (values.length === 0) {
    addIssue(context, path, 'must list at least one value to match');
  }
  values.forEach((value, index) => {
    const matcherPath = [...path, index];
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      addIssue(
        context,
        matcherPath,
        'must be a string, number, boolean, null or an operator object, not an array; list the values in the outer array',
      );
      return;
    }
    const keys = Object.keys(value);
    const [operator] = keys;
    if (keys.length !== 1 || operator === undefined) {
      addIssue(
        context,
        matcherPath,
        `must be an object with exactly one operator of ${MATCHERS.join(', ')}, got ${keys.length} keys`,
      );
      return;
    }
    if (!MATCHERS.includes(operator)) {
      addIssue(
        context,
        matcherPath,
        `has the unknown operator "${operator}"; use one of ${MATCHERS.join(', ')}`,
      );
      return;
    }
    const operand = (value as Record<string, unknown>)[operator];
    checkOperand(operator, operand, [...matcherPath, operator], context);
  });
}

function checkOperand(
  operator: string,
  operand: unknown,
  path: Path,
  context: z.RefinementCtx,
): void {
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (typeof operand === 'string') return;
      if (
        isObject(operand) &&
        Object.keys(operand).length === 1 &&
        typeof operand['equals-ignore-case'] === 'string'
      ) {
        return;
      }
      addIssue(
        context,
        path,
        `must be a string or {"equals-ignore-case": "…"}, such as {"${operator}": "Lead"}`,
      );
      return;
    case 'equals-ignore-case':
      if (typeof operand !== 'string') {
        addIssue(context, path, 'must be a string');
      }
      return;
    case 'wildcard':
      checkWildcard(operand, path, context);
      return;
    case 'exists':
      if (typeof operand !== 'boolean') {
        addIssue(context, path, 'must be true or false');
      }
      return;
    case 'cidr':
      if (!isCidr(operand)) {
        addIssue(
          context,
          path,
          'must be an IP address range in CIDR notation, such as "10.0.0.0/24"',
        );
      }
      return;
    case 'numeric':
      checkNumeric(operand, path, context);
      return;
    default:
      checkAnythingBut(operand, path, context);
  }
}

function checkWildcard(
  operand: unknown,
  path: Path,
  context: z.RefinementCtx,
): void {
  if (typeof operand !== 'string') {
    addIssue(context, path, 'must be a string such as "Lead *"');
    return;
  }
  const issue = wildcardIssue(operand);
  if (issue !== undefined) addIssue(context, path, issue);
}

/**
 * Returns what EventBridge rejects in a wildcard pattern, or undefined.
 * A backslash escapes the next `*` or backslash and nothing else, and two
 * unescaped `*` in a row are rejected (WildcardParser of aws/event-ruler).
 */
function wildcardIssue(pattern: string): string | undefined {
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index];
    const next = pattern[index + 1];
    if (character === '\\') {
      if (next !== '*' && next !== '\\') {
        return 'must follow each backslash with * or another backslash, which it escapes; for a literal backslash write two, "\\\\\\\\" in JSON';
      }
      index++;
    } else if (character === '*' && next === '*') {
      return 'must not contain consecutive * characters; write one *';
    }
  }
  return undefined;
}

/**
 * Checks a numeric operand: `[op, number]`, or a range `[">" or ">=",
 * number, "<" or "<=", number]`.
 */
function checkNumeric(
  operand: unknown,
  path: Path,
  context: z.RefinementCtx,
): void {
  const message =
    'must be [operator, number] with an operator of =, <, <=, > or >=, or a range such as [">=", 0, "<", 100]';
  if (!Array.isArray(operand)) {
    addIssue(context, path, message);
    return;
  }
  const [first, firstNumber, second, secondNumber] = operand;
  const single =
    operand.length === 2 &&
    NUMERIC_OPERATORS.includes(first) &&
    typeof firstNumber === 'number';
  const range =
    operand.length === 4 &&
    LOWER_BOUNDS.includes(first) &&
    typeof firstNumber === 'number' &&
    UPPER_BOUNDS.includes(second) &&
    typeof secondNumber === 'number';
  if (!single && !range) {
    addIssue(context, path, message);
    return;
  }
  const numbers: number[] = range ? [firstNumber, secondNumber] : [firstNumber];
  if (!numbers.every(isMatchableNumber)) {
    addIssue(context, path, `must use ${NUMBER_LIMITS}`);
    return;
  }
  const [bottom, top] = range
    ? [firstNumber, secondNumber]
    : boundsOf(first, firstNumber);
  if (bottom >= top) {
    addIssue(
      context,
      path,
      `must select some numbers: its lower bound ${bottom} must be below its upper bound ${top}, or EventBridge rejects the rule`,
    );
  }
}

/**
 * Returns the range that a single comparison selects within the numbers
 * EventBridge matches. `=` selects one number, which is always valid.
 */
function boundsOf(operator: string, value: number): [number, number] {
  if (LOWER_BOUNDS.includes(operator)) return [value, MAX_NUMERIC_MAGNITUDE];
  if (UPPER_BOUNDS.includes(operator)) return [-MAX_NUMERIC_MAGNITUDE, value];
  return [-Infinity, Infinity];
}

function isMatchableNumber(value: number): boolean {
  return (
    Math.abs(value) <= MAX_NUMERIC_MAGNITUDE &&
    decimalPlaces(value) <= MAX_NUMERIC_DECIMALS
  );
}

/** Returns the decimal places of a number as JavaScript prints it, 1e-7 included. */
function decimalPlaces(value: number): number {
  const [mantissa = '', exponent = '0'] = String(value).split('e');
  const fraction = mantissa.split('.')[1] ?? '';
  return Math.max(0, fraction.length - Number(exponent));
}

/**
 * Checks an anything-but operand: a string, a number, a non-empty array of
 * strings or of numbers, or an object with one of prefix, suffix,
 * equals-ignore-case or wildcard.
 */
function checkAnythingBut(
  operand: unknown,
  path: Path,
  context: z.RefinementCtx,
): void {
  if (typeof operand === 'string') return;
  if (typeof operand === 'number') {
    if (!isMatchableNumber(operand)) {
      addIssue(context, path, `must use ${NUMBER_LIMITS}`);
    }
    return;
  }
  if (Array.isArray(operand)) {
    const allStrings = operand.every((value) => typeof value === 'string');
    const allNumbers = operand.every((value) => typeof value === 'number');
    if (operand.length === 0 || !(allStrings || allNumbers)) {
      addIssue(
        context,
        path,
        'must list at least one value, all strings or all numbers, such as ["Lead Erased", "Lead Recycled"]',
      );
    } else if (allNumbers && !operand.every(isMatchableNumber)) {
      addIssue(context, path, `must use ${NUMBER_LIMITS}`);
    }
    return;
  }
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    const [operator] = keys;
    if (
      keys.length === 1 &&
      operator !== undefined &&
      ANYTHING_BUT_MATCHERS.includes(operator)
    ) {
      const value = operand[operator];
      const strings = Array.isArray(value) ? value : [value];
      if (
        strings.length > 0 &&
        strings.every((item) => typeof item === 'string')
      ) {
        if (operator === 'wildcard') {
          for (const pattern of strings) {
            const issue = wildcardIssue(pattern);
            if (issue !== undefined) {
              addIssue(context, [...path, operator], issue);
            }
          }
        }
        if (
          (operator === 'prefix' || operator === 'suffix') &&
          strings.includes('')
        ) {
          addIssue(
            context,
            path,
            `must not have an empty ${operator}, which EventBridge rejects in anything-but`,
          );
        }
        return;
      }
    }
  }
  addIssue(
    context,
    path,
    `must be a string, a number, an array of strings or of numbers, or an object with one of ${ANYTHING_BUT_MATCHERS.join(', ')} and a string`,
  );
}

function isCidr(operand: unknown): boolean {
  if (typeof operand !== 'string') return false;
  const [address, bits, ...rest] = operand.split('/');
  if (address === undefined || bits === undefined || rest.length > 0) {
    return false;
  }
  if (!/^\d{1,3}$/.test(bits)) return false;
  const prefixLength = Number(bits);
  if (isIPv4(address)) return prefixLength <= 32;
  return isIPv6(address) && prefixLength <= 128;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function addIssue(context: z.RefinementCtx, path: Path, message: string) {
  context.addIssue({ code: 'custom', path, message });
}

/**
 * Checks whether a pattern uses the wildcard operator anywhere, directly
 * or inside anything-but, in nested fields or in `$or` alternatives.
 */
export function usesWildcard(fields: Record<string, unknown>): boolean {
  return Object.entries(fields).some(([name, value]) => {
    if (name === '$or') {
      return Array.isArray(value) && value.some(isWildcardAlternative);
    }
    if (Array.isArray(value)) return value.some(isWildcardMatcher);
    return isObject(value) && usesWildcard(value);
  });
}

function isWildcardAlternative(alternative: unknown): boolean {
  return isObject(alternative) && usesWildcard(alternative);
}

function isWildcardMatcher(matcher: unknown): boolean {
  if (!isObject(matcher)) return false;
  if (Object.hasOwn(matcher, 'wildcard')) return true;
  const excluded = matcher['anything-but'];
  return isObject(excluded) && Object.hasOwn(excluded, 'wildcard');
}
