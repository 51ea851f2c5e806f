import {
  closeSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * Lock file that `npm start -- --data-dir DIR` keeps in DIR while it
 * runs. Two DynamoDB Local servers on one directory share its SQLite
 * file, and their writes then fail with lock timeouts, for which the API
 * returns 500.
 */
export const LOCK_FILE_NAME = 'mql-engine.lock';

/**
 * Creates the lock file of `dir` with this process's id. Returns the
 * problem when a running process owns it, or undefined once this
 * process owns it. A lock file whose process has ended, such as after
 * a SIGKILL, is replaced.
 */
export function lockDataDir(dir: string): string | undefined {
  const path = join(dir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(path);
    if (holder !== undefined && isRunning(holder)) {
      return (
        `${dir} is in use by another npm start (process ${holder}). ` +
        'Stop that one first, or give another directory.'
      );
    }
    removeIfPresent(path);
  }
  return `${dir} could not be locked, because another process keeps creating ${path}. Give another directory.`;
}

/** Deletes the lock file of `dir` when this process owns it. */
export function unlockDataDir(dir: string): void {
  const path = join(dir, LOCK_FILE_NAME);
  if (readHolder(path) === process.pid) removeIfPresent(path);
}

function readHolder(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

// NOTE: a process id that the system gave to an unrelated process since
// the lock's holder ended counts as running, so its lock file stays
// until that process ends or the file is deleted.
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
