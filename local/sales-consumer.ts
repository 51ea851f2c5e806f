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

/**
 * Polls a queue and passes each message body, parsed as JSON, to
 * `onEvent`. A message is deleted once `onEvent` resolves. When it throws
 * or rejects, the error goes to `onError` and the message stays on the
 * queue, which delivers it again after its visibility timeout.
 */
export function consumeQueue(options: {
  endpoint: string;
  queueUrl: string;
  onEvent: (event: unknown) => unknown;
  /** Called with what failed and the error. */
  onError: (what: string, error: unknown) => void;
}): QueueConsumer {
  const client = new SQSClient({ ...LOCAL_AWS, endpoint: options.endpoint });
  let running = true;
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
        options.onError('sales queue poll failed', error);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      client.destroy();
    },
  };
}
