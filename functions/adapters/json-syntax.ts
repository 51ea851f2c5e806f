/**
 * Locates the first syntax error of a JSON text (RFC 8259), for error
 * messages that give its line and column. JSON.parse's own messages
 * differ between Node.js versions, quote the text around the error (which
 * may be personal data) and give no position for some errors.
 */

/** The first syntax error of a JSON text. */
export interface JsonSyntaxProblem {
  /** Offset in UTF-16 code units, 0-based. */
  offset: number;
  /** Line, 1-based, where each `\n` ends a line. */
  line: number;
  /** Column in UTF-16 code units, 1-based. */
  column: number;
  /** Description of the error, quoting no part of the text. */
  problem: string;
}

type Expected =
  | 'value'
  | 'element'
  | 'element-or-close'
  | 'name'
  | 'name-or-close'
  | 'colon'
  | 'comma-or-close'
  | 'end';

type Closer = '}' | ']';

interface SyntaxProblem {
  offset: number;
  problem: string;
}

/** Offset after a token, or the problem found in it. */
type Skipped = number | SyntaxProblem;

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;
const ESCAPED = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const LITERALS = ['true', 'false', 'null'] as const;
const VALUE_EXPECTED =
  'expected a value: a string, number, object, array, true, false or null';

/**
 * Returns the first syntax error of `text` with its line and column, or
 * undefined when `text` is valid JSON. Runs in linear time without
 * recursion, so deeply nested text cannot overflow the stack.
 */
export function findJsonSyntaxError(
  text: string,
): JsonSyntaxProblem | undefined {
  const found = scan(text);
  if (found === undefined) return undefined;
  return { ...positionOf(text, found.offset), problem: found.problem };
}

/**
 * Describes the first syntax error of `text`, such as "line 3, column
 * 12: trailing comma before ']'", or returns undefined for valid JSON.
 */
export function describeJsonSyntaxError(text: string): string | undefined {
  const found = findJsonSyntaxError(text);
  if (found === undefined) return undefined;
  return `line ${found.line}, column ${found.column}: ${found.problem}`;
}

function positionOf(
  text: string,
  offset: number,
): { offset: number; line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  let index = text.indexOf('\n');
  while (index !== -1 && index < offset) {
    line += 1;
    lineStart = index + 1;
    index = text.indexOf('\n', lineStart);
  }
  return { offset, line, column: offset - lineStart + 1 };
}

/** Scanner state: the containers still open and the token expected. */
interface ScanState {
  open: Closer[];
  expected: Expected;
}

function scan(text: string): SyntaxProblem | undefined {
  const state: ScanState = { open: [], expected: 'value' };
  let index = skipWhitespace(text, 0);
  while (index < text.length) {
    const next = step(text, index, state);
    if (typeof next !== 'number') return next;
    index = skipWhitespace(text, next);
  }
  return state.expected === 'end' ? undefined : endProblem(index, state.open);
}

/** Reads the token at `index` and returns the offset after it. */
function step(text: string, index: number, state: ScanState): Skipped {
  const char = text.charAt(index);
  switch (state.expected) {
    case 'end':
      return problemAt(
        index,
        'unexpected text after the end of the JSON value',
      );
    case 'colon':
      if (char !== ':') return problemAt(index, "expected ':' after a name");
      state.expected = 'value';
      return index + 1;
    case 'name':
    case 'name-or-close':
      return stepName(text, index, state);
    case 'comma-or-close':
      return stepSeparator(index, char, state);
    default:
      return stepValue(text, index, state);
  }
}

function stepName(text: string, index: number, state: ScanState): Skipped {
  const char = text.charAt(index);
  if (char === '}' && state.expected === 'name-or-close') {
    return close(index, state);
  }
  if (char === '}') return trailingComma(index, char);
  if (char === "'") {
    return problemAt(
      index,
      'names must be in double quotes, not single quotes',
    );
  }
  if (char !== '"') return problemAt(index, 'expected a name in double quotes');
  state.expected = 'colon';
  return skipString(text, index);
}

function stepSeparator(index: number, char: string, state: ScanState): Skipped {
  const closer = state.open[state.open.length - 1];
  if (char === closer) return close(index, state);
  if (char !== ',') {
    return problemAt(index, `expected ',' or '${closer}' after a value`);
  }
  state.expected = closer === '}' ? 'name' : 'element';
  return index + 1;
}

function stepValue(text: string, index: number, state: ScanState): Skipped {
  const char = text.charAt(index);
  if (char === ']' && state.expected === 'element-or-close') {
    return close(index, state);
  }
  if (char === ']' && state.expected === 'element') {
    return trailingComma(index, char);
  }
  if (char === '{' || char === '[') {
    state.open.push(char === '{' ? '}' : ']');
    state.expected = char === '{' ? 'name-or-close' : 'element-or-close';
    return index + 1;
  }
  state.expected = afterValue(state.open);
  return skipScalar(text, index);
}

function close(index: number, state: ScanState): number {
  state.open.pop();
  state.expected = afterValue(state.open);
  return index + 1;
}

function afterValue(open: readonly Closer[]): Expected {
  return open.length === 0 ? 'end' : 'comma-or-close';
}

function problemAt(offset: number, problem: string): SyntaxProblem {
  return { offset, problem };
}

function trailingComma(offset: number, closer: string): SyntaxProblem {
  return problemAt(offset, `trailing comma before '${closer}'`);
}

function endProblem(offset: number, open: readonly Closer[]): SyntaxProblem {
  if (open.length === 0) {
    return problemAt(offset, `unexpected end of text; ${VALUE_EXPECTED}`);
  }
  const missing = [...open].reverse().join('');
  return problemAt(offset, `unexpected end of text; '${missing}' missing`);
}

function skipWhitespace(text: string, start: number): number {
  let index = start;
  while (index < text.length) {
    const char = text.charAt(index);
    if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') {
      break;
    }
    index += 1;
  }
  return index;
}

function skipScalar(text: string, start: number): Skipped {
  const char = text.charAt(start);
  if (char === '"') return skipString(text, start);
  if (char === "'") {
    return problemAt(
      start,
      'strings must be in double quotes, not single quotes',
    );
  }
  if (char === '-' || (char >= '0' && char <= '9')) {
    return skipNumber(text, start);
  }
  for (const literal of LITERALS) {
    if (text.startsWith(literal, start)) return start + literal.length;
  }
  return problemAt(start, VALUE_EXPECTED);
}

function skipNumber(text: string, start: number): Skipped {
  NUMBER.lastIndex = start;
  const found = NUMBER.exec(text);
  const end = found === null ? start : start + found[0].length;
  if (found === null || /[0-9.eE+-]/.test(text.charAt(end))) {
    return problemAt(
      start,
      'invalid number; write it as JSON does, such as -12, 0.5 or 1e6',
    );
  }
  return end;
}

/** Returns the offset after the string that opens at `start`. */
function skipString(text: string, start: number): Skipped {
  let index = start + 1;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === 0x22) return index + 1;
    if (code < 0x20) {
      return problemAt(
        index,
        'control character in a string; escape it, such as \\n for a line break',
      );
    }
    if (code !== 0x5c) {
      index += 1;
      continue;
    }
    const escaped = skipEscape(text, index);
    if (typeof escaped !== 'number') return escaped;
    index = escaped;
  }
  return problemAt(start, 'string without its closing double quote');
}

function skipEscape(text: string, backslash: number): Skipped {
  const char = text.charAt(backslash + 1);
  if (ESCAPED.has(char)) return backslash + 2;
  HEX4.lastIndex = backslash + 2;
  if (char === 'u' && HEX4.test(text)) return backslash + 6;
  return problemAt(
    backslash,
    'invalid escape in a string; use \\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\u and four hex digits',
  );
}

/** Position of the first bracket that opens one level too many. */
export interface JsonNestingProblem {
  offset: number;
  line: number;
  column: number;
}

/**
 * Returns the position of the first `{` or `[` that nests deeper than
 * `maxDepth` levels, where the top-level value is level 1, or undefined.
 * Brackets inside strings do not count. The scan is linear and does not
 * parse, so it can run before JSON.parse and any recursive walk of the
 * result, and it also runs on text that is not valid JSON.
 */
export function findNestingBeyond(
  text: string,
  maxDepth: number,
): JsonNestingProblem | undefined {
  let depth = 0;
  let index = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === 0x22) {
      index = stringEndOrLength(text, index);
      continue;
    }
    if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > maxDepth) return positionOf(text, index);
    } else if ((code === 0x7d || code === 0x5d) && depth > 0) {
      depth -= 1;
    }
    index += 1;
  }
  return undefined;
}

/** Returns the offset after the string at `start`, or the text's length. */
function stringEndOrLength(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === 0x22) return index + 1;
    index += code === 0x5c ? 2 : 1;
  }
  return text.length;
}
