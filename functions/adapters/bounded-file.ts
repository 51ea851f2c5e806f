import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  statSync,
} from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';

/** Reason a file was not read. */
export type UnreadableFileKind = 'directory' | 'not-regular' | 'too-large';

/**
 * A file that is not read because it is a directory, not a regular file
 * (a device such as /dev/zero, a pipe or a socket) or larger than the
 * limit. The message is a predicate to follow the file's name, such as
 * `is not a regular file`.
 */
export class UnreadableFileError extends Error {
  constructor(
    readonly kind: UnreadableFileKind,
    message: string,
  ) {
    super(message);
    this.name = 'UnreadableFileError';
  }
}

/**
 * Open flags with O_NONBLOCK, so that opening a named pipe does not wait
 * for a writer. A regular file reads the same with or without the flag.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/**
 * Reads a whole regular file of at most `maxBytes` bytes. Raises
 * UnreadableFileError before reading anything, so a device that never
 * ends fails at once. Errors of `fs`, such as ENOENT, pass unchanged.
 */
export async function readBoundedFile(
  file: string,
  maxBytes: number,
): Promise<Buffer> {
  checkStats(await stat(file), maxBytes);
  const handle = await open(file, OPEN_FLAGS);
  try {
    // The file may have been replaced or grown since the stat above.
    const { size } = checkStats(await handle.stat(), maxBytes);
    return await readUpTo(handle, size, maxBytes);
  } finally {
    await handle.close();
  }
}

/** Synchronous readBoundedFile, for the CDK app and Lambda start-up. */
export function readBoundedFileSync(file: string, maxBytes: number): Buffer {
  checkStats(statSync(file), maxBytes);
  const descriptor = openSync(file, OPEN_FLAGS);
  try {
    const { size } = checkStats(fstatSync(descriptor), maxBytes);
    // One byte over the size shows that the file grew past the limit.
    const buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let length = 0;
    let read: number;
    do {
      read = readSync(descriptor, buffer, length, buffer.length - length, null);
      length += read;
    } while (read > 0 && length < buffer.length);
    return checkLength(buffer, length, maxBytes);
  } finally {
    closeSync(descriptor);
  }
}

async function readUpTo(
  handle: FileHandle,
  size: number,
  maxBytes: number,
): Promise<Buffer> {
  const buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
  let length = 0;
  let read: number;
  do {
    ({ bytesRead: read } = await handle.read(
      buffer,
      length,
      buffer.length - length,
    ));
    length += read;
  } while (read > 0 && length < buffer.length);
  return checkLength(buffer, length, maxBytes);
}

function checkLength(buffer: Buffer, length: number, maxBytes: number) {
  if (length > maxBytes) {
    throw new UnreadableFileError(
      'too-large',
      `grew past the limit of ${maxBytes} bytes while it was read`,
    );
  }
  return buffer.subarray(0, length);
}

function checkStats<T extends { size: number }>(
  stats: T & { isFile(): boolean; isDirectory(): boolean },
  maxBytes: number,
): T {
  if (stats.isDirectory()) {
    throw new UnreadableFileError('directory', 'is a directory');
  }
  if (!stats.isFile()) {
    throw new UnreadableFileError(
      'not-regular',
      'is not a regular file (it is a device, pipe or socket)',
    );
  }
  if (stats.size > maxBytes) {
    throw new UnreadableFileError(
      'too-large',
      `is ${stats.size} bytes, more than the limit of ${maxBytes} bytes`,
    );
  }
  return stats;
}
