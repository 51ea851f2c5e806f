import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LOCK_FILE_NAME, lockDataDir } from '../../local/data-dir-lock.js';

// link(2) on a file system without hard links, such as vfat on Linux,
// fails with EPERM.
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    linkSync: () => {
      throw Object.assign(new Error('EPERM: operation not permitted, link'), {
        code: 'EPERM',
      });
    },
  };
});

describe('lockDataDir without hard links', () => {
  it('creates the lock file directly', () => {
    const directory = mkdtempSync(join(tmpdir(), 'mql-lock-'));

    expect(lockDataDir(directory)).toBeUndefined();

    expect(readFileSync(join(directory, LOCK_FILE_NAME), 'utf8')).toBe(
      `${process.pid}\n`,
    );
    expect(readdirSync(directory)).toEqual([LOCK_FILE_NAME]);
  });

  it('rejects a lock of a running process', () => {
    const directory = mkdtempSync(join(tmpdir(), 'mql-lock-'));
    expect(lockDataDir(directory)).toBeUndefined();

    expect(lockDataDir(directory)).toBe(
      `${directory} is in use by another npm start (process ${process.pid}). ` +
        'Stop that one first, or give another directory.',
    );
  });
});
