import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { isMotoProcess, readMotoRecords } from './moto-record.js';

/**
 * Lock file that `npm start -- --data-dir DIR` keeps in DIR while it
 * runs. Two DynamoDB Local servers on one directory share its SQLite
 * file, and their writes then fail with lock timeouts, for which the API
 * returns 500.
 */
export const LOCK_FILE_NAME = 'mql-engine.lock';

/**
 * Maximum attempts of lockDataDir. It waits 10 ms before the next one
 * while another process creates or replaces the lock file, so it gives
 * up after about 2 seconds of that.
 */
const MAX_ATTEMPTS = 200;
const RETRY_DELAY_MS = 10;

/**
 * Maximum claim files that one replacement may stack: a claim on the
 * lock file, a claim on that claim when its process ended during the
 * replacement, and so on.
 */
const MAX_CLAIM_DEPTH = 3;

/**
 * Creates the lock file of `dir` with this process's id. Returns the
 * problem when a running process owns it, or undefined once this
 * process owns it. A lock file whose processes have all ended is
 * replaced, and of several starts that find it at once exactly one
 * gets the lock. After a SIGKILL of `npm start`, its DynamoDB Local
 * keeps running on the directory, so the lock stays until that ends too.
 */
export function lockDataDir(dir: string): string | undefined {
  const path = join(dir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const outcome = createLockFile(path, 0);
    if (outcome.kind === 'created') return undefined;
    if (outcome.kind === 'held') return describeHolder(dir, outcome.pids);
    if (outcome.kind === 'busy') sleep(RETRY_DELAY_MS);
  }
  return (
    `${dir} could not be locked, because other processes kept creating or ` +
    `replacing ${path} for about ${(MAX_ATTEMPTS * RETRY_DELAY_MS) / 1000} seconds. ` +
    'Try again, or give another directory.'
  );
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
 * Result of one attempt to create a lock file: created by this process,
 * held by running processes, `replaced` after this process deleted a
 * stale one, or `busy` while another process creates or replaces it.
 */
type Outcome =
  | { kind: 'created' }
  | { kind: 'held'; pids: number[] }
  | { kind: 'replaced' }
  | { kind: 'busy' };

/**
 * Makes one attempt to create the lock file at `path`, and deletes it
 * when its processes have all ended so that the next attempt can create
 * it again.
 *
 * No file system call deletes a file only if it is still a given one,
 * so two processes that read the same stale file could each delete it,
 * the second one after the first had created its own lock. Instead, a
 * process first creates a claim file named after the stale file's inode
 * and modification time, which only one process at a time can hold. Under
 * the claim it reads `path` again and deletes it only if it is still
 * that file and still stale. Only the holder of that claim deletes the
 * file, so it stays until then. A claim whose process has ended is
 * replaced in the same way, up to MAX_CLAIM_DEPTH claims deep.
 */
function createLockFile(path: string, depth: number): Outcome {
  if (createComplete(path, `${process.pid}\n`)) return { kind: 'created' };
  const lock = readLockFile(path);
  if (lock === undefined) return { kind: 'busy' };
  if (lock.pids.some(isRunning)) return { kind: 'held', pids: lock.pids };
  if (depth >= MAX_CLAIM_DEPTH) return { kind: 'busy' };

  const claimPath = `${path}.replacing-${lock.identity}`;
  if (createLockFile(claimPath, depth + 1).kind !== 'created') {
    return { kind: 'busy' };
  }
  try {
    // An inode number can be reused, and some file systems store the
    // modification time in whole seconds, so a new lock file may have the
    // identity of the stale one. Its process is running, so it is kept.
    const current = readLockFile(path);
    if (current?.identity === lock.identity && !current.pids.some(isRunning)) {
      removeIfPresent(path);
    }
  } finally {
    removeIfPresent(claimPath);
  }
  return { kind: 'replaced' };
}

/**
 * Creates `path` with `text` unless it exists, and returns whether this
 * call created it. The text goes to a file of a unique name first, which
 * is then hard-linked to `path`, because link(2) fails when `path` exists
 * (as open with O_EXCL does) and other processes never see the file
 * without its text.
 */
function createComplete(path: string, text: string): boolean {
  const temporary = `${path}.${randomUUID()}.tmp`;
  writeFileSync(temporary, text, { flag: 'wx' });
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== undefined && NO_HARD_LINKS.has(code)) {
      return createExclusive(path, text);
    }
    throw error;
  } finally {
    removeIfPresent(temporary);
  }
}

/**
 * Errors of link(2) on a file system without hard links: EPERM on Linux,
 * as its link(2) manual page gives, and the "not supported" codes for
 * other systems.
 */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

// NOTE: the file is empty until its text is written, and another start
// that reads it then takes it as stale. So on a file system without hard
// links, two starts within milliseconds can both get the lock.
function createExclusive(path: string, text: string): boolean {
  try {
    writeFileSync(path, text, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

interface LockFile {
  /** Inode number and modification time, which rarely recur together. */
  identity: string;
  /** Process ids of the file, see readLockProcesses. */
  pids: number[];
}

/** Reads the lock file at `path`, or returns undefined when it is missing. */
function readLockFile(path: string): LockFile | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const identity = identityOf(fstatSync(fd, { bigint: true }));
    return { identity, pids: parseLockProcesses(readFileSync(fd, 'utf8')) };
  } finally {
    closeSync(fd);
  }
}

function identityOf(stats: { ino: bigint; mtimeNs: bigint }): string {
  return `${stats.ino}-${stats.mtimeNs}`;
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
  return parseLockProcesses(text);
}

function parseLockProcesses(text: string): number[] {
  const pids = text.trim().split('\n').map(Number);
  const end = pids.findIndex((pid) => !Number.isSafeInteger(pid) || pid <= 0);
  return end === -1 ? pids : pids.slice(0, end);
}

/** Returns the problem of a lock file whose process ids include a running one. */
function describeHolder(dir: string, pids: number[]): string {
  const [holder, ...services] = pids;
  if (holder !== undefined && isRunning(holder)) {
    return (
      `${dir} is in use by another npm start (process ${holder}). ` +
      'Stop that one first, or give another directory.'
    );
  }
  const service = services.find(isRunning) ?? holder;
  return (
    `${dir} is in use by DynamoDB Local (process ${service}), which an npm start that has ended left running. ` +
    `Stop it with kill ${service}, or give another directory.` +
    describeLeftoverMotos(dir)
  );
}

/**
 * Asks the operator to keep the recorded moto_servers that still run,
 * because the next start delivers the routed events left in them.
 */
function describeLeftoverMotos(dir: string): string {
  const pids = readMotoRecords(dir)
    .filter(isMotoProcess)
    .map((record) => record.pid);
  if (pids.length === 0) return '';
  const names = pids.map((pid) => `moto_server (process ${pid})`).join(', ');
  return (
    ` Leave ${names} running: the next start on the directory delivers ` +
    'the routed events left in its sales queue and then stops it.'
  );
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

/** Blocks this thread for `ms` milliseconds. */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
