import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
});
