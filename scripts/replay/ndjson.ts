import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { findJsonSyntaxError } from '../../functions/adapters/json-syntax.js';
import type { InputItem, OutgoingMessage } from './records.js';

/**
 * Reads Segment messages as NDJSON, one JSON object per line, streaming.
 * Blank lines are skipped silently; a line that is not a JSON object is
 * reported as an issue with its 1-based line number and skipped.
 */
export async function* readNdjson(input: Readable): AsyncGenerator<InputItem> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  let offset = 0;
  for await (const line of lines) {
    lineNumber += 1;
    // Counts one byte for the line end, so CRLF files run slightly behind.
    offset += Buffer.byteLength(line) + 1;
    const item = parseNdjsonLine(line, lineNumber, offset);
    if (item !== undefined) yield item;
  }
}

/**
 * Describes why a line is not JSON: the column in the line and the
 * problem. `text` is the line without the whitespace around it, which
 * starts `indent` characters into the line.
 */
function describeLineError(
  text: string,
  indent: number,
  error: unknown,
): string {
  const found = findJsonSyntaxError(text);
  if (found === undefined) {
    return error instanceof Error ? error.message : String(error);
  }
  return `column ${found.column + indent}: ${found.problem}`;
}

/**
 * Parses one NDJSON line; returns undefined for a blank line. `endOffset`
 * is the byte position of the line's end in the file.
 */
export function parseNdjsonLine(
  line: string,
  lineNumber: number,
  endOffset = 0,
): InputItem | undefined {
  const untrimmed = lineNumber === 1 ? stripBom(line) : line;
  const text = untrimmed.trim();
  if (text === '') {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const indent = untrimmed.length - untrimmed.trimStart().length;
    return {
      kind: 'issue',
      line: lineNumber,
      reason: `invalid JSON (${describeLineError(text, indent, error)})`,
    };
  }
  if (!isPlainObject(value)) {
    return {
      kind: 'issue',
      line: lineNumber,
      reason: `expected a JSON object, got ${describeJsonType(value)}`,
    };
  }
  return {
    kind: 'record',
    origin: `line ${lineNumber}`,
    endOffset,
    messages: [value],
  };
}

function isPlainObject(value: unknown): value is OutgoingMessage {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function stripBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}
