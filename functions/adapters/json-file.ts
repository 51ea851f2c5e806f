import type { FieldIssue } from '../domain/errors.js';
import { formatPath } from '../domain/issues.js';
import { describeJsonSyntaxError, findNestingBeyond } from './json-syntax.js';

/**
 * Maximum nesting of objects and arrays in a model or stage file, where
 * the top-level value is level 1. The bundled model nests 7 levels. The
 * checks that follow parsing walk the document recursively, and a file
 * of a few thousand levels overflowed their stack.
 */
export const MAX_JSON_FILE_DEPTH = 64;

/**
 * A JSON file that cannot be used: not UTF-8, not JSON, nested deeper
 * than MAX_JSON_FILE_DEPTH, or with a key set twice in one object. The message is a predicate to follow the
 * file's name, such as `is not valid JSON (line 3, column 5: …)`.
 */
export class JsonFileError extends Error {
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
    this.name = 'JsonFileError';
  }
}

/**
 * Decodes and parses the bytes of a JSON file. Raises JsonFileError.
 * The file must be UTF-8, as RFC 8259 section 8.1 requires. A leading
 * byte order mark is ignored, because Windows tools such as PowerShell
 * 5's `Set-Content -Encoding UTF8` write one. A key repeated in one
 * object is rejected, because JSON.parse would keep the last value
 * without a word. Nesting deeper than MAX_JSON_FILE_DEPTH is rejected
 * before the text is parsed.
 */
export function parseJsonFile(bytes: Uint8Array): unknown {
  const text = decodeUtf8(bytes);
  // A file made with `touch`, as for a stage that keeps the defaults,
  // would otherwise get "unexpected end of text" at line 1, column 1.
  if (text.trim() === '') {
    throw new JsonFileError(
      'is empty; it must contain a JSON object, such as {}',
    );
  }
  const tooDeep = findNestingBeyond(text, MAX_JSON_FILE_DEPTH);
  if (tooDeep !== undefined) {
    throw new JsonFileError(
      `nests objects or arrays more than ${MAX_JSON_FILE_DEPTH} levels ` +
        `deep (line ${tooDeep.line}, column ${tooDeep.column} opens level ` +
        `${MAX_JSON_FILE_DEPTH + 1}); the limit is ${MAX_JSON_FILE_DEPTH} ` +
        'levels. Models and stage files need fewer than 10, so look ' +
        'for brackets repeated or left open at that place.',
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    // The position and the problem quote nothing of the file, unlike the
    // parser's message, which also differs between Node.js versions.
    const located = describeJsonSyntaxError(text);
    const detail =
      located ?? (error instanceof Error ? error.message : String(error));
    throw new JsonFileError(`is not valid JSON (${detail})`);
  }
  const duplicates = duplicateKeys(text);
  if (duplicates.length > 0) {
    throw new JsonFileError(
      'sets a key twice in one object, and JSON parsers keep only one of the values:',
      duplicates,
    );
  }
  return document;
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    // With ignoreBOM false (the default) the decoder drops a leading BOM.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const utf16 = utf16ByteOrderMark(bytes);
    if (utf16 !== undefined) {
      throw new JsonFileError(
        `is not UTF-8: it starts with the UTF-16 byte order mark ${utf16}, ` +
          'as Windows PowerShell 5.1 writes with > or Out-File. Save the ' +
          'file as UTF-8, such as with Out-File -Encoding utf8.',
      );
    }
    const offset = firstInvalidUtf8Offset(bytes);
    const { line, column } = lineAndColumn(bytes, offset);
    const byte = (bytes[offset] ?? 0).toString(16).toUpperCase();
    throw new JsonFileError(
      `is not UTF-8: the byte 0x${byte} at line ${line}, byte ${column} ` +
        'starts no valid UTF-8 character. Save the file as UTF-8; files ' +
        'saved as Latin-1 or Windows-1252 hold accented letters as such ' +
        'bytes.',
    );
  }
}

/** Returns the UTF-16 byte order mark that starts `bytes`, or undefined. */
function utf16ByteOrderMark(bytes: Uint8Array): string | undefined {
  const [first, second] = bytes;
  if (first === 0xff && second === 0xfe) return '0xFF 0xFE';
  if (first === 0xfe && second === 0xff) return '0xFE 0xFF';
  return undefined;
}

/** Returns the offset of the first byte that breaks UTF-8 (RFC 3629). */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const length = utf8SequenceLength(bytes, index);
    if (length === 0) return index;
    index += length;
  }
  return bytes.length;
}

/**
 * Returns the length of the valid UTF-8 sequence at `index`, or 0. The
 * ranges of the second byte exclude overlong forms, surrogates and code
 * points above U+10FFFF.
 */
function utf8SequenceLength(bytes: Uint8Array, index: number): number {
  const first = bytes[index] ?? 0;
  if (first < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (first >= 0xc2 && first <= 0xdf) {
    length = 2;
  } else if (first >= 0xe0 && first <= 0xef) {
    length = 3;
    if (first === 0xe0) low = 0xa0;
    if (first === 0xed) high = 0x9f;
  } else if (first >= 0xf0 && first <= 0xf4) {
    length = 4;
    if (first === 0xf0) low = 0x90;
    if (first === 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  for (let next = 1; next < length; next++) {
    const byte = bytes[index + next];
    const min = next === 1 ? low : 0x80;
    const max = next === 1 ? high : 0xbf;
    if (byte === undefined || byte < min || byte > max) return 0;
  }
  return length;
}

function lineAndColumn(bytes: Uint8Array, offset: number) {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset; index++) {
    if (bytes[index] === 0x0a) {
      line++;
      lineStart = index + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

interface ObjectFrame {
  kind: 'object';
  path: PropertyKey[];
  /** Line of each key seen so far. */
  keys: Map<string, number>;
  key: string | undefined;
  expectsKey: boolean;
}

interface ArrayFrame {
  kind: 'array';
  path: PropertyKey[];
  index: number;
}

/**
 * Finds keys set twice in one object of a text that JSON.parse accepted,
 * with their path and lines. Keys compare after unescaping, so `"a"` and
 * `"\u0061"` are the same key.
 */
export function duplicateKeys(text: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const stack: Array<ObjectFrame | ArrayFrame> = [];
  let line = 1;
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    const top = stack.at(-1);
    if (char === '\n') {
      line++;
    } else if (char === '{' || char === '[') {
      const path = top === undefined ? [] : [...top.path, childKey(top)];
      stack.push(
        char === '{'
          ? {
              kind: 'object',
              path,
              keys: new Map(),
              key: undefined,
              expectsKey: true,
            }
          : { kind: 'array', path, index: 0 },
      );
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',') {
      if (top?.kind === 'array') top.index++;
      if (top?.kind === 'object') top.expectsKey = true;
    } else if (char === '"') {
      const end = stringEnd(text, index);
      if (top?.kind === 'object' && top.expectsKey) {
        const key = JSON.parse(text.slice(index, end)) as string;
        const firstLine = top.keys.get(key);
        if (firstLine !== undefined) {
          issues.push({
            field: formatPath([...top.path, key]),
            message: `is set on line ${firstLine} and again on line ${line}; remove one of them`,
          });
        }
        top.keys.set(key, line);
        top.key = key;
        top.expectsKey = false;
      }
      index = end;
      continue;
    }
    index++;
  }
  return issues;
}

function childKey(frame: ObjectFrame | ArrayFrame): PropertyKey {
  return frame.kind === 'array' ? frame.index : (frame.key ?? '');
}

/** Returns the index after the closing quote of the string at `start`. */
function stringEnd(text: string, start: number): number {
  let index = start + 1;
  while (text[index] !== '"') {
    index += text[index] === '\\' ? 2 : 1;
  }
  return index + 1;
}
