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
 * `onEvent`; the message is deleted once `onEvent` returns.
 */
export function consumeQueue(options: {
  endpoint: string;
  queueUrl: string;
  onEvent: (event: unknown) => void;
  onError: (error: unknown) => void;
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
          options.onEvent(JSON.parse(message.Body ?? 'null'));
          await client.send(
            new DeleteMessageCommand({
              QueueUrl: options.queueUrl,
              ReceiptHandle: message.ReceiptHandle,
            }),
          );
        }
      } catch (error) {
        if (!running) break;
        options.onError(error);
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
