import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  addLockedService,
  LOCK_FILE_NAME,
  lockDataDir,
  unlockDataDir,
} from '../../local/data-dir-lock.js';
import { MOTO_RECORD_FILE_NAME } from '../../local/moto-record.js';

function emptyDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'mql-lock-'));
}

/** Returns the names of the files in `directory`. */
function filesOf(directory: string): string[] {
  return readdirSync(directory).sort();
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

  it('names no moto_server whose process id was reused', () => {
    const directory = emptyDirectory();
    const lockFile = join(directory, LOCK_FILE_NAME);
    writeFileSync(lockFile, `${endedProcessId()}\n${process.pid}\n`);
    // The test runner runs, but it is no moto_server.
    writeFileSync(
      join(directory, MOTO_RECORD_FILE_NAME),
      JSON.stringify([
        {
          pid: process.pid,
          endpoint: 'http://127.0.0.1:5000',
          salesQueueUrl: 'http://127.0.0.1:5000/123456789012/sales',
        },
      ]),
    );

    const problem = lockDataDir(directory);

    expect(problem).not.toContain('moto_server');
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

describe('lockDataDir replacing a stale lock', () => {
  it('leaves no claim or temporary file', () => {
    const directory = emptyDirectory();
    writeFileSync(join(directory, LOCK_FILE_NAME), `${endedProcessId()}\n`);

    expect(lockDataDir(directory)).toBeUndefined();

    expect(filesOf(directory)).toEqual([LOCK_FILE_NAME]);
  });

  it('replaces a claim of an ended start', () => {
    const directory = emptyDirectory();
    const lockFile = join(directory, LOCK_FILE_NAME);
    writeFileSync(lockFile, `${endedProcessId()}\n`);
    const stale = statSync(lockFile, { bigint: true });
    // A start killed while it replaced the lock leaves its claim behind.
    const claim = `${lockFile}.replacing-${stale.ino}-${stale.mtimeNs}`;
    writeFileSync(claim, `${endedProcessId()}\n`);

    expect(lockDataDir(directory)).toBeUndefined();

    expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid}\n`);
    expect(filesOf(directory)).toEqual([LOCK_FILE_NAME]);
  });

  it('gives up while a running process holds the claim', () => {
    const directory = emptyDirectory();
    const lockFile = join(directory, LOCK_FILE_NAME);
    writeFileSync(lockFile, `${endedProcessId()}\n`);
    const stale = statSync(lockFile, { bigint: true });
    const claim = `${lockFile}.replacing-${stale.ino}-${stale.mtimeNs}`;
    // The test runner is a running process, as a start in the middle of
    // a replacement would be.
    writeFileSync(claim, `${process.pid}\n`);

    const problem = lockDataDir(directory);

    expect(problem).toBe(
      `${directory} could not be locked, because other processes kept creating or replacing ${lockFile} for about 2 seconds. ` +
        'Try again, or give another directory.',
    );
    expect(readFileSync(claim, 'utf8')).toBe(`${process.pid}\n`);
  });

  it('lets one of many threads win', async () => {
    const threads = 12;
    const rounds = 15;
    const pool = await startLockThreads(threads);
    try {
      for (let round = 1; round <= rounds; round += 1) {
        const directory = emptyDirectory();
        writeFileSync(join(directory, LOCK_FILE_NAME), `${endedProcessId()}\n`);

        const problems = await pool.lockAtOnce(round, directory);

        const winners = problems.filter((problem) => problem === null);
        expect(winners, `round ${round}`).toHaveLength(1);
        for (const problem of problems.filter((entry) => entry !== null)) {
          expect(problem).toBe(
            `${directory} is in use by another npm start (process ${process.pid}). ` +
              'Stop that one first, or give another directory.',
          );
        }
        expect(filesOf(directory)).toEqual([LOCK_FILE_NAME]);
      }
    } finally {
      await pool.stop();
    }
  }, 60_000);

  it('lets one of several processes win', async () => {
    const directory = emptyDirectory();
    writeFileSync(join(directory, LOCK_FILE_NAME), `${endedProcessId()}\n`);
    const startAt = Date.now() + 3_000;
    const children = Array.from({ length: 4 }, () =>
      startLockProcess(directory, startAt),
    );
    try {
      const results = await Promise.all(children.map(lockResultOf));

      const winners = results.filter((result) => result.problem === null);
      expect(winners).toHaveLength(1);
      const winner = winners[0]?.pid;
      expect(readFileSync(join(directory, LOCK_FILE_NAME), 'utf8')).toBe(
        `${winner}\n`,
      );
      for (const result of results.filter((entry) => entry.problem !== null)) {
        expect(result.problem).toContain(
          `is in use by another npm start (process ${winner}).`,
        );
      }
    } finally {
      for (const child of children) child.kill();
    }
  }, 60_000);
});

/**
 * Worker threads that call lockDataDir together. The threads share this
 * process's id, so a lock that one thread created is held by a running
 * process for the others.
 */
async function startLockThreads(count: number) {
  const moduleUrl = new URL('../../local/data-dir-lock.ts', import.meta.url);
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const source = `
    import { parentPort, workerData } from 'node:worker_threads';
    import { register } from 'tsx/esm/api';
    register();
    const { lockDataDir } = await import(${JSON.stringify(moduleUrl.href)});
    const signal = workerData.signal;
    parentPort.postMessage({ ready: true });
    parentPort.on('message', ({ round, directory }) => {
      // Every thread waits here until the test starts the round, so the
      // calls overlap.
      while (Atomics.load(signal, 0) < round) Atomics.wait(signal, 0, round - 1);
      parentPort.postMessage({ problem: lockDataDir(directory) ?? null });
    });
  `;
  const workers = Array.from(
    { length: count },
    () => new Worker(source, { eval: true, workerData: { signal } }),
  );
  await Promise.all(workers.map((worker) => nextMessage(worker)));
  return {
    async lockAtOnce(round: number, directory: string) {
      const results = workers.map((worker) => nextMessage(worker));
      for (const worker of workers) worker.postMessage({ round, directory });
      Atomics.store(signal, 0, round);
      Atomics.notify(signal, 0);
      const messages = await Promise.all(results);
      return messages.map((message) => message.problem as string | null);
    },
    async stop() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}

function nextMessage(worker: Worker): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: Record<string, unknown>) => {
      worker.off('error', reject);
      resolve(message);
    });
  });
}

/**
 * Starts a process that calls lockDataDir on `directory` at `startAt`
 * (epoch ms), prints the problem or null as JSON and keeps running, and
 * so holds the lock if it got it, until it is killed.
 */
function startLockProcess(directory: string, startAt: number): ChildProcess {
  const moduleUrl = new URL('../../local/data-dir-lock.ts', import.meta.url);
  const source = `
    const { lockDataDir } = await import(${JSON.stringify(moduleUrl.href)});
    // Sleep until shortly before the start, then spin, so the processes
    // call lockDataDir within a millisecond of each other.
    const pause = new Int32Array(new SharedArrayBuffer(4));
    Atomics.wait(pause, 0, 0, Math.max(0, ${startAt} - Date.now() - 20));
    while (Date.now() < ${startAt}) {}
    const problem = lockDataDir(${JSON.stringify(directory)}) ?? null;
    process.stdout.write(JSON.stringify({ problem }) + '\\n');
    setInterval(() => {}, 1000);
  `;
  return spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '--eval', source],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
}

function lockResultOf(
  child: ChildProcess,
): Promise<{ pid: number | undefined; problem: string | null }> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('\n')) {
        const { problem } = JSON.parse(output) as { problem: string | null };
        resolve({ pid: child.pid, problem });
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
}

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
