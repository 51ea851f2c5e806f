import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { describeFileError } from '../../functions/adapters/file-error.js';
import { InputFileError } from './errors.js';
import { readNdjson } from './ndjson.js';
import type { InputItem } from './records.js';
import {
  X_EDUCATION_HEADER_PREFIX,
  type XEducationOptions,
} from './x-education.js';
import { readXEducationCsv } from './x-education-reader.js';

export type InputFormat = 'ndjson' | 'x-education-csv';

/** An input file of a known format, read as a stream on demand. */
export interface OpenedInput {
  format: InputFormat;
  sizeBytes: number;
  items: AsyncIterable<InputItem>;
}

/** Bytes read from the start of a file to detect its format. */
const HEAD_BYTES = 64 * 1024;

const NDJSON_EXTENSIONS = new Set(['.ndjson', '.jsonl']);

export const ACCEPTED_FORMATS =
  'Segment messages as NDJSON (one JSON object per line, .ndjson or ' +
  '.jsonl), or the X Education leads CSV (header ' +
  `"${X_EDUCATION_HEADER_PREFIX}...")`;

/**
 * Detects the format of a file from its first bytes and prepares it for
 * streaming. Only the first 64 KiB are read before the items are.
 *
 * @throws InputFileError when the file cannot be read or its format is
 *   not one of the accepted ones.
 */
export async function openInput(
  file: string,
  options: XEducationOptions,
): Promise<OpenedInput> {
  const [head, sizeBytes] = await readHead(file);
  const format = detectFormat(file, head);
  return { format, sizeBytes, items: readItems(file, format, options) };
}

/**
 * Returns the format of a file from its name and first bytes: the X
 * Education header, else an NDJSON file extension, else a first non-blank
 * line that is a JSON object. A blank start counts as NDJSON, whose
 * reader reports an empty file as empty instead of as of unknown format.
 */
export function detectFormat(file: string, head: string): InputFormat {
  const text = head.startsWith('\uFEFF') ? head.slice(1) : head;
  if (text.startsWith(X_EDUCATION_HEADER_PREFIX)) {
    return 'x-education-csv';
  }
  if (text.trim() === '') {
    return 'ndjson';
  }
  if (NDJSON_EXTENSIONS.has(extname(file).toLowerCase())) {
    return 'ndjson';
  }
  if (opensWithJsonObjectLine(text)) {
    return 'ndjson';
  }
  throw new InputFileError(
    `The format of ${file} is not recognized. Accepted formats: ` +
      `${ACCEPTED_FORMATS}.`,
  );
}

/**
 * Tells whether the first non-blank line is a JSON object. A line cut off
 * by the end of `head` only has to start with `{`. A pretty-printed JSON
 * file fails, because its first line is `{` alone.
 */
function opensWithJsonObjectLine(head: string): boolean {
  const lines = head.split(/\r?\n/);
  const index = lines.findIndex((line) => line.trim() !== '');
  const line = lines[index]?.trim() ?? '';
  if (!line.startsWith('{')) {
    return false;
  }
  if (index === lines.length - 1) {
    return true;
  }
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}

/**
 * Streams the items of a file. The file is opened on the first read and
 * closed when the reading stops, also when the consumer stops early.
 */
async function* readItems(
  file: string,
  format: InputFormat,
  options: XEducationOptions,
): AsyncGenerator<InputItem> {
  const stream = createReadStream(file);
  try {
    if (format === 'ndjson') {
      yield* readNdjson(stream);
    } else {
      yield* readXEducationCsv(stream, options);
    }
  } finally {
    stream.destroy();
  }
}

async function readHead(file: string): Promise<[string, number]> {
  try {
    const info = await stat(file);
    if (!info.isFile()) {
      const kind = info.isDirectory()
        ? 'is a directory'
        : 'is not a regular file (it is a device, pipe or socket)';
      throw new InputFileError(
        `${file} ${kind}. Give the path of an NDJSON or CSV file of messages.`,
      );
    }
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(HEAD_BYTES, info.size));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return [buffer.subarray(0, bytesRead).toString('utf8'), info.size];
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw readError(file, error);
  }
}

function readError(file: string, error: unknown): InputFileError {
  if (error instanceof InputFileError) {
    return error;
  }
  return new InputFileError(`The file ${file} ${describeFileError(error)}`, {
    cause: error,
  });
}
