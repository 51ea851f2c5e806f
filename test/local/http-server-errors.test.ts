import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalApi } from '../../local/http-server.js';

// The handlers build their runtime on first use, so a model file that
// does not exist makes the leads handler raise before it can catch.
let server: Server;
let api: string;
let previousModelFile: string | undefined;

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
      errors: [{ field: 'leadId', message: 'must be percent-encoded UTF-8' }],
    });
  });

  it('checks the token before the path', async () => {
    const response = await fetch(`${api}/leads/%FF`);

    expect(response.status).toBe(401);
  });
});
