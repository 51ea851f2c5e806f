import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  basicAuth,
  type LocalApi,
  startTrackingBackend,
  type TrackingBackend,
  WRITE_KEY,
} from '../support/tracking-api.js';

let backend: TrackingBackend;
let api: LocalApi;

beforeAll(async () => {
  backend = await startTrackingBackend();
  api = await backend.startApi();
});

afterAll(async () => {
  await backend?.stop();
});

interface Problem {
  status: number;
  detail: string;
  errors: Array<{ field: string; message: string }>;
}

async function send(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, text: await response.text() };
}

/** Characters that a message must not echo from a rejected id. */
const ECHOED = /[\p{Cc}\u200b\u202a-\u202e\u2066-\u2069]/u;

/** Returns the texts of a problem that a client may display. */
function textsOf(problem: Problem): string[] {
  return [problem.detail, ...problem.errors.map((issue) => issue.message)];
}

const LEAD_ROUTES = [
  { method: 'GET', suffix: '' },
  { method: 'DELETE', suffix: '' },
  { method: 'GET', suffix: '/history' },
  { method: 'POST', suffix: '/disposition', body: { disposition: 'accepted' } },
  { method: 'POST', suffix: '/recycle', body: { reason: 'no budget' } },
];

const BAD_LEAD_IDS = [
  { name: 'a control character', path: 'a%00b' },
  { name: 'a right-to-left override', path: '%E2%80%AEjane' },
  { name: 'a bidi isolate', path: 'anon:x%E2%81%A6y' },
  { name: 'only a zero-width space', path: '%E2%80%8B' },
  { name: 'an escaped user id of a zero-width space', path: '~%E2%80%8B' },
  { name: 'an anonymous id of a zero-width space', path: 'anon:%E2%80%8B' },
];

describe('admin routes with ids that ingest rejects', () => {
  it.each(
    LEAD_ROUTES.flatMap((route) =>
      BAD_LEAD_IDS.map((id) => ({ ...route, ...id })),
    ),
  )(
    'answers 400 to $method $suffix with $name',
    async ({ method, suffix, path, body }) => {
      const response = await send(method, `/leads/${path}${suffix}`, body);

      expect(response.status).toBe(400);
      const problem = JSON.parse(response.text) as Problem;
      expect(problem.errors.map((issue) => issue.field)).toEqual(['leadId']);
      expect(problem.detail).toContain('ingest');
      for (const text of textsOf(problem)) expect(text).not.toMatch(ECHOED);
    },
  );

  it.each([
    { suffix: '/disposition', body: { disposition: 'x' } },
    { suffix: '/recycle', body: { disposition: 'x' } },
  ])('names leadId before the body of $suffix', async ({ suffix, body }) => {
    const response = await send('POST', `/leads/a%01b${suffix}`, body);

    expect(response.status).toBe(400);
    const problem = JSON.parse(response.text) as Problem;
    expect(problem.errors.map((issue) => issue.field)).toEqual(['leadId']);
  });

  it('rejects a user id over 512 bytes once normalized', async () => {
    // U+0130 is 2 bytes and its lower case 3, so 200 of them in an email
    // address are 413 bytes as sent and 613 bytes once normalized.
    const email = `${'\u0130'.repeat(200)}@acme.example`;

    const response = await send('GET', `/leads/${encodeURIComponent(email)}`);

    expect(response.status).toBe(400);
    const problem = JSON.parse(response.text) as Problem;
    expect(problem.errors.map((issue) => issue.field)).toEqual(['leadId']);
    expect(problem.errors[0]?.message).toContain('once normalized');
  });

  it.each([
    { name: 'a group id with a control character', path: 'group:a%00b' },
    { name: 'a group id with a bidi override', path: 'group:%E2%80%AEacme' },
    { name: 'a group id of a zero-width space', path: 'group:%E2%80%8B' },
    { name: 'a domain of a zero-width space', path: 'domain:%E2%80%8B' },
    { name: 'a domain with a control character', path: 'domain:a%00.example' },
    { name: 'a company name of an emoji', path: 'company:%E2%9D%A4%EF%B8%8F' },
    { name: 'a company name of periods', path: 'company:%2E%2E%2E' },
    { name: 'a company with a bidi override', path: 'company:%E2%80%AEacme' },
  ])('answers 400 to GET /accounts with $name', async ({ path }) => {
    const response = await send('GET', `/accounts/${path}`);

    expect(response.status).toBe(400);
    const problem = JSON.parse(response.text) as Problem;
    expect(problem.errors.map((issue) => issue.field)).toEqual(['accountId']);
    for (const text of textsOf(problem)) expect(text).not.toMatch(ECHOED);
  });

  it.each([
    '/leads/unknown-lead',
    '/leads/jane%40acme.example',
    '/leads/~anon:a1',
    '/accounts/group:unknown',
    '/accounts/domain:acme.example',
    '/accounts/company:ACME%2C%20Inc.',
  ])('answers 404 to GET %s, a valid id', async (path) => {
    const response = await send('GET', path);

    expect(response.status).toBe(404);
  });
});

describe('admin write routes with query parameters', () => {
  it.each([
    { method: 'DELETE', path: '/leads/unknown-lead?dryRun=true' },
    {
      method: 'POST',
      path: '/leads/unknown-lead/disposition?dryRun=true',
      body: { disposition: 'accepted' },
    },
    {
      method: 'POST',
      path: '/leads/unknown-lead/recycle?dryRun=true',
      body: { reason: 'no budget' },
    },
  ])('answers 400 to $method $path', async ({ method, path, body }) => {
    const response = await send(method, path, body);

    expect(response.status).toBe(400);
    const problem = JSON.parse(response.text) as Problem;
    expect(problem.errors.map((issue) => issue.field)).toEqual(['dryRun']);
  });

  it.each(['__proto__', 'constructor'])(
    'answers 400 to the parameter %s',
    async (name) => {
      const response = await send('DELETE', `/leads/unknown-lead?${name}=1`);

      expect(response.status).toBe(400);
      const problem = JSON.parse(response.text) as Problem;
      expect(problem.errors.map((issue) => issue.field)).toEqual([name]);
    },
  );
});

describe('DELETE /leads/{leadId} with a body', () => {
  it.each([
    { name: 'an option', body: '{"dryRun": true}' },
    { name: 'an empty array', body: '[]' },
    { name: 'text that is not JSON', body: 'erase' },
  ])('answers 400 to $name and erases nothing', async ({ name, body }) => {
    const leadId = `body-${name.replaceAll(' ', '-')}`;
    const tracked = await fetch(`${api.url}/v1/track`, {
      method: 'POST',
      headers: { authorization: basicAuth(WRITE_KEY) },
      body: JSON.stringify({ userId: leadId, event: 'Demo Requested' }),
    });
    expect(tracked.status).toBe(200);

    const response = await fetch(`${api.url}/leads/${leadId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body,
    });

    expect(response.status).toBe(400);
    const problem = (await response.json()) as Problem;
    expect(problem.errors.map((issue) => issue.field)).toEqual(['(root)']);
    expect(problem.errors[0]?.message).toContain('Remove the body');
    const read = await send('GET', `/leads/${leadId}`);
    expect(read.status).toBe(200);
  });

  it.each(['', ' \r\n', '{}', ' { }\n'])(
    'erases with an empty body %j',
    async (body) => {
      const leadId = `empty-body-${body.length}`;
      await fetch(`${api.url}/v1/track`, {
        method: 'POST',
        headers: { authorization: basicAuth(WRITE_KEY) },
        body: JSON.stringify({ userId: leadId, event: 'Demo Requested' }),
      });

      const response = await fetch(`${api.url}/leads/${leadId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        body,
      });

      expect(response.status).toBe(200);
    },
  );
});

describe('admin GET routes with query parameters', () => {
  it('accepts SigV4 signature parameters', async () => {
    const response = await send(
      'GET',
      '/leads/unknown-lead?X-Amz-Signature=abc&x-amz-date=20261206T000000Z',
    );

    expect(response.status).toBe(404);
  });

  it.each([
    { path: '/leads/unknown-lead/history?limt=5', field: 'limt' },
    { path: '/leads/unknown-lead/history?LIMIT=5', field: 'LIMIT' },
    { path: '/leads/unknown-lead?limit=5', field: 'limit' },
    { path: '/accounts/group:unknown?verbose=1', field: 'verbose' },
  ])('answers 400 to GET $path', async ({ path, field }) => {
    const response = await send('GET', path);

    expect(response.status).toBe(400);
    const problem = JSON.parse(response.text) as Problem;
    expect(problem.errors.map((issue) => issue.field)).toEqual([field]);
    expect(problem.errors[0]?.message).toContain('not a known query parameter');
  });

  it('names the accepted parameters of the history route', async () => {
    const response = await send('GET', '/leads/unknown-lead/history?limt=5');

    const problem = JSON.parse(response.text) as Problem;
    expect(problem.errors[0]?.message).toContain(
      'accepted parameters are limit, cursor',
    );
  });

  it('answers 404 to a history page of an unknown lead', async () => {
    const response = await send(
      'GET',
      '/leads/unknown-lead/history?limit=5&cursor=abc',
    );

    expect(response.status).toBe(404);
  });
});
