import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  checkEventsFile,
  eventDelivery,
  WebhookError,
} from '../../local/event-sinks.js';
import { consumeQueue } from '../../local/sales-consumer.js';
import { LOCAL_AWS } from '../../local/services.js';
import { uniqueName } from '../support/aws.js';

const EVENT = {
  id: 'event-1',
  'detail-type': 'Lead Qualified',
  detail: { leadId: 'lead-1', score: 80 },
};

interface Webhook {
  url: string;
  bodies: string[];
  server: Server;
}

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Starts a webhook on loopback that responds with the status `answer` returns. */
async function startWebhook(
  answer: (request: IncomingMessage) => number | undefined,
): Promise<Webhook> {
  const bodies: string[] = [];
  const server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    bodies.push(body);
    const status = answer(request);
    // An undefined status leaves the request unanswered.
    if (status !== undefined) response.writeHead(status).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mql`, bodies, server };
}

function tempFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'mql-events-')), 'events.jsonl');
}

describe('eventDelivery', () => {
  it('posts, appends and writes one JSON line per event', async () => {
    const webhook = await startWebhook(() => 204);
    const eventsFile = tempFile();
    const written: string[] = [];
    const deliver = eventDelivery({
      write: (line) => written.push(line),
      eventsFile,
      webhookUrl: webhook.url,
    });

    await deliver(EVENT);
    await deliver({ ...EVENT, id: 'event-2' });

    const lines = [
      `${JSON.stringify(EVENT)}\n`,
      `${JSON.stringify({ ...EVENT, id: 'event-2' })}\n`,
    ];
    expect(webhook.bodies.map((body) => JSON.parse(body))).toEqual([
      EVENT,
      { ...EVENT, id: 'event-2' },
    ]);
    expect(readFileSync(eventsFile, 'utf8')).toBe(lines.join(''));
    expect(written).toEqual(lines);
  });

  it('rejects a non-2xx answer and writes nothing', async () => {
    const webhook = await startWebhook(() => 500);
    const eventsFile = tempFile();
    const written: string[] = [];
    const deliver = eventDelivery({
      write: (line) => written.push(line),
      eventsFile,
      webhookUrl: webhook.url,
    });

    const delivery = deliver(EVENT);

    await expect(delivery).rejects.toThrow(WebhookError);
    await expect(delivery).rejects.toThrow(
      'responded with status 500; it must respond with 2xx',
    );
    expect(written).toEqual([]);
    expect(() => readFileSync(eventsFile)).toThrow(/ENOENT/);
  });

  it('rejects a webhook that does not answer in time', async () => {
    const webhook = await startWebhook(() => undefined);
    const written: string[] = [];
    const deliver = eventDelivery({
      write: (line) => written.push(line),
      webhookUrl: webhook.url,
      webhookTimeoutMs: 200,
    });

    const delivery = deliver(EVENT);

    await expect(delivery).rejects.toThrow(
      `The webhook POST to MQL_WEBHOOK_URL (${new URL(webhook.url).origin}) timed out after 200 ms`,
    );
    await expect(delivery).rejects.not.toThrow('/mql');
    expect(written).toEqual([]);
  });

  it('names a closed connection', async () => {
    const webhook = await startWebhook((request) => {
      request.socket.destroy();
      return undefined;
    });
    const deliver = eventDelivery({ write: () => {}, webhookUrl: webhook.url });

    const delivery = deliver(EVENT);

    await expect(delivery).rejects.toThrow(WebhookError);
    await expect(delivery).rejects.toThrow(
      `The webhook POST to MQL_WEBHOOK_URL (${new URL(webhook.url).origin}) failed: other side closed.`,
    );
  });

  it('names a port that fetch blocks', async () => {
    // fetch rejects port 6000 (X11) before it connects, so no server
    // needs to listen there.
    const deliver = eventDelivery({
      write: () => {},
      webhookUrl: 'http://127.0.0.1:6000/mql',
    });

    const delivery = deliver(EVENT);

    await expect(delivery).rejects.toThrow(WebhookError);
    await expect(delivery).rejects.toThrow(
      "The webhook POST to MQL_WEBHOOK_URL (http://127.0.0.1:6000) failed: Node.js's fetch does not connect to port 6000",
    );
    await expect(delivery).rejects.toThrow('Serve the webhook on another port');
  });

  it('names a refused connection', async () => {
    const webhook = await startWebhook(() => 200);
    await new Promise((resolve) => webhook.server.close(resolve));
    const deliver = eventDelivery({ write: () => {}, webhookUrl: webhook.url });

    await expect(deliver(EVENT)).rejects.toThrow(
      /failed: connect ECONNREFUSED 127\.0\.0\.1:\d+\.$/,
    );
  });

  it('sends URL credentials as HTTP Basic auth', async () => {
    let authorization: string | undefined;
    const webhook = await startWebhook((request) => {
      authorization = request.headers.authorization;
      return 204;
    });
    const url = new URL(webhook.url);
    url.username = 'hook user';
    url.password = 's3cret:x';
    const written: string[] = [];

    await eventDelivery({
      write: (line) => written.push(line),
      webhookUrl: url.href,
    })(EVENT);

    const expected = Buffer.from('hook user:s3cret:x').toString('base64');
    expect(authorization).toBe(`Basic ${expected}`);
    expect(webhook.bodies).toHaveLength(1);
    expect(written).toHaveLength(1);
  });

  it('sends a malformed escape in credentials as typed', async () => {
    let authorization: string | undefined;
    const webhook = await startWebhook((request) => {
      authorization = request.headers.authorization;
      return 204;
    });
    const url = new URL(webhook.url);
    url.username = '%zz';

    await eventDelivery({ write: () => {}, webhookUrl: url.href })(EVENT);

    expect(authorization).toBe(
      `Basic ${Buffer.from('%zz:').toString('base64')}`,
    );
  });

  it('keeps URL credentials out of errors', async () => {
    const webhook = await startWebhook(() => 200);
    await new Promise((resolve) => webhook.server.close(resolve));
    const url = new URL(webhook.url);
    url.username = 'hook';
    url.password = 's3cret';
    url.search = '?token=t0ken';
    const deliver = eventDelivery({ write: () => {}, webhookUrl: url.href });

    const delivery = deliver(EVENT);

    await expect(delivery).rejects.toThrow(
      /failed: connect ECONNREFUSED 127\.0\.0\.1:\d+\.$/,
    );
    await expect(delivery).rejects.not.toThrow('s3cret');
    await expect(delivery).rejects.not.toThrow('t0ken');
  });

  it('sends the content type of JSON', async () => {
    let contentType: string | undefined;
    const webhook = await startWebhook((request) => {
      contentType = request.headers['content-type'];
      return 200;
    });

    await eventDelivery({ write: () => {}, webhookUrl: webhook.url })(EVENT);

    expect(contentType).toBe('application/json');
  });
});

describe('checkEventsFile', () => {
  it('rejects a directory', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mql-events-'));

    await expect(checkEventsFile(directory)).rejects.toThrow(/EISDIR/);
  });

  it('creates a missing file in an existing directory', async () => {
    const file = tempFile();

    await checkEventsFile(file);

    expect(readFileSync(file, 'utf8')).toBe('');
  });
});

describe('consumeQueue', () => {
  it('keeps a message whose delivery failed and delivers it again', async () => {
    const endpoint = inject('motoEndpoint');
    const sqs = new SQSClient({ ...LOCAL_AWS, endpoint });
    const { QueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({
        QueueName: uniqueName('sales'),
        Attributes: { VisibilityTimeout: '1' },
      }),
    );
    await sqs.send(
      new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(EVENT) }),
    );
    const delivered: unknown[] = [];
    const failures: string[] = [];
    let attempts = 0;
    let done: () => void = () => {};
    const secondAttempt = new Promise<void>((resolve) => {
      done = resolve;
    });

    const consumer = consumeQueue({
      endpoint,
      queueUrl: QueueUrl,
      onEvent: async (event) => {
        attempts += 1;
        if (attempts === 1)
          throw new WebhookError('The webhook responded with status 503.');
        delivered.push(event);
        done();
      },
      onError: (what) => failures.push(what),
    });
    await secondAttempt;
    await consumer.stop();
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
        ],
      }),
    );
    sqs.destroy();

    expect(delivered).toEqual([EVENT]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^delivery of message .+ failed/);
    expect(Attributes.ApproximateNumberOfMessages).toBe('0');
    expect(Attributes.ApproximateNumberOfMessagesNotVisible).toBe('0');
  }, 30_000);
});
