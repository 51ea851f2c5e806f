import {
  brotliCompressSync,
  deflateRawSync,
  deflateSync,
  gzipSync,
} from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ApiRequest } from '../../functions/adapters/http/api-request.js';
import { readJsonBody } from '../../functions/adapters/http/request-body.js';
import {
  MalformedBodyError,
  PayloadTooLargeError,
} from '../../functions/domain/errors.js';

const LIMIT = 1024;
const BODY = { batch: [{ type: 'track', userId: 'u', event: 'Résumé' }] };
const JSON_BYTES = Buffer.from(JSON.stringify(BODY), 'utf8');

function request(
  bytes: Buffer,
  headers: Record<string, string> = {},
  base64 = true,
): ApiRequest {
  return {
    payloadVersion: '2.0',
    method: 'POST',
    path: '/v1/batch',
    routePath: '/v1/batch',
    headers,
    pathParameters: {},
    queryParameters: {},
    body: base64 ? bytes.toString('base64') : bytes.toString('utf8'),
    isBase64Encoded: base64,
    requestId: 'r',
  };
}

describe('readJsonBody', () => {
  it.each([
    { name: 'plain text', req: request(JSON_BYTES, {}, false) },
    {
      name: 'form-data label',
      req: request(
        JSON_BYTES,
        { 'content-type': 'application/x-www-form-urlencoded' },
        false,
      ),
    },
    { name: 'base64', req: request(JSON_BYTES) },
    {
      name: 'gzip by header',
      req: request(gzipSync(JSON_BYTES), { 'content-encoding': 'gzip' }),
    },
    { name: 'gzip by magic bytes', req: request(gzipSync(JSON_BYTES)) },
    {
      name: 'deflate',
      req: request(deflateSync(JSON_BYTES), { 'content-encoding': 'deflate' }),
    },
    {
      name: 'raw deflate without the zlib header',
      req: request(deflateRawSync(JSON_BYTES), {
        'content-encoding': 'deflate',
      }),
    },
    {
      name: 'brotli',
      req: request(brotliCompressSync(JSON_BYTES), {
        'content-encoding': 'br',
      }),
    },
    {
      name: 'identity encoding',
      req: request(JSON_BYTES, { 'content-encoding': 'identity' }),
    },
  ])('parses a body sent as $name', ({ req }) => {
    expect(readJsonBody(req, LIMIT)).toEqual(BODY);
  });

  it.each([
    { name: 'not JSON', req: request(Buffer.from('{"batch": [')) },
    { name: 'empty', req: request(Buffer.alloc(0), {}, false) },
    {
      name: 'bad base64',
      req: { ...request(JSON_BYTES), body: 'not*base64!' },
    },
    {
      name: 'truncated gzip',
      req: request(gzipSync(JSON_BYTES).subarray(0, 20), {
        'content-encoding': 'gzip',
      }),
    },
    {
      name: 'gzip header on plain JSON',
      req: request(JSON_BYTES, { 'content-encoding': 'gzip' }),
    },
    {
      name: 'unknown encoding',
      req: request(JSON_BYTES, { 'content-encoding': 'zstd' }),
    },
    {
      name: 'labelled with the encoding constructor',
      req: request(JSON_BYTES, { 'content-encoding': 'constructor' }),
    },
    {
      name: 'two encodings',
      req: request(JSON_BYTES, { 'content-encoding': 'gzip, br' }),
    },
    { name: 'invalid UTF-8', req: request(Buffer.from([0x7b, 0xff, 0x7d])) },
  ])('rejects a body that is $name as malformed', ({ req }) => {
    expect(() => readJsonBody(req, LIMIT)).toThrow(MalformedBodyError);
  });

  it.each([
    { name: 'gzip', encoding: 'gzip' },
    { name: 'gzip by magic bytes', encoding: undefined },
    { name: 'br', encoding: 'br' },
  ])('names a twice-compressed body sent as $name', ({ encoding }) => {
    const inner = gzipSync(JSON_BYTES);
    const outer =
      encoding === 'br' ? brotliCompressSync(inner) : gzipSync(inner);
    const headers: Record<string, string> =
      encoding === undefined ? {} : { 'content-encoding': encoding };

    const read = () => readJsonBody(request(outer, headers), LIMIT);

    expect(read).toThrow(MalformedBodyError);
    expect(read).toThrow(
      'The request body is compressed twice: its decompressed bytes are gzip data again. Compress it once.',
    );
  });

  it('locates a JSON error without quoting the body', () => {
    const text =
      '{"batch": [\n  {"type": "track", "userId": "jane@acme.example"},\n]}';

    const read = () => readJsonBody(request(Buffer.from(text)), LIMIT);

    expect(read).toThrow(
      "The request body is not valid JSON (line 3, column 1: trailing comma before ']'). Send a JSON object.",
    );
    expect(read).not.toThrow(/jane/);
  });

  it('accepts a body of exactly the limit', () => {
    const padded = JSON.stringify({ ...BODY, pad: '' });
    const fill = 'x'.repeat(LIMIT - Buffer.byteLength(padded));
    const bytes = Buffer.from(JSON.stringify({ ...BODY, pad: fill }));

    expect(bytes.length).toBe(LIMIT);
    expect(readJsonBody(request(bytes), LIMIT)).toHaveProperty('pad', fill);
  });

  it.each([
    {
      name: 'received',
      req: request(Buffer.from(JSON.stringify({ pad: 'x'.repeat(LIMIT) }))),
    },
    {
      name: 'decompressed',
      req: request(gzipSync(JSON.stringify({ pad: 'x'.repeat(100_000) }))),
    },
  ])('rejects a body too large once $name', ({ req }) => {
    expect(() => readJsonBody(req, LIMIT)).toThrow(PayloadTooLargeError);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const text = JSON.stringify({ pad: 'é'.repeat(LIMIT / 2) });

    expect(text.length).toBeLessThan(LIMIT + 20);
    expect(() =>
      readJsonBody(request(Buffer.from(text, 'utf8'), {}, false), LIMIT),
    ).toThrow(PayloadTooLargeError);
  });
});
