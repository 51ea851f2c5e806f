import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CORS_ALLOWED_HEADERS,
  CORS_MAX_AGE_SECONDS,
} from '../../lib/definitions/cors.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import {
  ADMIN_TOKEN,
  basicAuth,
  type LocalApi,
  startTrackingBackend,
  type TrackingBackend,
  WRITE_KEY,
} from '../support/tracking-api.js';

const SITE = 'http://localhost:8080';

let backend: TrackingBackend;
let listed: LocalApi;
let anyOrigin: LocalApi;
let httpsOnly: LocalApi;
let corsOff: LocalApi;
let staged: LocalApi;

beforeAll(async () => {
  backend = await startTrackingBackend();
  [listed, anyOrigin, httpsOnly, corsOff, staged] = await Promise.all([
    backend.startApi({ corsOrigins: [SITE] }),
    backend.startApi({ corsOrigins: ['*'] }),
    backend.startApi({ corsOrigins: ['https://*'] }),
    backend.startApi({ corsOrigins: [] }),
    backend.startApi({ corsOrigins: ['*'], stage: 'dev' }),
  ]);
});

afterAll(async () => {
  await backend?.stop();
});

function preflight(api: LocalApi, path: string, origin: string) {
  return fetch(`${api.url}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });
}

describe('local API CORS', () => {
  it('answers a preflight from a listed origin', async () => {
    const response = await preflight(listed, '/v1/t', SITE);

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(SITE);
    expect(response.headers.get('access-control-allow-methods')).toBe(
      'GET,POST,OPTIONS',
    );
    expect(response.headers.get('access-control-allow-headers')).toBe(
      CORS_ALLOWED_HEADERS.join(','),
    );
    expect(response.headers.get('access-control-max-age')).toBe(
      String(CORS_MAX_AGE_SECONDS),
    );
    expect(response.headers.get('vary')).toBe('origin');
  });

  it('answers a preflight to the leads API without a token', async () => {
    const response = await preflight(listed, '/leads/jane', SITE);

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(SITE);
  });

  it.each([
    { name: '*', api: () => anyOrigin, origin: SITE },
    {
      name: 'https://*',
      api: () => httpsOnly,
      origin: 'https://www.example.com',
    },
  ])('keeps $name off the leads API', async ({ api, origin }) => {
    // Any page could send the default admin token, which the README
    // prints, so only origins listed by name may call the leads API.
    const response = await preflight(api(), '/leads/jane', origin);

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-headers')).toBeNull();
  });

  it('adds no CORS headers to a leads answer under *', async () => {
    const response = await fetch(`${anyOrigin.url}/leads/jane`, {
      headers: { origin: SITE, authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    await response.body?.cancel();

    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it.each([
    { name: 'an unlisted origin', api: () => listed, origin: 'http://evil' },
    { name: 'http under https://*', api: () => httpsOnly, origin: SITE },
  ])('allows nothing to $name', async ({ api, origin }) => {
    const response = await preflight(api(), '/v1/batch', origin);

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it.each([
    { name: '*', api: () => anyOrigin, origin: SITE, allowed: '*' },
    {
      name: 'https://*',
      api: () => httpsOnly,
      origin: 'https://www.example.com',
      allowed: 'https://www.example.com',
    },
  ])('allows an origin under $name', async ({ api, origin, allowed }) => {
    const response = await preflight(api(), '/v1/batch', origin);

    expect(response.headers.get('access-control-allow-origin')).toBe(allowed);
  });

  it('answers 404 to OPTIONS when CORS is off', async () => {
    const response = await preflight(corsOff, '/v1/batch', SITE);

    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds CORS headers to a tracking answer', async () => {
    const response = await fetch(`${listed.url}/v1/batch`, {
      method: 'POST',
      headers: {
        origin: SITE,
        authorization: basicAuth(WRITE_KEY),
        'content-type': 'text/plain',
      },
      body: JSON.stringify({ batch: qualifyingBatch('cors-answer') }),
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(SITE);
    expect(response.headers.get('access-control-expose-headers')).toBe(
      'retry-after',
    );
    expect(await backend.storedEvents('cors-answer')).toHaveLength(3);
  });

  it('adds CORS headers to an error answer', async () => {
    const response = await fetch(`${listed.url}/v1/batch`, {
      method: 'POST',
      headers: { origin: SITE },
      body: '{}',
    });

    expect(response.status).toBe(401);
    expect(response.headers.get('access-control-allow-origin')).toBe(SITE);
  });

  it('serves a named stage under its prefix only', async () => {
    const body = JSON.stringify({ batch: qualifyingBatch('cors-staged') });
    const headers = { authorization: basicAuth(WRITE_KEY) };

    const outside = await fetch(`${staged.url}/v1/batch`, {
      method: 'POST',
      headers,
      body,
    });
    const inside = await fetch(`${staged.url}/dev/v1/batch`, {
      method: 'POST',
      headers,
      body,
    });

    expect(outside.status).toBe(404);
    expect(inside.status).toBe(200);
    expect(await backend.storedEvents('cors-staged')).toHaveLength(3);
  });
});
