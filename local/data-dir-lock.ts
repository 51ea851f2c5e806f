import {
  appendFileSync,
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
 * process owns it. A lock file whose processes have all ended is
 * replaced. After a SIGKILL of `npm start`, its DynamoDB Local keeps
 * running on the directory, so the lock stays until that ends too.
 *
 * NOTE: replacing an ended lock is not atomic. Starts that race within
 * milliseconds can both win, because one can delete the lock that
 * another has just created, while that file is still empty or after
 * both found the same stale lock.
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
    const [holder, ...services] = readLockProcesses(path);
    if (holder !== undefined && isRunning(holder)) {
      return (
        `${dir} is in use by another npm start (process ${holder}). ` +
        'Stop that one first, or give another directory.'
      );
    }
    const service = services.find(isRunning);
    if (service !== undefined) {
      return (
        `${dir} is in use by DynamoDB Local (process ${service}), which an npm start that has ended left running. ` +
        `Stop it with kill ${service}, or give another directory.`
      );
    }
    removeIfPresent(path);
  }
  return `${dir} could not be locked, because another process keeps creating ${path}. Give another directory.`;
}

/**
 * Adds the id of a service that this process started on `dir`, such as
 * DynamoDB Local, to the lock file when this process owns it. The
 * service outlives a SIGKILL of this process, and the next lockDataDir
 * keeps the lock while the service runs.
 */
export function addLockedService(dir: string, pid: number): void {
  const path = join(dir, LOCK_FILE_NAME);
  if (readLockProcesses(path)[0] === process.pid) {
    appendFileSync(path, `${pid}\n`);
  }
}

/** Deletes the lock file of `dir` when this process owns it. */
export function unlockDataDir(dir: string): void {
  const path = join(dir, LOCK_FILE_NAME);
  if (readLockProcesses(path)[0] === process.pid) removeIfPresent(path);
}

/**
 * Reads the process ids of a lock file, one a line: the npm start that
 * owns it, then the services it started. Returns an empty list when the
 * file is missing or its first line is no process id.
 */
function readLockProcesses(path: string): number[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const pids = text.trim().split('\n').map(Number);
  const end = pids.findIndex((pid) => !Number.isSafeInteger(pid) || pid <= 0);
  return end === -1 ? pids : pids.slice(0, end);
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
