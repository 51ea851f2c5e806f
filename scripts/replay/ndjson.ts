import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
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
 * Parses one NDJSON line; returns undefined for a blank line. `endOffset`
 * is the byte position of the line's end in the file.
 */
export function parseNdjsonLine(
  line: string,
  lineNumber: number,
  endOffset = 0,
): InputItem | undefined {
  const text = (lineNumber === 1 ? stripBom(line) : line).trim();
  if (text === '') {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      kind: 'issue',
      line: lineNumber,
      reason: `invalid JSON: ${detail}`,
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
