import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addLockedService,
  LOCK_FILE_NAME,
  lockDataDir,
  unlockDataDir,
} from '../../local/data-dir-lock.js';

function emptyDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'mql-lock-'));
}

/** Returns the id of a process that has already ended. */
function endedProcessId(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  if (child.pid === undefined) throw new Error('node did not start');
  return child.pid;
}

describe('lockDataDir', () => {
  it('writes this process id', () => {
    const directory = emptyDirectory();

    expect(lockDataDir(directory)).toBeUndefined();

    expect(readFileSync(join(directory, LOCK_FILE_NAME), 'utf8')).toBe(
      `${process.pid}\n`,
    );
  });

  it('rejects a lock of a running process', () => {
    const directory = emptyDirectory();
    expect(lockDataDir(directory)).toBeUndefined();

    const problem = lockDataDir(directory);

    expect(problem).toBe(
      `${directory} is in use by another npm start (process ${process.pid}). ` +
        'Stop that one first, or give another directory.',
    );
  });

  it('replaces a lock of an ended process', () => {
    const directory = emptyDirectory();
    const lockFile = join(directory, LOCK_FILE_NAME);
    writeFileSync(lockFile, `${endedProcessId()}\n`);

    expect(lockDataDir(directory)).toBeUndefined();

    expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid}\n`);
  });

  it('rejects a lock whose service still runs', () => {
    const directory = emptyDirectory();
    const lockFile = join(directory, LOCK_FILE_NAME);
    // The test runner is a running process, as a DynamoDB Local left running is.
    writeFileSync(lockFile, `${endedProcessId()}\n${process.pid}\n`);

    const problem = lockDataDir(directory);

    expect(problem).toBe(
      `${directory} is in use by DynamoDB Local (process ${process.pid}), which an npm start that has ended left running. ` +
        `Stop it with kill ${process.pid}, or give another directory.`,
    );
  });

  it('replaces a lock whose services have ended', () => {
    const directory = emptyDirectory();
    const lockFile = join(directory, LOCK_FILE_NAME);
    writeFileSync(lockFile, `${endedProcessId()}\n${endedProcessId()}\n`);

    expect(lockDataDir(directory)).toBeUndefined();

    expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid}\n`);
  });

  it('replaces a lock file without a process id', () => {
    const directory = emptyDirectory();
    const lockFile = join(directory, LOCK_FILE_NAME);
    writeFileSync(lockFile, 'not a pid');

    expect(lockDataDir(directory)).toBeUndefined();

    expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid}\n`);
  });
});

describe('addLockedService', () => {
  it('adds the service to a lock of this process', () => {
    const directory = emptyDirectory();
    lockDataDir(directory);

    addLockedService(directory, 12345);

    expect(readFileSync(join(directory, LOCK_FILE_NAME), 'utf8')).toBe(
      `${process.pid}\n12345\n`,
    );
  });

  it('leaves the lock of another process', () => {
    const directory = emptyDirectory();
    const lockFile = join(directory, LOCK_FILE_NAME);
    writeFileSync(lockFile, '1\n');

    addLockedService(directory, 12345);

    expect(readFileSync(lockFile, 'utf8')).toBe('1\n');
  });
});

describe('unlockDataDir', () => {
  it('deletes the lock of this process', () => {
    const directory = emptyDirectory();
    lockDataDir(directory);

    unlockDataDir(directory);

    expect(existsSync(join(directory, LOCK_FILE_NAME))).toBe(false);
  });

  it('keeps the lock of another process', () => {
    const directory = emptyDirectory();
    const lockFile = join(directory, LOCK_FILE_NAME);
    writeFileSync(lockFile, '1\n');

    unlockDataDir(directory);

    expect(readFileSync(lockFile, 'utf8')).toBe('1\n');
  });
});
