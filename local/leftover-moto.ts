import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  isMotoProcess,
  MOTO_RECORD_FILE_NAME,
  type MotoRecord,
  readMotoRecords,
  writeMotoRecords,
} from './moto-record.js';
import { consumeQueue } from './sales-consumer.js';
import { LOCAL_AWS } from './services.js';

/** Time in ms between checks of whether the earlier sales queue is empty. */
const EMPTY_CHECK_INTERVAL_MS = 1_000;

/** A running delivery of the events left in an earlier moto_server. */
export interface LeftoverDelivery {
  /** Resolves once the queue is empty and that moto_server was stopped. */
  done: Promise<void>;
  /** Stops delivering and leaves that moto_server running. */
  stop(): Promise<void>;
}

/**
 * Delivers the events left in the sales queue of a moto_server that an
 * earlier `npm start` started, through `onEvent` as the stack's own queue
 * does, and stops that moto_server once its queue is empty. Events that
 * the ended start had received but not deleted come again after the
 * queue's visibility timeout (30 seconds), so some of them may be
 * delivered twice. Calls `onDone` after stopping it, or at once when
 * that process has ended or is not that moto_server any more.
 */
export function deliverLeftoverEvents(options: {
  record: MotoRecord;
  onEvent: (event: unknown) => unknown;
  onStatus: (message: string, error?: unknown) => void;
  onDone: () => void;
}): LeftoverDelivery {
  const { record, onStatus } = options;
  if (!isMotoProcess(record)) {
    onStatus(goneMessage(record));
    options.onDone();
    return { done: Promise.resolve(), stop: async () => undefined };
  }
  // A start whose stage has no sales target records no queue URL, and
  // its moto_server has no events to deliver.
  if (record.salesQueueUrl === '') {
    stopMotoProcess(record);
    onStatus(
      `stopped moto_server (process ${record.pid}) of an npm start that has ended; its stage had no sales queue`,
    );
    options.onDone();
    return { done: Promise.resolve(), stop: async () => undefined };
  }
  onStatus(
    `delivering the events left in the sales queue of moto_server (process ${record.pid}) ` +
      `of an npm start that has ended; it is stopped once that queue is empty`,
  );
  let stopped = false;
  let delivered = 0;
  const consumer = consumeQueue({
    endpoint: record.endpoint,
    queueUrl: record.salesQueueUrl,
    onEvent: async (event) => {
      await options.onEvent(event);
      delivered += 1;
    },
    onError: (what, error) =>
      onStatus(`${what} (moto_server process ${record.pid})`, error),
    onRecovered: (what) =>
      onStatus(`${what} (moto_server process ${record.pid})`),
  });
  const client = new SQSClient({ ...LOCAL_AWS, endpoint: record.endpoint });
  const finish = async (message: string, stopMoto: boolean) => {
    await consumer.stop();
    client.destroy();
    if (stopMoto && !stopped) stopMotoProcess(record);
    onStatus(message);
    options.onDone();
  };
  const done = (async () => {
    let failing = false;
    while (!stopped) {
      await new Promise((resolve) =>
        setTimeout(resolve, EMPTY_CHECK_INTERVAL_MS),
      );
      if (stopped) break;
      let empty: boolean;
      try {
        empty = await isQueueEmpty(client, record.salesQueueUrl);
      } catch (error) {
        // A moto_server stopped meanwhile never responds again, and its
        // events are gone with it.
        if (!isMotoProcess(record)) return finish(goneMessage(record), false);
        // Logged once per run of failures, not once a second.
        if (!failing) {
          onStatus(
            `checking the sales queue of moto_server (process ${record.pid}) failed, retrying`,
            error,
          );
        }
        failing = true;
        continue;
      }
      failing = false;
      if (!empty) continue;
      return finish(
        `delivered ${delivered} event(s) left in moto_server (process ${record.pid}) and stopped it`,
        true,
      );
    }
  })();
  return {
    done,
    stop: async () => {
      stopped = true;
      await consumer.stop();
      await done;
      client.destroy();
    },
  };
}

/**
 * Starts delivering the events left by the moto_servers that earlier
 * starts on `dir` recorded, and records `current`, the moto_server of
 * this start. A record stays until its queue is delivered, so a start
 * killed meanwhile leaves it to the next one. `stop` ends the deliveries
 * and removes the record of `current`, whose moto_server the stack stops.
 */
export function startLeftoverDeliveries(options: {
  dir: string;
  current: MotoRecord;
  onEvent: (event: unknown) => unknown;
  onStatus: (message: string, error?: unknown) => void;
}): { stop(): Promise<void> } {
  const { dir, current } = options;
  const pending = new Set(
    readMotoRecords(dir).filter((record) => record.pid !== current.pid),
  );
  writeMotoRecords(dir, [...pending, current]);
  // A failed write is reported, not thrown, so that stopping the stack
  // still stops its services.
  const rewrite = (records: MotoRecord[]) => {
    try {
      writeMotoRecords(dir, records);
    } catch (error) {
      options.onStatus(`writing ${MOTO_RECORD_FILE_NAME} failed`, error);
    }
  };
  const deliveries = [...pending].map((record) =>
    deliverLeftoverEvents({
      record,
      onEvent: options.onEvent,
      onStatus: options.onStatus,
      onDone: () => {
        pending.delete(record);
        rewrite([...pending, current]);
      },
    }),
  );
  return {
    stop: async () => {
      await Promise.all(deliveries.map((delivery) => delivery.stop()));
      rewrite([...pending]);
    },
  };
}

function goneMessage(record: MotoRecord): string {
  return (
    `moto_server (process ${record.pid}) of an npm start that has ended is gone; ` +
    'routed events that it had not delivered yet, if any, are lost'
  );
}

function stopMotoProcess(record: MotoRecord): void {
  if (!isMotoProcess(record)) return;
  try {
    process.kill(record.pid, 'SIGTERM');
  } catch (error) {
    // ESRCH: it ended after the check.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function isQueueEmpty(
  client: SQSClient,
  queueUrl: string,
): Promise<boolean> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return Object.values(Attributes).every((count) => Number(count) === 0);
}
