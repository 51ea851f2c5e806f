import { randomUUID } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `text` to `file` through a temporary file in the same directory
 * that is then renamed over it. rename(2) replaces the file in one step,
 * so a crash or a full disk leaves the old file or the new one, never a
 * cut-off file. The temporary file is removed when the write fails.
 */
export function writeFileAtomicSync(file: string, text: string): void {
  const temporary = join(
    dirname(file),
    `.${basename(file)}.${randomUUID()}.tmp`,
  );
  try {
    const descriptor = openSync(temporary, 'wx');
    try {
      writeSync(descriptor, text);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
