import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../local/ports.js';
import {
  ReplayApiClient,
  resolveUrl,
} from '../../scripts/replay/api-client.js';
import {
  AdminTokenRejectedError,
  ApiUnreachableError,
  RequestFailedError,
  WriteKeyRejectedError,
} from '../../scripts/replay/errors.js';

type Reply = (request: IncomingMessage, response: ServerResponse) => void;

const EMPTY_RESULT = {
  results: [],
  leads: [],
  counts: { scored: 0, duplicate: 0, rejected: 0 },
  events: { published: 0, pending: 0 },
};

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** Starts a server that replies to the n-th request with `replies[n]`. */
async function serve(
  replies: Reply[],
): Promise<{ url: string; calls: number }> {
  const state = { url: '', calls: 0 };
  server = createServer((request, response) => {
    const reply = replies[Math.min(state.calls, replies.length - 1)];
    state.calls += 1;
    request.resume();
    request.on('end', () => reply?.(request, response));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  return state;
}

function json(status: number, body: unknown): Reply {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
}

function client(url: string): ReplayApiClient {
  return new ReplayApiClient({
    baseUrl: url,
    writeKey: 'key',
    adminToken: 'token',
    retryPolicy: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    timeoutMs: 2_000,
  });
}

describe('ReplayApiClient', () => {
  it('retries a 503 and returns the result', async () => {
    const api = await serve([
      json(503, { detail: 'busy' }),
      json(200, EMPTY_RESULT),
    ]);

    const result = await client(api.url).sendBatch('{"batch":[]}');

    expect(result).toEqual(EMPTY_RESULT);
    expect(api.calls).toBe(2);
  });

  it('sends the write key as the Basic user name', async () => {
    let authorization: string | undefined;
    const api = await serve([
      (request, response) => {
        authorization = request.headers.authorization;
        json(200, EMPTY_RESULT)(request, response);
      },
    ]);

    await client(api.url).sendBatch('{"batch":[]}');

    expect(authorization).toBe(
      `Basic ${Buffer.from('key:').toString('base64')}`,
    );
  });

  it('raises after the last attempt fails', async () => {
    const api = await serve([json(500, { detail: 'broken' })]);

    const sending = client(api.url).sendBatch('{"batch":[]}');

    await expect(sending).rejects.toThrow(RequestFailedError);
    await expect(sending).rejects.toThrow(/HTTP 500: broken/);
    expect(api.calls).toBe(3);
  });

  it('names DynamoDB given as the API', async () => {
    const api = await serve([
      (_request, response) => {
        response.writeHead(500, {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': 'request-1',
        });
        response.end(
          '{"__type":"com.amazonaws.dynamodb.v20120810#InternalFailure"}',
        );
      },
    ]);

    const checking = client(api.url).checkWriteKey();

    await expect(checking).rejects.toThrow(RequestFailedError);
    await expect(checking).rejects.toThrow(
      `${api.url} is DynamoDB, not the mql-engine API`,
    );
    await expect(checking).rejects.toThrow('"ready:" line');
    expect(api.calls).toBe(1);
  });

  it('names a Werkzeug server such as moto', async () => {
    const api = await serve([
      (_request, response) => {
        response.writeHead(500, {
          'content-type': 'text/html; charset=utf-8',
          server: 'Werkzeug/3.1.8 Python/3.11.7',
        });
        response.end('<!doctype html><title>500 Internal Server Error</title>');
      },
    ]);

    const checking = client(api.url).checkWriteKey();

    await expect(checking).rejects.toThrow(
      `${api.url} is a Python Werkzeug server, such as moto's, not the mql-engine API`,
    );
    expect(api.calls).toBe(1);
  });

  it('does not retry a 400', async () => {
    const api = await serve([json(400, { detail: 'bad batch' })]);

    await expect(client(api.url).sendBatch('{}')).rejects.toThrow(
      /HTTP 400: bad batch/,
    );
    expect(api.calls).toBe(1);
  });

  it.each([
    ['an object without counts', { results: 5 }],
    ['an array', []],
    ['null', null],
    [
      'counts that are not numbers',
      { ...EMPTY_RESULT, counts: { scored: '1', duplicate: 0, rejected: 0 } },
    ],
    ['results that are not an array', { ...EMPTY_RESULT, results: {} }],
  ])('rejects a batch response of %s', async (_case, body) => {
    const api = await serve([json(200, body)]);

    const sending = client(api.url).sendBatch('{"batch":[]}');

    await expect(sending).rejects.toThrow(RequestFailedError);
    await expect(sending).rejects.toThrow(
      'is not a batch result of the mql-engine API',
    );
  });

  it('accepts a batch response without leads', async () => {
    const { leads: _leads, ...counts } = EMPTY_RESULT;
    const api = await serve([json(200, counts)]);

    const result = await client(api.url).sendBatch('{"batch":[]}');

    expect(result.counts).toEqual(EMPTY_RESULT.counts);
  });

  it('accepts a counts batch response', async () => {
    const { leads: _leads, events: _events, ...counts } = EMPTY_RESULT;
    const api = await serve([json(200, counts)]);

    const result = await client(api.url).sendBatch('{"batch":[]}');

    expect(result.counts).toEqual(EMPTY_RESULT.counts);
    expect(result.events).toBeUndefined();
  });

  it('rejects a lead response that is not a lead', async () => {
    const api = await serve([json(200, ['x'])]);

    await expect(client(api.url).getLead('jane')).rejects.toThrow(
      'is not a lead of the mql-engine API',
    );
  });

  it('raises WriteKeyRejectedError on 401', async () => {
    const api = await serve([json(401, { title: 'Unauthorized' })]);

    await expect(client(api.url).checkWriteKey()).rejects.toThrow(
      WriteKeyRejectedError,
    );
  });

  it('raises AdminTokenRejectedError on 401 from the leads API', async () => {
    const api = await serve([json(401, { title: 'Unauthorized' })]);

    await expect(client(api.url).checkAdminToken()).rejects.toThrow(
      AdminTokenRejectedError,
    );
  });

  it('returns undefined for a lead that is not found', async () => {
    const api = await serve([json(404, { title: 'Not found' })]);

    await expect(client(api.url).getLead('nobody')).resolves.toBeUndefined();
  });

  it('raises ApiUnreachableError without retrying the check', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;

    const checking = client(url).checkWriteKey();

    await expect(checking).rejects.toThrow(ApiUnreachableError);
    await expect(checking).rejects.toThrow(/npm start/);
  });

  it('names a port that fetch blocks', async () => {
    // fetch rejects port 6000 (X11) before it connects, so no server
    // needs to listen there.
    const checking = client('http://127.0.0.1:6000').checkWriteKey();

    await expect(checking).rejects.toThrow(ApiUnreachableError);
    await expect(checking).rejects.toThrow('does not connect to port 6000');
    await expect(checking).rejects.toThrow('Start the API on another port');
  });
});

describe('resolveUrl', () => {
  it.each([
    ['http://127.0.0.1:3000', 'http://127.0.0.1:3000/v1/batch'],
    ['http://127.0.0.1:3000/', 'http://127.0.0.1:3000/v1/batch'],
    ['https://api.example.com/prod', 'https://api.example.com/prod/v1/batch'],
  ])('joins %s and the route', (base, expected) => {
    expect(resolveUrl(base, '/v1/batch').toString()).toBe(expected);
  });
});
