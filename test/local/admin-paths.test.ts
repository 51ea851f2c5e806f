import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qualifyingBatch } from '../fixtures/messages.js';
import {
  ADMIN_TOKEN,
  basicAuth,
  type LocalApi,
  startTrackingBackend,
  type TrackingBackend,
  WRITE_KEY,
} from '../support/tracking-api.js';

const LEAD = 'path-trick-lead';

let backend: TrackingBackend;
let api: LocalApi;

beforeAll(async () => {
  backend = await startTrackingBackend();
  api = await backend.startApi();
  const response = await fetch(`${api.url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: basicAuth(WRITE_KEY) },
    body: JSON.stringify({ batch: qualifyingBatch(LEAD) }),
  });
  expect(response.status).toBe(200);
});

afterAll(async () => {
  await backend?.stop();
});

interface RawResponse {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

/**
 * Sends a request with its path exactly as given. fetch would resolve
 * `..` segments and encode characters before sending.
 */
function send(
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { hostname, port, method, path, headers },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('admin routes under path tricks', () => {
  const writeKey = { authorization: basicAuth(WRITE_KEY) };

  it.each([
    ['GET', `/leads/${LEAD}`, {}],
    ['GET', `/leads/${LEAD}`, writeKey],
    ['GET', `/leads/${LEAD}/`, writeKey],
    ['GET', `/v1/batch/../../leads/${LEAD}`, writeKey],
    ['GET', `/v1/batch/%2E%2E/%2E%2E/leads/${LEAD}`, writeKey],
    ['GET', `/leads/${LEAD}/history`, writeKey],
    ['DELETE', `/leads/${LEAD}`, writeKey],
    ['DELETE', `/leads/x%2F..%2F${LEAD}`, writeKey],
    ['POST', `/leads/${LEAD}/recycle`, writeKey],
    ['GET', `/leads/${LEAD}`, { authorization: `Bearer ${WRITE_KEY}` }],
    ['GET', `/leads/${LEAD}`, { authorization: `Basic ${ADMIN_TOKEN}` }],
    ['GET', `/leads/${LEAD}`, { authorization: `Bearer ${ADMIN_TOKEN}x` }],
    [
      'GET',
      `/leads/${LEAD}`,
      { authorization: `Bearer ${ADMIN_TOKEN.slice(1)}` },
    ],
    ['GET', `/leads/${LEAD}`, { authorization: 'Bearer ' }],
  ])('answers 401 to %s %s', async (method, path, headers) => {
    const response = await send(method, path, headers);

    expect(response.status).toBe(401);
    expect(response.body).not.toContain(LEAD);
  });

  it.each([
    ['GET', `//leads/${LEAD}`],
    ['GET', `/leads%2F${LEAD}`],
    ['GET', `/LEADS/${LEAD}`],
    ['HEAD', `/leads/${LEAD}`],
    ['OPTIONS', `/leads/${LEAD}`],
    ['PUT', `/leads/${LEAD}`],
    ['GET', `/leads/../v1/batch`],
  ])('answers 404 to %s %s', async (method, path) => {
    const response = await send(method, path, writeKey);

    expect(response.status).toBe(404);
    expect(response.body).not.toContain(LEAD);
  });

  it('ignores one trailing slash', async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

    const lead = await send('GET', `/leads/${LEAD}/`, admin);
    const history = await send('GET', `/leads/${LEAD}/history/`, admin);

    expect(lead.status).toBe(200);
    expect(JSON.parse(lead.body)).toMatchObject({ leadId: LEAD });
    expect(history.status).toBe(200);
  });

  it('reads an encoded trailing slash as part of the id', async () => {
    const response = await send('GET', `/leads/${LEAD}%2F`, {
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });

    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toContain('problem+json');
  });

  it('keeps the lead after the tricks', async () => {
    const response = await send('GET', `/leads/${LEAD}`, {
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ leadId: LEAD });
  });
});
