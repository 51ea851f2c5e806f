import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deliverLeftoverEvents,
  startLeftoverDeliveries,
} from '../../local/leftover-moto.js';
import { type MotoRecord, writeMotoRecords } from '../../local/moto-record.js';

const started: ChildProcess[] = [];

afterEach(() => {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
});

/** Returns a loopback port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error();
  return address.port;
}

/** Returns the id of a process that has already ended. */
function endedProcessId(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  if (child.pid === undefined) throw new Error('node did not start');
  return child.pid;
}

/**
 * Starts a process whose command line reads as `moto_server -p PORT`, so
 * that deliverLeftoverEvents takes it for the recorded moto_server.
 */
async function startFakeMoto(port: number, uid?: number) {
  const child = spawn(
    process.execPath,
    ['-e', 'setInterval(()=>{},1000)', '/fake/moto_server', '-p', `${port}`],
    { stdio: 'ignore', uid },
  );
  started.push(child);
  await once(child, 'spawn');
  const pid = child.pid;
  if (pid === undefined) throw new Error('fake moto_server has no pid');
  return { child, pid };
}

/**
 * Starts deliverLeftoverEvents on `record`, collecting its status
 * messages and counting its onDone calls.
 */
function deliverRecorded(record: MotoRecord) {
  const statuses: string[] = [];
  const calls = { done: 0 };
  const delivery = deliverLeftoverEvents({
    record,
    onEvent: () => undefined,
    onStatus: (message) => statuses.push(message),
    onDone: () => {
      calls.done += 1;
    },
  });
  return { delivery, statuses, calls };
}

/** Returns the record of a moto_server on `port` with a sales queue. */
function salesRecord(pid: number, port: number): MotoRecord {
  const endpoint = `http://127.0.0.1:${port}`;
  return { pid, endpoint, salesQueueUrl: `${endpoint}/123456789012/sales` };
}

describe('deliverLeftoverEvents', () => {
  it('stops a moto_server recorded without a sales queue', async () => {
    const port = await closedPort();
    const { child, pid } = await startFakeMoto(port);

    const { delivery, statuses, calls } = deliverRecorded({
      pid,
      endpoint: `http://127.0.0.1:${port}`,
      salesQueueUrl: '',
    });
    await delivery.done;
    const [, signal] = await once(child, 'exit');

    expect(signal).toBe('SIGTERM');
    expect(calls.done).toBe(1);
    expect(statuses).toEqual([
      `stopped moto_server (process ${pid}) of an npm start that has ended; its stage had no sales queue`,
    ]);
  });

  it('ends when the moto_server ends mid-delivery', async () => {
    const port = await closedPort();
    const { child, pid } = await startFakeMoto(port);

    const { delivery, statuses, calls } = deliverRecorded(
      salesRecord(pid, port),
    );
    child.kill('SIGKILL');
    await once(child, 'exit');
    const ended = await Promise.race([
      delivery.done.then(() => true),
      new Promise((resolve) => setTimeout(resolve, 8_000, false)),
    ]);
    await delivery.stop();

    expect(ended).toBe(true);
    expect(calls.done).toBe(1);
    expect(statuses.at(-1)).toMatch(/has ended|is gone|lost/);
  }, 20_000);

  it.runIf(process.getuid?.() === 0)(
    'leaves a moto_server of another user alone',
    async () => {
      const port = await closedPort();
      const { child, pid } = await startFakeMoto(port, 65534);

      const { delivery, statuses, calls } = deliverRecorded(
        salesRecord(pid, port),
      );
      await delivery.stop();

      expect(calls.done).toBe(1);
      expect(statuses[0]).toMatch(/is gone/);
      expect(child.exitCode).toBeNull();
      expect(child.signalCode).toBeNull();
    },
  );
});

describe('startLeftoverDeliveries', () => {
  it('reports a record it cannot write', async () => {
    const port = await closedPort();
    const { child, pid } = await startFakeMoto(port);
    const endpoint = `http://127.0.0.1:${port}`;
    const directory = mkdtempSync(join(tmpdir(), 'mql-moto-'));
    writeMotoRecords(directory, [
      { pid, endpoint, salesQueueUrl: `${endpoint}/123456789012/sales` },
    ]);
    const statuses: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);

    try {
      const deliveries = startLeftoverDeliveries({
        dir: directory,
        current: {
          pid: endedProcessId(),
          endpoint,
          salesQueueUrl: `${endpoint}/123456789012/current`,
        },
        onEvent: () => undefined,
        onStatus: (message) => statuses.push(message),
      });
      rmSync(directory, { recursive: true, force: true });
      child.kill('SIGKILL');
      await once(child, 'exit');
      await new Promise((resolve) => setTimeout(resolve, 3_000));

      await expect(deliveries.stop()).resolves.toBeUndefined();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }

    expect(unhandled).toEqual([]);
    expect(statuses.at(-1)).toMatch(/writing .* failed/);
  }, 20_000);
});
