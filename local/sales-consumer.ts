import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { LOCAL_AWS } from './services.js';

/** A running queue consumer. */
export interface QueueConsumer {
  stop(): Promise<void>;
}

/** Wait after the first failed poll, which doubles with each later failure. */
const FIRST_POLL_RETRY_MS = 1_000;
/** Maximum wait between failed polls. */
const MAX_POLL_RETRY_MS = 30_000;

/**
 * Polls a queue and passes each message body, parsed as JSON, to
 * `onEvent`. A message is deleted once `onEvent` resolves. When it throws
 * or rejects, the error goes to `onError` and the message stays on the
 * queue, which delivers it again after its visibility timeout.
 *
 * A failed poll goes to `onError` and is tried again after a wait that
 * doubles from 1 s to 30 s, so a queue service that stopped responding
 * fills no log with a line per second. `onRecovered`, when given, receives
 * the first poll that succeeds after a failure.
 */
export function consumeQueue(options: {
  endpoint: string;
  queueUrl: string;
  onEvent: (event: unknown) => unknown;
  /** Called with what failed and the error. */
  onError: (what: string, error: unknown) => void;
  /** Called once a poll succeeds after failed ones. */
  onRecovered?: (what: string) => void;
  /** First wait after a failed poll; tests shorten it. */
  firstRetryMs?: number;
}): QueueConsumer {
  const client = new SQSClient({ ...LOCAL_AWS, endpoint: options.endpoint });
  const firstRetryMs = options.firstRetryMs ?? FIRST_POLL_RETRY_MS;
  let running = true;
  let failedPolls = 0;
  let wakeUp: () => void = () => {};
  const loop = (async () => {
    while (running) {
      try {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        if (failedPolls > 0) {
          failedPolls = 0;
          options.onRecovered?.('sales queue poll succeeded again');
        }
        for (const message of Messages) {
          try {
            await options.onEvent(JSON.parse(message.Body ?? 'null'));
          } catch (error) {
            options.onError(
              `delivery of message ${message.MessageId} failed, retried after the queue's visibility timeout`,
              error,
            );
            continue;
          }
          await client.send(
            new DeleteMessageCommand({
              QueueUrl: options.queueUrl,
              ReceiptHandle: message.ReceiptHandle,
            }),
          );
        }
      } catch (error) {
        if (!running) break;
        const waitMs = Math.min(
          firstRetryMs * 2 ** failedPolls,
          MAX_POLL_RETRY_MS,
        );
        failedPolls += 1;
        options.onError(
          `sales queue poll failed, next poll in ${waitMs / 1000} s`,
          error,
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      wakeUp();
      await loop;
      client.destroy();
    },
  };
}
