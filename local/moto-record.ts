import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Records of the moto_server processes that `npm start -- --data-dir DIR`
 * started, kept in DIR. moto keeps its queues in memory, and a SIGKILL of
 * `npm start` leaves its moto_server running with the routed events that
 * were not delivered yet. The next start on DIR delivers them from there
 * and then stops that moto_server.
 */
export const MOTO_RECORD_FILE_NAME = 'mql-engine.moto.json';

/** A moto_server that an `npm start` on the data directory started. */
export interface MotoRecord {
  pid: number;
  endpoint: string;
  salesQueueUrl: string;
}

/** Returns the recorded moto_servers of `dir`, none when the file is missing or invalid. */
export function readMotoRecords(dir: string): MotoRecord[] {
  let text: string;
  try {
    text = readFileSync(join(dir, MOTO_RECORD_FILE_NAME), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    const records: unknown = JSON.parse(text);
    return Array.isArray(records) ? records.filter(isMotoRecord) : [];
  } catch {
    return [];
  }
}

/** Replaces the recorded moto_servers of `dir`, deleting the file for none. */
export function writeMotoRecords(dir: string, records: MotoRecord[]): void {
  const path = join(dir, MOTO_RECORD_FILE_NAME);
  if (records.length === 0) {
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return;
  }
  // A start killed while writing leaves the temporary file, not half a record.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(records)}\n`);
  renameSync(temporary, path);
}

/**
 * Tells whether the recorded process still runs moto_server on the
 * recorded port as this user, so that a process id that the system gave
 * to another program or another user's moto_server since is never
 * stopped.
 */
export function isMotoProcess(record: MotoRecord): boolean {
  const port = new URL(record.endpoint).port;
  const result = spawnSync(
    'ps',
    ['-o', 'uid=,args=', '-p', String(record.pid)],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) return false;
  const [uid, ...args] = result.stdout.trim().split(/\s+/);
  const portIndex = args.indexOf('-p');
  return (
    uid === String(process.getuid?.() ?? uid) &&
    args.some((arg) => arg.endsWith('moto_server')) &&
    portIndex !== -1 &&
    args[portIndex + 1] === port
  );
}

function isMotoRecord(value: unknown): value is MotoRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(record.pid) &&
    (record.pid as number) > 0 &&
    typeof record.endpoint === 'string' &&
    URL.canParse(record.endpoint) &&
    typeof record.salesQueueUrl === 'string'
  );
}
