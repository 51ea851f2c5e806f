import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemDetails } from '../../functions/adapters/http/problem.js';
import { TRACKING_ROUTES } from '../../functions/adapters/http/tracking-routes.js';
import {
  handler,
  MAX_MESSAGES_PER_REQUEST,
  MAX_RESPONSE_BYTES,
  RESPONSE_TOO_LARGE_MESSAGE,
} from '../../functions/handlers/ingest.js';
import {
  type IngestResult,
  MAX_MESSAGE_BYTES,
  MAX_NESTING_DEPTH,
} from '../../functions/use-cases/ingest-messages.js';
import { MAX_BATCH_MESSAGES } from '../../scripts/replay/run-replay.js';
import {
  eventV1,
  eventV2,
  type RequestSpec,
} from '../fixtures/api-gateway-events.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import {
  basicAuth,
  startTrackingBackend,
  type TrackingBackend,
  WRITE_KEY,
} from '../support/tracking-api.js';

let backend: TrackingBackend;

beforeAll(async () => {
  backend = await startTrackingBackend();
});

afterAll(async () => {
  await backend?.stop();
});

const VERSIONS = [
  { version: '1.0', build: eventV1 },
  { version: '2.0', build: eventV2 },
] as const;

type Build = (spec: RequestSpec) => Parameters<typeof handler>[0];

async function send(build: Build, spec: RequestSpec) {
  const response = await handler(build(spec));
  const body = JSON.parse(response.body ?? 'null');
  return { status: response.statusCode, headers: response.headers, body };
}

function authorized(body: unknown, headers: Record<string, string> = {}) {
  return {
    headers: { Authorization: basicAuth(WRITE_KEY), ...headers },
    body: JSON.stringify(body),
  };
}

/** Returns `levels` objects nested as `{"a": {"a": ... {}}}`. */
function nestedObject(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 1; level < levels; level += 1) value = { a: value };
  return value;
}

/**
 * Returns `message` with `properties.notes` padded so that its compact
 * JSON is `bytes` bytes of UTF-8.
 */
function withJsonBytes(message: Record<string, unknown>, bytes: number) {
  const empty = { ...message, properties: { notes: '' } };
  const padding = bytes - Buffer.byteLength(JSON.stringify(empty));
  return { ...message, properties: { notes: 'x'.repeat(padding) } };
}

/** Returns the errors of a rejected result, or none for another result. */
function errorsOf(result: IngestResult['results'][number] | undefined) {
  return result?.status === 'rejected' ? result.errors : [];
}

/** Returns a message of `type` without its type, for single-call routes. */
function singleCall(type: string, userId: string) {
  const shared = { userId, messageId: `${userId}-${type}` };
  switch (type) {
    case 'track':
      return { ...shared, event: 'Demo Requested' };
    case 'group':
      return { ...shared, groupId: 'acme' };
    case 'alias':
      return { ...shared, previousId: `anonymous-${userId}` };
    default:
      return shared;
  }
}

describe('ingest handler', () => {
  it.each(VERSIONS)(
    'gives format $version the same result',
    async ({ version, build }) => {
      const userId = `versions-${version}`;

      const { status, body } = await send(build, {
        path: '/v1/batch',
        ...authorized({ batch: qualifyingBatch(userId) }),
      });

      expect(status).toBe(200);
      const result = body as IngestResult;
      expect(result.counts).toEqual({ scored: 3, duplicate: 0, rejected: 0 });
      expect(result.leads).toEqual([
        {
          leadId: userId,
          status: 'mql',
          score: 125,
          fit: 60,
          intent: 65,
          episode: 1,
          version: 1,
        },
      ]);
    },
  );

  const singleRoutes = Object.entries(TRACKING_ROUTES).filter(
    ([, payload]) => payload !== 'batch',
  );

  it.each(
    VERSIONS.flatMap(({ version, build }) =>
      singleRoutes.map(([path, type]) => ({ version, build, path, type })),
    ),
  )(
    'stores one $type call on $path in format $version',
    async ({ version, build, path, type }) => {
      const userId = `single-${version}-${path.slice(4)}`;

      const { status, body } = await send(build, {
        path,
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({
          ...singleCall(type, userId),
          writeKey: WRITE_KEY,
        }),
      });

      expect(status).toBe(200);
      expect((body as IngestResult).counts.scored).toBe(1);
      const stored = await backend.storedEvents(userId);
      expect(stored.map((event) => event.type)).toEqual([type]);
    },
  );

  it.each(['/v1/batch', '/v1/b', '/v1/import'])(
    'stores a batch sent to %s',
    async (path) => {
      const userId = `batch-route-${path.slice(4)}`;

      const { body } = await send(eventV2, {
        path,
        ...authorized({ batch: qualifyingBatch(userId) }),
      });

      expect((body as IngestResult).counts.scored).toBe(3);
      expect(await backend.storedEvents(userId)).toHaveLength(3);
    },
  );

  it('names the first lead of a duplicate on /v1/track', async () => {
    const call = (userId: string) => ({
      userId,
      event: 'Demo Requested',
      messageId: 'track-duplicate',
    });
    await send(eventV2, { path: '/v1/track', ...authorized(call('dup-a')) });

    const { status, body } = await send(eventV2, {
      path: '/v1/track',
      ...authorized(call('dup-b')),
    });

    expect(status).toBe(200);
    expect((body as IngestResult).results).toEqual([
      {
        index: 0,
        messageId: 'track-duplicate',
        status: 'duplicate',
        leadId: 'dup-a',
      },
    ]);
    expect(await backend.storedEvents('dup-b')).toEqual([]);
  });

  it('lets the route decide the type of a single call', async () => {
    const userId = 'route-type';
    const call = { ...singleCall('track', userId), type: 'page' };

    await send(eventV2, { path: '/v1/t', ...authorized(call) });

    const stored = await backend.storedEvents(userId);
    expect(stored.map((event) => event.type)).toEqual(['track']);
  });

  it('stores a gzipped RudderStack batch labelled as form data', async () => {
    const userId = 'gzip-form';
    const batch = qualifyingBatch(userId).map(({ messageId, ...message }) => ({
      ...message,
      messageId,
      originalTimestamp: '2026-06-01T10:00:00.000Z',
    }));

    const { status } = await send(eventV1, {
      path: '/v1/batch',
      headers: {
        Authorization: basicAuth(WRITE_KEY),
        'Content-Type': 'application/x-www-form-urlencoded',
        'Content-Encoding': 'gzip',
      },
      body: gzipSync(JSON.stringify({ batch })),
      base64: true,
    });

    expect(status).toBe(200);
    const stored = await backend.storedEvents(userId);
    expect(stored.map((event) => event.occurredAt)).toEqual(
      batch.map(() => Date.parse('2026-06-01T10:00:00.000Z')),
    );
  });

  it('rejects an oversized message alone with its reason', async () => {
    const userId = 'oversized';
    const [identify, page, track] = qualifyingBatch(userId);
    const huge = {
      ...track,
      properties: { notes: 'x'.repeat(MAX_MESSAGE_BYTES) },
    };

    const { status, body } = await send(eventV2, {
      path: '/v1/batch',
      ...authorized({ batch: [identify, huge, page] }),
    });

    expect(status).toBe(200);
    const result = body as IngestResult;
    expect(result.counts).toEqual({ scored: 2, duplicate: 0, rejected: 1 });
    expect(result.results[1]).toMatchObject({
      index: 1,
      messageId: `${userId}-demo`,
      status: 'rejected',
    });
    const errors =
      result.results[1]?.status === 'rejected' ? result.results[1].errors : [];
    expect(errors).toHaveLength(1);
    expect(errors[0]?.field).toBe('(root)');
    expect(errors[0]?.message).toContain(`limit is ${MAX_MESSAGE_BYTES} bytes`);
    expect(await backend.storedEvents(userId)).toHaveLength(2);
  });

  it('measures a batch message without the batch sentAt', async () => {
    const userId = 'size-batch-sent-at';
    const track = { ...singleCall('track', userId), type: 'track' };
    const at = withJsonBytes(
      { ...track, messageId: `${userId}-at` },
      MAX_MESSAGE_BYTES,
    );
    const over = withJsonBytes(
      { ...track, messageId: `${userId}-over` },
      MAX_MESSAGE_BYTES + 1,
    );

    const { body } = await send(eventV2, {
      path: '/v1/batch',
      ...authorized({ batch: [at, over], sentAt: new Date().toISOString() }),
    });

    const result = body as IngestResult;
    expect(result.results[0]?.status).toBe('scored');
    expect(result.results[1]?.status).toBe('rejected');
    expect(errorsOf(result.results[1])).toEqual([
      {
        field: '(root)',
        message: expect.stringMatching(
          new RegExp(`^is ${MAX_MESSAGE_BYTES + 1} bytes of JSON;`),
        ),
      },
    ]);
  });

  it('measures a single call without the route type', async () => {
    const userId = 'size-single-call';
    const at = withJsonBytes(
      { ...singleCall('track', userId), messageId: `${userId}-at` },
      MAX_MESSAGE_BYTES,
    );
    const over = withJsonBytes(
      { ...singleCall('track', userId), messageId: `${userId}-over` },
      MAX_MESSAGE_BYTES + 1,
    );

    const accepted = await send(eventV2, {
      path: '/v1/t',
      ...authorized(at),
    });
    const rejected = await send(eventV2, {
      path: '/v1/t',
      ...authorized(over),
    });

    const [atResult] = (accepted.body as IngestResult).results;
    const [overResult] = (rejected.body as IngestResult).results;
    expect(atResult?.status).toBe('scored');
    expect(overResult?.status).toBe('rejected');
    expect(errorsOf(overResult)).toEqual([
      {
        field: '(root)',
        message: expect.stringMatching(
          new RegExp(`^is ${MAX_MESSAGE_BYTES + 1} bytes of JSON;`),
        ),
      },
    ]);
  });

  it('names a rejected message by a messageId of emoji', async () => {
    // 200 characters in 300 UTF-16 code units, within the 256 characters
    // and 512 bytes of a messageId.
    const messageId = `${'\u{1f600}'.repeat(100)}${'a'.repeat(100)}`;
    const message = { type: 'track', messageId, userId: 'emoji-message-id' };

    const { body } = await send(eventV2, {
      path: '/v1/batch',
      ...authorized({ batch: [message] }),
    });

    const [result] = (body as IngestResult).results;
    expect(result?.status).toBe('rejected');
    expect(result?.messageId).toBe(messageId);
    expect(errorsOf(result).map((error) => error.field)).toEqual(['event']);
  });

  it('rejects a deeply nested message alone', async () => {
    const userId = 'deeply-nested';
    const [identify, page, track] = qualifyingBatch(userId);
    // JSON.stringify would overflow the stack here too, so the text of
    // 5000 nested objects is built by hand.
    const levels = 5000;
    const properties = `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
    const deep = JSON.stringify(track).replace(
      /}$/,
      `,"properties":${properties}}`,
    );
    const batch = `[${JSON.stringify(identify)},${deep},${JSON.stringify(page)}]`;

    const { status, body } = await send(eventV2, {
      path: '/v1/batch',
      headers: { Authorization: basicAuth(WRITE_KEY) },
      body: `{"batch":${batch}}`,
    });

    expect(status).toBe(200);
    const result = body as IngestResult;
    expect(result.counts).toEqual({ scored: 2, duplicate: 0, rejected: 1 });
    const [issue] =
      result.results[1]?.status === 'rejected' ? result.results[1].errors : [];
    expect(issue?.field).toBe('properties');
    expect(issue?.message).toContain(`limit is ${MAX_NESTING_DEPTH} levels`);
    expect(await backend.storedEvents(userId)).toHaveLength(2);
  });

  it('names every too-deep field and the other errors', async () => {
    const nested = `${'['.repeat(40)}${']'.repeat(40)}`;
    const message = `{"type":"track","traits":${nested},"context":${nested}}`;

    const { status, body } = await send(eventV2, {
      path: '/v1/batch',
      headers: { Authorization: basicAuth(WRITE_KEY) },
      body: `{"batch":[${message}]}`,
    });

    expect(status).toBe(200);
    const result = body as IngestResult;
    expect(result.counts).toEqual({ scored: 0, duplicate: 0, rejected: 1 });
    const errors =
      result.results[0]?.status === 'rejected' ? result.results[0].errors : [];
    expect(errors.map((error) => error.field)).toEqual([
      'traits',
      'context',
      'event',
      'userId',
    ]);
    expect(errors[0]?.message).toContain(
      `limit is ${MAX_NESTING_DEPTH} levels`,
    );
    expect(errors[1]?.message).toContain(
      `limit is ${MAX_NESTING_DEPTH} levels`,
    );
    expect(errors[2]?.message).toBe('is required');
    expect(errors[3]?.message).toBe('either userId or anonymousId is required');
  });

  it('stores nothing of a valid message with a too-deep field', async () => {
    const userId = 'deep-but-valid';
    const message = {
      ...singleCall('track', userId),
      type: 'track',
      properties: nestedObject(MAX_NESTING_DEPTH + 1),
      context: nestedObject(MAX_NESTING_DEPTH + 1),
    };

    const { status, body } = await send(eventV2, {
      path: '/v1/batch',
      ...authorized({ batch: [message] }),
    });

    expect(status).toBe(200);
    const result = body as IngestResult;
    expect(result.results[0]).toMatchObject({
      messageId: `${userId}-track`,
      status: 'rejected',
    });
    const errors =
      result.results[0]?.status === 'rejected' ? result.results[0].errors : [];
    expect(errors.map((error) => error.field)).toEqual([
      'properties',
      'context',
    ]);
    expect(await backend.storedEvents(userId)).toEqual([]);
  });

  it('rejects a message that is a deeply nested array as not an object', async () => {
    const userId = 'nested-array';
    const [identify] = qualifyingBatch(userId);
    const levels = 100_000;
    const deep = `${'['.repeat(levels)}${']'.repeat(levels)}`;

    const { status, body } = await send(eventV2, {
      path: '/v1/batch',
      headers: { Authorization: basicAuth(WRITE_KEY) },
      body: `{"batch":[${deep},${JSON.stringify(identify)}]}`,
    });

    expect(status).toBe(200);
    const result = body as IngestResult;
    expect(result.results[0]).toMatchObject({
      status: 'rejected',
      errors: [{ field: '(root)', message: 'must be an object, not an array' }],
    });
    expect(result.results[1]?.status).toBe('scored');
  });

  it('rejects a property number too large to store, naming it', async () => {
    const userId = 'infinite-property';
    const [identify, page] = qualifyingBatch(userId);
    const huge = JSON.stringify(page).replace(
      /}$/,
      ',"properties":{"n":1e400}}',
    );

    const { status, body } = await send(eventV2, {
      path: '/v1/batch',
      headers: { Authorization: basicAuth(WRITE_KEY) },
      body: `{"batch":[${JSON.stringify(identify)},${huge}]}`,
    });

    expect(status).toBe(200);
    const result = body as IngestResult;
    const [issue] =
      result.results[1]?.status === 'rejected' ? result.results[1].errors : [];
    expect(issue?.field).toBe('properties.n');
    expect(issue?.message).toContain('too large to store');
    expect(await backend.storedEvents(userId)).toHaveLength(1);
  });

  it.each([
    { field: 'userId', fields: '"type":"track","event":"x","userId":1e400' },
    {
      field: 'anonymousId',
      fields: '"type":"track","event":"x","anonymousId":-1e400',
    },
    { field: 'groupId', fields: '"type":"group","userId":"u","groupId":1e400' },
    {
      field: 'previousId',
      fields: '"type":"alias","userId":"u","previousId":1e400',
    },
  ])('rejects $field too large for a number', async ({ field, fields }) => {
    // JSON.stringify writes Infinity as null, so the text is written out.
    const { status, body } = await send(eventV2, {
      path: '/v1/batch',
      headers: { Authorization: basicAuth(WRITE_KEY) },
      body: `{"batch":[{${fields}}]}`,
    });

    expect(status).toBe(200);
    const result = body as IngestResult;
    expect(result.counts).toEqual({ scored: 0, duplicate: 0, rejected: 1 });
    const errors =
      result.results[0]?.status === 'rejected' ? result.results[0].errors : [];
    expect(errors).toHaveLength(1);
    expect(errors[0]?.field).toBe(field);
    expect(errors[0]?.message).toContain('is a number too large to represent');
    expect(errors[0]?.message).toContain(
      `Send the id as a string, or as an integer from -${Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}.`,
    );
  });

  it('takes nesting up to the limit and rejects one more', async () => {
    const userId = 'nesting-limit';
    const at = {
      ...singleCall('track', userId),
      type: 'track',
      messageId: `${userId}-at`,
      context: nestedObject(MAX_NESTING_DEPTH),
    };
    const over = {
      ...at,
      messageId: `${userId}-over`,
      context: nestedObject(MAX_NESTING_DEPTH + 1),
    };

    const { body } = await send(eventV2, {
      path: '/v1/batch',
      ...authorized({ batch: [at, over] }),
    });

    const result = body as IngestResult;
    expect(result.results[0]?.status).toBe('scored');
    expect(result.results[1]?.status).toBe('rejected');
  });

  it('moves a future event time to the receive time', async () => {
    const userId = 'future';
    const before = Date.now();
    const inADay = new Date(before + 86_400_000).toISOString();
    const message = { ...singleCall('track', userId), timestamp: inADay };

    await send(eventV2, { path: '/v1/track', ...authorized(message) });

    const [stored] = await backend.storedEvents(userId);
    expect(stored).toBeDefined();
    expect(stored?.occurredAt).toBe(stored?.receivedAt);
    expect(stored?.occurredAt).toBeLessThanOrEqual(Date.now());
  });

  it('corrects event times by the batch sentAt', async () => {
    const userId = 'skewed-clock';
    const hourAhead = Date.now() + 3_600_000;
    const message = {
      ...singleCall('track', userId),
      type: 'track',
      timestamp: new Date(hourAhead - 60_000).toISOString(),
    };

    await send(eventV2, {
      path: '/v1/batch',
      ...authorized({
        batch: [message],
        sentAt: new Date(hourAhead).toISOString(),
      }),
    });

    const [stored] = await backend.storedEvents(userId);
    expect(stored).toBeDefined();
    const expected = (stored?.receivedAt ?? 0) - 60_000;
    expect(Math.abs((stored?.occurredAt ?? 0) - expected)).toBeLessThan(2000);
  });

  it('marks an invalid batch sentAt', async () => {
    const userId = 'batch-sent-at';
    const inherits = { ...singleCall('track', userId), type: 'track' };
    const ownSentAt = {
      ...inherits,
      messageId: `${userId}-own`,
      sentAt: new Date().toISOString(),
    };

    const response = await send(eventV2, {
      path: '/v1/batch',
      ...authorized({ batch: [inherits, ownSentAt], sentAt: 5 }),
    });

    expect(response.status).toBe(200);
    const [first, second] = (response.body as IngestResult).results;
    expect(first?.status === 'rejected' ? first.errors : []).toEqual([
      {
        field: 'sentAt',
        message:
          "must be a string, not a number (the batch's sentAt, which applies to each message without its own)",
      },
    ]);
    expect(second?.status).toBe('scored');
  });

  it('rejects a time the clock correction puts out of range', async () => {
    const userId = 'earliest-date';
    const message = {
      ...singleCall('track', userId),
      type: 'track',
      timestamp: '-271821-04-20T00:00:00Z',
    };

    const response = await send(eventV2, {
      path: '/v1/batch',
      ...authorized({ batch: [message], sentAt: '2030-01-01T00:00:00Z' }),
    });

    expect(response.status).toBe(200);
    const result = (response.body as IngestResult).results[0];
    expect(result?.status).toBe('rejected');
    const errors = result?.status === 'rejected' ? result.errors : [];
    expect(errors.map((error) => error.field)).toContain('timestamp');
    expect(await backend.storedEvents(userId)).toEqual([]);
  });

  it.each([
    { name: 'JSON', body: '{"batch": [', status: 400 },
    { name: 'gzip', body: Buffer.from([0x1f, 0x8b, 1, 2, 3]), status: 400 },
    { name: 'batch', body: '{"messages": []}', status: 400 },
    {
      name: 'size',
      body: gzipSync(JSON.stringify({ pad: 'x'.repeat(600 * 1024) })),
      status: 413,
    },
  ])(
    'answers $status to a bad $name and stores nothing',
    async ({ body, status }) => {
      const isBinary = Buffer.isBuffer(body);

      const response = await send(eventV2, {
        path: '/v1/batch',
        headers: { authorization: basicAuth(WRITE_KEY) },
        body,
        base64: isBinary,
      });

      expect(response.status).toBe(status);
      expect(response.headers?.['content-type']).toBe(
        'application/problem+json',
      );
      expect((response.body as ProblemDetails).status).toBe(status);
    },
  );

  it('stores nothing of a body over 500 KB', async () => {
    const batch = qualifyingBatch('too-large');
    const pad = 'x'.repeat(500 * 1024);

    const response = await send(eventV2, {
      path: '/v1/batch',
      ...authorized({ batch, pad }),
    });

    expect(response.status).toBe(413);
    expect(await backend.storedEvents('too-large')).toEqual([]);
  });

  it('stores nothing of a batch over the message limit', async () => {
    const userId = 'too-many-messages';
    const batch: unknown[] = Array.from(
      { length: MAX_MESSAGES_PER_REQUEST + 1 },
      () => ({}),
    );
    batch[0] = { ...singleCall('track', userId), type: 'track' };

    const response = await send(eventV2, {
      path: '/v1/batch',
      ...authorized({ batch }),
    });

    expect(response.status).toBe(400);
    expect((response.body as ProblemDetails).errors).toEqual([
      {
        field: 'batch',
        message: `has ${MAX_MESSAGES_PER_REQUEST + 1} messages; the limit is ${MAX_MESSAGES_PER_REQUEST} per request. Send them in several requests.`,
      },
    ]);
    expect(await backend.storedEvents(userId)).toEqual([]);
  });

  it('matches the message limit of the replay', () => {
    expect(MAX_BATCH_MESSAGES).toBe(MAX_MESSAGES_PER_REQUEST);
  });

  it('keeps a response of many rejections under 6 MB', async () => {
    // Each message of 53 bytes gets three errors of about 600 bytes in
    // all, so the full response of 9,000 would be about 5.6 MB.
    const message = String.raw`{"type":"alias","userId":"..","previousId":"\u202e"}`;
    const count = 9000;
    const text = `{"batch":[${Array(count).fill(message).join(',')}]}`;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(500 * 1024);

    const response = await handler(
      eventV2({
        path: '/v1/batch',
        headers: { Authorization: basicAuth(WRITE_KEY) },
        body: text,
      }),
    );

    expect(response.statusCode).toBe(200);
    // Lambda limits a response, the body embedded as a JSON string, to 6 MB.
    expect(Buffer.byteLength(JSON.stringify(response))).toBeLessThan(
      6 * 1024 * 1024,
    );
    const body = JSON.parse(response.body ?? 'null') as IngestResult;
    expect(body.results).toHaveLength(count);
    expect(body.counts.rejected).toBe(count);
    const [first] = body.results;
    expect(first?.status === 'rejected' ? first.errors : []).toEqual([
      {
        field: '(root)',
        message: RESPONSE_TOO_LARGE_MESSAGE,
      },
    ]);
  });

  it('states the response limit it applies', () => {
    const readme = readFileSync(
      resolve(import.meta.dirname, '..', '..', 'README.md'),
      'utf8',
    );
    const limit = `5 MB (${MAX_RESPONSE_BYTES.toLocaleString('en-US')} bytes)`;

    expect(MAX_RESPONSE_BYTES).toBe(5 * 1024 * 1024);
    expect(RESPONSE_TOO_LARGE_MESSAGE).toContain(`would exceed ${limit}`);
    expect(readme.replace(/\s+/g, ' ')).toContain(`would exceed ${limit}`);
  });

  it('answers 400 to a single call that is not an object', async () => {
    const response = await send(eventV2, {
      path: '/v1/t',
      ...authorized([singleCall('track', 'array-body')]),
    });

    expect(response.status).toBe(400);
    expect(await backend.storedEvents('array-body')).toEqual([]);
  });

  it.each(VERSIONS)(
    'answers 401 without a write key in format $version',
    async ({ build }) => {
      const response = await send(build, {
        path: '/v1/batch',
        body: JSON.stringify({ batch: qualifyingBatch('no-key') }),
      });

      expect(response.status).toBe(401);
      expect(await backend.storedEvents('no-key')).toEqual([]);
    },
  );
});
