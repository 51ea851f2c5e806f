import type { Readable } from 'node:stream';
import { findJsonSyntaxError } from '../../functions/adapters/json-syntax.js';
import type { InputItem, OutgoingMessage } from './records.js';

/**
 * Maximum bytes of one NDJSON line. Longer lines are skipped as issues
 * without being kept in memory, so a file without line breaks, however
 * large, cannot exhaust memory.
 */
export const MAX_NDJSON_LINE_BYTES = 1_048_576;

/**
 * Reads Segment messages as NDJSON, one JSON object per line, streaming.
 * Lines end with LF or CRLF. Blank lines are skipped silently; a line
 * that is not a JSON object or is longer than MAX_NDJSON_LINE_BYTES is
 * reported as an issue with its 1-based line number and skipped.
 */
export async function* readNdjson(input: Readable): AsyncGenerator<InputItem> {
  let lineNumber = 0;
  let offset = 0;
  for await (const line of splitLines(input, MAX_NDJSON_LINE_BYTES)) {
    lineNumber += 1;
    // Counts one byte for the LF, also after a last line without one.
    offset += line.bytes + 1;
    if (line.text === undefined) {
      yield {
        kind: 'issue',
        line: lineNumber,
        reason: `longer than the limit of ${MAX_NDJSON_LINE_BYTES} bytes for one line`,
      };
      continue;
    }
    const item = parseNdjsonLine(line.text, lineNumber, offset);
    if (item !== undefined) yield item;
  }
}

/** One line of a stream; `text` is undefined for a line over the limit. */
interface StreamLine {
  text: string | undefined;
  /** Bytes of the line without its LF. */
  bytes: number;
}

/**
 * Splits a byte stream into lines at LF, dropping a CR before it. The
 * bytes of a line are decoded as UTF-8 once the line is complete, so a
 * character split across chunks stays whole. A line over `maxBytes` is
 * counted but not kept.
 */
async function* splitLines(
  input: Readable,
  maxBytes: number,
): AsyncGenerator<StreamLine> {
  let parts: Buffer[] = [];
  let bytes = 0;
  const finish = (): StreamLine => {
    const line: StreamLine = {
      text: bytes > maxBytes ? undefined : decodeLine(parts),
      bytes,
    };
    parts = [];
    bytes = 0;
    return line;
  };
  for await (const chunk of input) {
    const buffer: Buffer =
      typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    let start = 0;
    while (start < buffer.length) {
      const newline = buffer.indexOf(0x0a, start);
      const end = newline === -1 ? buffer.length : newline;
      bytes += end - start;
      if (bytes <= maxBytes) parts.push(buffer.subarray(start, end));
      else parts = [];
      if (newline === -1) break;
      yield finish();
      start = newline + 1;
    }
  }
  if (bytes > 0) yield finish();
}

function decodeLine(parts: Buffer[]): string {
  const text = Buffer.concat(parts).toString('utf8');
  return text.endsWith('\r') ? text.slice(0, -1) : text;
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
  if (value.type === undefined && Array.isArray(value.batch)) {
    return {
      kind: 'issue',
      line: lineNumber,
      reason:
        'is a Segment batch request ({"batch": [...]}), not a message; write each message of its batch on a line of its own',
    };
  }
  return {
    kind: 'record',
    origin: `line ${lineNumber}`,
    endOffset,
    messages: [value],
    jsonTexts: [text],
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
