import type { Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalApi } from '../../local/http-server.js';

// The handlers build their runtime on first use, so a model file that
// does not exist makes the leads handler raise before it can catch.
let server: Server;
let api: string;
let previousModelFile: string | undefined;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  previousModelFile = process.env.MQL_MODEL_FILE;
  process.env.MQL_MODEL_FILE = '/nonexistent/mql-engine-model.json';
  server = await startLocalApi({ port: 0, adminToken: 'token' });
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  if (previousModelFile === undefined) delete process.env.MQL_MODEL_FILE;
  else process.env.MQL_MODEL_FILE = previousModelFile;
});

describe('local HTTP API', () => {
  it('sends problem+json for a handler failure', async () => {
    const response = await fetch(`${api}/leads/lead-1`, {
      headers: { authorization: 'Bearer token' },
    });

    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe(
      'application/problem+json',
    );
    expect(await response.json()).toEqual({
      type: 'urn:mql-engine:problem:internal-error',
      title: 'Internal error',
      status: 500,
      detail: 'The request failed on the server. Retry it later.',
      requestId: expect.stringMatching(UUID),
    });
  });

  it('rejects a path id that is not UTF-8', async () => {
    const response = await fetch(`${api}/leads/%FF/history`, {
      headers: { authorization: 'Bearer token' },
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe(
      'application/problem+json',
    );
    const body = await response.json();
    expect(body).toMatchObject({
      type: 'urn:mql-engine:problem:invalid-request',
      status: 400,
      requestId: expect.stringMatching(UUID),
      errors: [{ field: 'leadId', message: 'must be percent-encoded UTF-8' }],
    });
  });

  it('sends problem+json for headers over the limit', async () => {
    const response = await fetch(`${api}/v1/batch`, {
      method: 'POST',
      headers: { 'x-padding': 'a'.repeat(64 * 1024) },
      body: '{}',
    });

    expect(response.status).toBe(431);
    expect(response.headers.get('content-type')).toBe(
      'application/problem+json',
    );
    const body = await response.json();
    expect(body).toMatchObject({
      type: 'urn:mql-engine:problem:headers-too-large',
      status: 431,
      requestId: expect.stringMatching(UUID),
    });
    expect((body as { detail: string }).detail).toContain('over 16 KB');
  });

  it('sends problem+json for a body over 10 MB', async () => {
    const response = await fetch(`${api}/v1/batch`, {
      method: 'POST',
      body: 'a'.repeat(10 * 1024 * 1024 + 1),
    });

    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toBe(
      'application/problem+json',
    );
    const body = await response.json();
    expect(body).toMatchObject({
      type: 'urn:mql-engine:problem:payload-too-large',
      status: 413,
      requestId: expect.stringMatching(UUID),
    });
    expect((body as { detail: string }).detail).toContain('over 10 MB');
  });

  it('checks the token before the path', async () => {
    const response = await fetch(`${api}/leads/%FF`);

    expect(response.status).toBe(401);
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer wrong' }],
  ])('sends problem+json 401 for %s', async (_name, headers) => {
    const response = await fetch(`${api}/leads/lead-1`, { headers });

    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe(
      'application/problem+json',
    );
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="mql-engine"',
    );
    expect(await response.json()).toEqual({
      type: 'urn:mql-engine:problem:unauthorized',
      title: 'Unauthorized',
      status: 401,
      detail:
        'Send the admin token as "Authorization: Bearer <MQL_ADMIN_TOKEN>".',
      requestId: expect.stringMatching(UUID),
    });
  });

  it('gives each 401 its own request id', async () => {
    const first = (await (await fetch(`${api}/leads/lead-1`)).json()) as {
      requestId: string;
    };
    const second = (await (await fetch(`${api}/leads/lead-1`)).json()) as {
      requestId: string;
    };

    expect(first.requestId).not.toBe(second.requestId);
  });

  it.each([
    ['an unknown path', 'GET', '/lead/jane'],
    ['a method no route has', 'GET', '/v1/batch'],
  ])('adds a request id to the 404 for %s', async (_name, method, path) => {
    const response = await fetch(`${api}${path}`, { method });

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({
      message: 'Not Found',
      requestId: expect.stringMatching(UUID),
    });
  });

  it('gives each 404 its own request id', async () => {
    const first = (await (await fetch(`${api}/nowhere`)).json()) as {
      requestId: string;
    };
    const second = (await (await fetch(`${api}/nowhere`)).json()) as {
      requestId: string;
    };

    expect(first.requestId).not.toBe(second.requestId);
  });

  it('sends problem+json for a request it cannot parse', async () => {
    const raw = await sendRaw('NOT-HTTP\r\n\r\n');
    const { status, headers, body } = parseRawResponse(raw);

    expect(status).toBe(400);
    expect(headers['content-type']).toBe('application/problem+json');
    expect(headers.connection).toBe('close');
    expect(Number(headers['content-length'])).toBe(Buffer.byteLength(body));
    expect(JSON.parse(body)).toEqual({
      type: 'urn:mql-engine:problem:malformed-request',
      title: 'Bad request',
      status: 400,
      detail:
        'The request is not valid HTTP/1.1, so no route could read it. Check the request line and the headers.',
      requestId: expect.stringMatching(UUID),
    });
  });

  it('sends problem+json without a Host header', async () => {
    const raw = await sendRaw(
      'GET /leads/lead-1 HTTP/1.1\r\nAuthorization: Bearer token\r\n\r\n',
    );
    expectMalformedRequest(
      raw,
      'The request has no Host header, which HTTP/1.1 requires. Send Host with the host and port of the API, such as Host: 127.0.0.1:3000.',
    );
  });

  it.each([
    ['localhost', 'evil.example'],
    ['evil.example', 'localhost'],
    ['127.0.0.1', '127.0.0.1'],
  ])('rejects two Host headers %s and %s', async (first, second) => {
    // RFC 9112 requires a 400 here. Node.js keeps the first line only, so
    // a proxy that reads the last one would route the request elsewhere.
    const raw = await sendRaw(
      `GET /leads/lead-1 HTTP/1.1\r\nHost: ${first}\r\nHost: ${second}\r\nAuthorization: Bearer token\r\n\r\n`,
    );
    expectMalformedRequest(
      raw,
      'The request has more than one Host header, which HTTP/1.1 forbids. Send one Host with the host and port of the API, such as Host: 127.0.0.1:3000.',
    );
  });

  it.each(['127.0.0.1:65536', 'localhost:99999'])(
    'rejects the Host port of %s',
    async (host) => {
      const raw = await sendRaw(
        `GET /leads/lead-1 HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer token\r\n\r\n`,
      );
      expectMalformedRequest(
        raw,
        'The port of the Host header is above 65535, so the header is invalid. Send Host with the host and port of the API, such as Host: 127.0.0.1:3000.',
      );
    },
  );

  it.each([
    'evil.example:3000',
    'evil.example',
    '127.0.0.1.evil.example',
    'localhost@evil.example',
    '127.0.0.1:3000/x',
  ])('rejects the Host %s on loopback', async (host) => {
    // A page whose domain resolves to 127.0.0.1 (DNS rebinding) sends
    // its own domain as Host.
    const raw = await sendRaw(
      `GET /leads/lead-1 HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer token\r\n\r\n`,
    );
    const { status, headers, body } = parseRawResponse(raw);

    expect(status).toBe(403);
    expect(headers['content-type']).toBe('application/problem+json');
    expect(headers.connection).toBe('close');
    expect(JSON.parse(body)).toMatchObject({
      type: 'urn:mql-engine:problem:host-not-allowed',
      status: 403,
      requestId: expect.stringMatching(UUID),
    });
  });

  it.each([
    '127.0.0.1:3000',
    '127.0.0.2',
    'localhost',
    'LOCALHOST:3000',
    'app.localhost:8080',
    '[::1]:3000',
    '127.1:3000',
  ])('serves the Host %s on loopback', async (host) => {
    const raw = await sendRaw(
      `GET /nowhere HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );

    expect(parseRawResponse(raw).status).toBe(404);
  });

  it('serves HTTP/1.0 without a Host header', async () => {
    const raw = await sendRaw('GET /nowhere HTTP/1.0\r\n\r\n');
    const { status, body } = parseRawResponse(raw);

    expect(status).toBe(404);
    expect(JSON.parse(body)).toEqual({
      message: 'Not Found',
      requestId: expect.stringMatching(UUID),
    });
  });

  it('reads a path starting with // as a path', async () => {
    // `//x/leads/lead-1` is the path itself, not the host x followed by
    // /leads/lead-1, so no route matches it.
    const raw = await sendRaw(
      'GET //x/leads/lead-1 HTTP/1.0\r\nAuthorization: Bearer token\r\n\r\n',
    );
    const { status, body } = parseRawResponse(raw);

    expect(status).toBe(404);
    expect(JSON.parse(body)).toEqual({
      message: 'Not Found',
      requestId: expect.stringMatching(UUID),
    });
  });

  it('routes a request target in absolute form', async () => {
    const raw = await sendRaw(
      'GET http://127.0.0.1/leads/%FF HTTP/1.0\r\nAuthorization: Bearer token\r\n\r\n',
    );
    const { status, body } = parseRawResponse(raw);

    expect(status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({
      errors: [{ field: 'leadId', message: 'must be percent-encoded UTF-8' }],
    });
  });

  it.each(['http://[', 'http://127.0.0.1:99999/v1/batch'])(
    'sends 400 for the request target %s',
    async (target) => {
      const raw = await sendRaw(`GET ${target} HTTP/1.0\r\n\r\n`);
      const { status, headers, body } = parseRawResponse(raw);

      expect(status).toBe(400);
      expect(headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(body)).toEqual({
        type: 'urn:mql-engine:problem:malformed-request',
        title: 'Bad request',
        status: 400,
        detail:
          'The request target is not a valid path or URL. Send a path such as /v1/batch.',
        requestId: expect.stringMatching(UUID),
      });
    },
  );

  it('sends problem+json for an unknown Expect', async () => {
    const raw = await sendRaw(
      'POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 200-ok\r\n' +
        'Content-Length: 2\r\n\r\n{}',
    );
    const { status, headers, body } = parseRawResponse(raw);

    expect(status).toBe(417);
    expect(headers['content-type']).toBe('application/problem+json');
    expect(headers.connection).toBe('close');
    expect(JSON.parse(body)).toEqual({
      type: 'urn:mql-engine:problem:expectation-failed',
      title: 'Expectation failed',
      status: 417,
      detail:
        'The only Expect value the server supports is 100-continue. Leave Expect out, or send Expect: 100-continue.',
      requestId: expect.stringMatching(UUID),
    });
  });

  it('sends problem+json for a request that timed out', async () => {
    const socket = new PassThrough();
    const written: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => written.push(chunk));
    const timeout = Object.assign(new Error('Request timeout'), {
      code: 'ERR_HTTP_REQUEST_TIMEOUT',
    });

    server.emit('clientError', timeout, socket);
    await new Promise((resolve) => socket.once('finish', resolve));
    const { status, headers, body } = parseRawResponse(
      Buffer.concat(written).toString('utf8'),
    );

    expect(status).toBe(408);
    expect(headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(body)).toEqual({
      type: 'urn:mql-engine:problem:request-timeout',
      title: 'Request timeout',
      status: 408,
      detail:
        'The request line, headers or body did not arrive in time. Send the request again.',
      requestId: expect.stringMatching(UUID),
    });
  });
});

/** Sends raw bytes to the server and returns all it sends back. */
/**
 * Checks that a raw response is the server's 400 problem+json for a
 * malformed request, with `detail`, and that it closes the connection.
 */
function expectMalformedRequest(raw: string, detail: string): void {
  const { status, headers, body } = parseRawResponse(raw);

  expect(status).toBe(400);
  expect(headers['content-type']).toBe('application/problem+json');
  expect(headers.connection).toBe('close');
  expect(JSON.parse(body)).toEqual({
    type: 'urn:mql-engine:problem:malformed-request',
    title: 'Bad request',
    status: 400,
    detail,
    requestId: expect.stringMatching(UUID),
  });
}

function sendRaw(request: string): Promise<string> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
    socket.write(request);
  });
}

/** Splits a raw HTTP/1.1 response into status, lower-case headers and body. */
function parseRawResponse(raw: string): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

describe('local HTTP API with an error listener', () => {
  it('ignores a body the client cut short', async () => {
    const errors: unknown[] = [];
    const listener = await startLocalApi({
      port: 0,
      adminToken: 'token',
      onError: (error) => errors.push(error),
    });
    const { port } = listener.address() as AddressInfo;
    try {
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        'POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n' +
          '{"batch": [',
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 300));

      const preflight = await fetch(`http://127.0.0.1:${port}/v1/batch`, {
        method: 'OPTIONS',
      });

      expect(errors).toEqual([]);
      expect(preflight.status).toBeLessThan(500);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});
