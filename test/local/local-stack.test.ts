import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemDetails } from '../../functions/adapters/http/problem.js';
import { resetRuntime } from '../../functions/adapters/runtime.js';
import type { LeadView } from '../../functions/use-cases/get-lead.js';
import type { IngestResult } from '../../functions/use-cases/ingest-messages.js';
import { loadStageConfig } from '../../lib/stage-config.js';
import { LOCAL_AWS } from '../../local/services.js';
import type { LocalStack } from '../../local/stack.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { startTestStack } from '../support/local-stack.js';
import { captureOutput } from '../support/output.js';

const WRITE_KEY = 'test-write-key';
const ADMIN_TOKEN = 'test-admin-token';

interface RoutedEvent {
  'detail-type': string;
  detail: { leadId: string; eventId: string };
}

let stack: LocalStack;
const salesEvents: RoutedEvent[] = [];

beforeAll(async () => {
  resetRuntime();
  stack = await startTestStack({
    writeKey: WRITE_KEY,
    adminToken: ADMIN_TOKEN,
    onSalesEvent: (event) => salesEvents.push(event as RoutedEvent),
  });
});

afterAll(async () => {
  await stack?.stop();
  resetRuntime();
});

function basic(user: string): string {
  return `Basic ${Buffer.from(`${user}:`).toString('base64')}`;
}

function postBatch(body: string, authorization?: string) {
  return fetch(`${stack.apiUrl}/v1/batch`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization ? { authorization } : {}),
    },
    body,
  });
}

function getLead(leadId: string, token = ADMIN_TOKEN) {
  return fetch(`${stack.apiUrl}/leads/${encodeURIComponent(leadId)}`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

async function waitForSalesEvents(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (salesEvents.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('local stack', () => {
  it('qualifies a CPO and routes one Lead Qualified event', async () => {
    const body = JSON.stringify({ batch: qualifyingBatch('cpo-http') });

    const response = await postBatch(body, basic(WRITE_KEY));
    const lead = await getLead('cpo-http');

    expect(response.status).toBe(200);
    const result = (await response.json()) as IngestResult;
    expect(result.counts).toEqual({ scored: 3, duplicate: 0, rejected: 0 });
    expect(lead.status).toBe(200);
    const view = (await lead.json()) as LeadView;
    expect(view).toMatchObject({ leadId: 'cpo-http', status: 'mql' });
    expect(view.score).toBe(view.fit + view.intent);
    expect(view.modelVersion).toMatch(/^[0-9a-f]{12}$/);
    expect(view.explanation.length).toBeGreaterThan(0);
    await waitForSalesEvents(1);
    const routed = salesEvents.filter((e) => e.detail.leadId === 'cpo-http');
    expect(routed).toHaveLength(1);
    expect(routed[0]?.['detail-type']).toBe('Lead Qualified');
  });

  it('reports a resent batch as duplicates and routes nothing new', async () => {
    const body = JSON.stringify({ batch: qualifyingBatch('cpo-twice') });
    await postBatch(body, basic(WRITE_KEY));
    await waitForSalesEvents(2);

    const again = await postBatch(body, basic(WRITE_KEY));

    expect(((await again.json()) as IngestResult).counts).toEqual({
      scored: 0,
      duplicate: 3,
      rejected: 0,
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const routed = salesEvents.filter((e) => e.detail.leadId === 'cpo-twice');
    expect(routed).toHaveLength(1);
  });

  it.each([
    { name: 'no credentials', authorization: undefined },
    { name: 'a wrong write key', authorization: basic('wrong-key') },
    { name: 'a bearer token', authorization: `Bearer ${ADMIN_TOKEN}` },
  ])('answers 401 to $name and stores nothing', async ({ authorization }) => {
    const body = JSON.stringify({ batch: qualifyingBatch('intruder') });

    const response = await postBatch(body, authorization);

    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe(
      'application/problem+json',
    );
    expect((await getLead('intruder')).status).toBe(404);
  });

  it('answers 400 problem+json to malformed JSON', async () => {
    const response = await postBatch('{"batch": [', basic(WRITE_KEY));

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe(
      'application/problem+json',
    );
    const problem = (await response.json()) as ProblemDetails;
    expect(problem).toMatchObject({
      status: 400,
      title: 'Malformed request body',
    });
  });

  it.each([
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
  ])('answers 400 to invalid UTF-8 sent as %s', async (contentType) => {
    const text = JSON.stringify({ batch: qualifyingBatch('not-utf8') });
    // The byte 0xff never occurs in UTF-8. It replaces a letter of the
    // event name.
    const body = Buffer.from(text.replace('Demo', 'D\u0000mo'));
    body[body.indexOf(0)] = 0xff;

    const response = await fetch(`${stack.apiUrl}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: basic(WRITE_KEY) },
      body,
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe(
      'application/problem+json',
    );
    const problem = (await response.json()) as ProblemDetails;
    expect(problem.detail).toContain('request body is not valid UTF-8');
    expect((await getLead('not-utf8')).status).toBe(404);
  });

  it('gunzips form data by its magic bytes alone', async () => {
    const batch = qualifyingBatch('gzip-unlabelled');
    const body = gzipSync(JSON.stringify({ batch }));

    const response = await fetch(`${stack.apiUrl}/v1/batch`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(WRITE_KEY),
      },
      body,
    });

    expect(response.status).toBe(200);
    const result = (await response.json()) as IngestResult;
    expect(result.counts.scored).toBe(batch.length);
  });

  it('rejects an invalid message alone and stores the rest', async () => {
    const [identify, page] = qualifyingBatch('partial');
    const invalid = { type: 'track', userId: 'partial', messageId: 'bad' };
    const body = JSON.stringify({ batch: [identify, invalid, page] });

    const response = await postBatch(body, basic(WRITE_KEY));

    expect(response.status).toBe(200);
    const result = (await response.json()) as IngestResult;
    expect(result.counts).toEqual({ scored: 2, duplicate: 0, rejected: 1 });
    expect(result.results[1]).toMatchObject({
      index: 1,
      messageId: 'bad',
      status: 'rejected',
      errors: [{ field: 'event' }],
    });
  });

  it('runs handlers with their stage function settings', async () => {
    const configDir = join(import.meta.dirname, '..', '..', 'config', 'stages');
    const { functions } = loadStageConfig('local', configDir);
    const body = JSON.stringify({ batch: qualifyingBatch('function-context') });

    // The suite logs warnings only, and the context's fields are on every
    // line, so the runtime is built again to log each request.
    const level = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    resetRuntime();
    const output = captureOutput();
    let status: number;
    try {
      status = (await postBatch(body, basic(WRITE_KEY))).status;
    } finally {
      output.restore();
      if (level === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
      else process.env.POWERTOOLS_LOG_LEVEL = level;
      resetRuntime();
    }

    expect(status).toBe(200);
    const lines = output
      .all()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const ingestLines = lines.filter(
      (line) => line.function_name === 'local-ingest',
    );
    expect(ingestLines.length).toBeGreaterThan(0);
    // Lambda gives the memory size as a string, and Powertools logs it so.
    expect(ingestLines[0]?.function_memory_size).toBe(
      String(functions.ingest.memorySize),
    );
  });

  it('protects the leads API with the admin token', async () => {
    const response = await getLead('cpo-http', 'not-the-token');

    expect(response.status).toBe(401);
  });

  it('answers a client that half-closes', async () => {
    // The client shuts down its sending side after the request, as
    // `nc -N` does, and waits for the response, which comes after the
    // handler's DynamoDB read.
    const { hostname, port } = new URL(stack.apiUrl);
    const socket = connect({
      host: hostname,
      port: Number(port),
      allowHalfOpen: true,
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    const ended = new Promise((resolve, reject) => {
      socket.on('end', resolve);
      socket.on('error', reject);
    });
    socket.end(
      `GET /leads/half-closed-lead HTTP/1.1\r\nHost: ${hostname}\r\n` +
        `Authorization: Bearer ${ADMIN_TOKEN}\r\n` +
        'Connection: close\r\n\r\n',
    );
    await ended;
    socket.destroy();

    const statusLine = Buffer.concat(chunks).toString('utf8').split('\r\n')[0];
    expect(statusLine).toBe('HTTP/1.1 404 Not Found');
  });

  it('answers 401 to a write key on the leads API', async () => {
    const response = await fetch(`${stack.apiUrl}/leads/cpo-http`, {
      headers: { authorization: basic(WRITE_KEY) },
    });

    expect(response.status).toBe(401);
  });

  it.each([
    ['GET', '/leads/cpo-http/history'],
    ['GET', '/accounts/domain:acme-industrial.example.com'],
    ['POST', '/leads/cpo-http/disposition'],
    ['DELETE', '/leads/cpo-http'],
  ])('answers 401 on %s %s without the admin token', async (method, path) => {
    const send = (authorization?: string) =>
      fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: authorization === undefined ? {} : { authorization },
        ...(method === 'POST'
          ? { body: JSON.stringify({ disposition: 'accepted' }) }
          : {}),
      });

    const missing = await send();
    const wrong = await send('Bearer not-the-token');
    const writeKey = await send(basic(WRITE_KEY));

    expect(missing.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(writeKey.status).toBe(401);
    expect((await getLead('cpo-http')).status).toBe(200);
  });

  it('serves history, account and erasure with the token', async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    await postBatch(
      JSON.stringify({ batch: qualifyingBatch('to-erase') }),
      basic(WRITE_KEY),
    );

    const history = await fetch(
      `${stack.apiUrl}/leads/to-erase/history?limit=1`,
      { headers: admin },
    );
    const badLimit = await fetch(
      `${stack.apiUrl}/leads/to-erase/history?limit=0`,
      { headers: admin },
    );
    const account = await fetch(
      `${stack.apiUrl}/accounts/${encodeURIComponent('domain:acme-industrial.example.com')}`,
      { headers: admin },
    );
    const erased = await fetch(`${stack.apiUrl}/leads/to-erase`, {
      method: 'DELETE',
      headers: admin,
    });
    const gone = await getLead('to-erase');

    expect(history.status).toBe(200);
    expect(await history.json()).toMatchObject({
      leadId: 'to-erase',
      entries: [{ cause: 'event' }],
    });
    expect(badLimit.status).toBe(400);
    expect(((await badLimit.json()) as ProblemDetails).errors).toEqual([
      expect.objectContaining({ field: 'limit' }),
    ]);
    expect(account.status).toBe(200);
    expect(await account.json()).toMatchObject({
      coverage: { covered: ['procurement-leadership'] },
    });
    expect(erased.status).toBe(200);
    expect(await erased.json()).toMatchObject({
      leadIdSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(gone.status).toBe(404);
  });

  it('answers 404 problem+json for an unknown lead', async () => {
    const response = await getLead('nobody');

    expect(response.status).toBe(404);
    expect(((await response.json()) as ProblemDetails).detail).toBe(
      'Lead nobody was not found.',
    );
  });

  it('names the merged lead of an anonymous id', async () => {
    const batch = [
      {
        type: 'page',
        messageId: 'anon-page',
        anonymousId: 'browser-7',
        properties: { path: '/pricing' },
      },
      ...qualifyingBatch('known-7').map((message) => ({
        ...message,
        anonymousId: 'browser-7',
      })),
    ];
    await postBatch(JSON.stringify({ batch }), basic(WRITE_KEY));

    const response = await getLead('anon:browser-7');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-location')).toBe('/leads/known-7');
    expect(await response.json()).toMatchObject({
      leadId: 'known-7',
      requestedLeadId: 'anon:browser-7',
    });
  });

  it('names the merged lead of an anonymous history', async () => {
    const batch = [
      {
        type: 'page',
        messageId: 'anon-history-page',
        anonymousId: 'browser-9',
        properties: { path: '/pricing' },
      },
      ...qualifyingBatch('known-9').map((message) => ({
        ...message,
        anonymousId: 'browser-9',
      })),
    ];
    await postBatch(JSON.stringify({ batch }), basic(WRITE_KEY));
    const history = (leadId: string) =>
      fetch(`${stack.apiUrl}/leads/${leadId}/history`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });

    const merged = await history('anon:browser-9');
    const known = await history('known-9');

    expect(merged.status).toBe(200);
    expect(merged.headers.get('content-location')).toBe(
      '/leads/known-9/history',
    );
    const body = (await merged.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      leadId: 'known-9',
      requestedLeadId: 'anon:browser-9',
    });
    expect(known.headers.get('content-location')).toBeNull();
    const knownBody = (await known.json()) as Record<string, unknown>;
    expect(knownBody).not.toHaveProperty('requestedLeadId');
    expect(body.entries).toEqual(knownBody.entries);
  });

  it('names the group account of a linked email domain', async () => {
    const identify = (userId: string, title: string) => ({
      type: 'identify',
      messageId: `${userId}-identify`,
      userId,
      traits: { email: `${userId}@linked-co.example`, title },
    });
    const batch = [
      identify('lin', 'Chief Procurement Officer'),
      {
        type: 'group',
        messageId: 'lin-group',
        userId: 'lin',
        groupId: 'crm-5',
      },
      identify('max', 'CFO'),
    ];
    await postBatch(JSON.stringify({ batch }), basic(WRITE_KEY));

    const response = await fetch(
      `${stack.apiUrl}/accounts/${encodeURIComponent('domain:linked-co.example')}`,
      { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } },
    );

    expect(response.status).toBe(200);
    expect(response.headers.get('content-location')).toBe(
      '/accounts/group%3Acrm-5',
    );
    expect(await response.json()).toMatchObject({
      accountId: 'group:crm-5',
      requestedAccountId: 'domain:linked-co.example',
      leadCount: 2,
    });
  });

  it('names the identified lead that an anonymous id erases', async () => {
    const batch = [
      {
        type: 'page',
        messageId: 'anon-erase-page',
        anonymousId: 'browser-8',
        properties: { path: '/pricing' },
      },
      ...qualifyingBatch('known-8').map((message) => ({
        ...message,
        anonymousId: 'browser-8',
      })),
    ];
    await postBatch(JSON.stringify({ batch }), basic(WRITE_KEY));

    const erased = await fetch(`${stack.apiUrl}/leads/anon:browser-8`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const identified = await getLead('known-8');

    expect(erased.status).toBe(200);
    expect(erased.headers.get('content-location')).toBe('/leads/known-8');
    expect(await erased.json()).toMatchObject({
      leadIdSha256: createHash('sha256').update('known-8').digest('hex'),
      requestedLeadId: 'anon:browser-8',
    });
    expect(identified.status).toBe(404);
  });

  it('lets sales recycle an MQL once, retries included', async () => {
    const batch = qualifyingBatch('to-recycle');
    await postBatch(JSON.stringify({ batch }), basic(WRITE_KEY));
    const recycle = (body: unknown) =>
      fetch(`${stack.apiUrl}/leads/to-recycle/recycle`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });

    const invalid = await recycle({ reason: '' });
    const first = await recycle({ reason: 'no budget this year' });
    const second = await recycle({ reason: 'no budget this year' });

    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as ProblemDetails).errors).toEqual([
      expect.objectContaining({ field: 'reason' }),
    ]);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      status: 'recycled',
      episodes: [{ recycleReason: 'recycled by sales: no budget this year' }],
    });
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ status: 'recycled' });
    const other = await fetch(`${stack.apiUrl}/leads/to-recycle/disposition`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ disposition: 'accepted' }),
    });
    expect(other.status).toBe(409);
    expect(other.headers.get('content-type')).toBe('application/problem+json');
    expect(((await other.json()) as ProblemDetails).detail).toContain(
      'was recycled by sales in episode 1, which ended the episode',
    );
  });
});

describe('a second local stack in one process', () => {
  it('stores events in its own table', async () => {
    const second = await startTestStack({
      writeKey: WRITE_KEY,
      adminToken: ADMIN_TOKEN,
    });
    try {
      const response = await fetch(`${second.apiUrl}/v1/batch`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: basic(WRITE_KEY),
        },
        body: JSON.stringify({
          batch: [
            {
              type: 'page',
              messageId: 'second-stack-1',
              userId: 'second-stack-lead',
              properties: { path: '/pricing' },
            },
          ],
        }),
      });
      const client = new DynamoDBClient({
        ...LOCAL_AWS,
        endpoint: second.dynamoDbEndpoint,
      });
      const { Item } = await client.send(
        new GetItemCommand({
          TableName: second.tableName,
          Key: { PK: { S: 'LEAD#second-stack-lead' }, SK: { S: 'STATE' } },
        }),
      );

      expect(response.status).toBe(200);
      expect(Item?.entity?.S).toBe('lead');
    } finally {
      await second.stop();
    }
  });
});

describe('a local stage without a sales target', () => {
  it('says so once and polls no queue', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'mql-stages-'));
    const crmOnly = {
      type: 'queue',
      id: 'crm',
      description: 'MQLs for the CRM.',
      eventPattern: { 'detail-type': ['Lead Qualified'] },
    };
    writeFileSync(
      join(configDir, 'local.json'),
      JSON.stringify({ events: { targets: [crmOnly] } }),
    );
    const statuses: string[] = [];
    const stack = await startTestStack({
      writeKey: WRITE_KEY,
      adminToken: ADMIN_TOKEN,
      configDir,
      onStatus: (message) => statuses.push(message),
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_500));
    } finally {
      await stack.stop();
    }

    expect(stack.salesQueueUrl).toBeUndefined();
    expect(
      statuses.filter((message) => message.includes('sales queue poll')),
    ).toEqual([]);
    const notes = statuses.filter((message) =>
      message.includes('no "sales" target'),
    );
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(join(configDir, 'local.json'));
  });
});
