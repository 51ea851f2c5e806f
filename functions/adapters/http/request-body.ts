import {
  brotliDecompressSync,
  gunzipSync,
  inflateRawSync,
  inflateSync,
} from 'node:zlib';
import {
  MalformedBodyError,
  PayloadTooLargeError,
  ValidationError,
} from '../../domain/errors.js';
import { duplicateKeys } from '../json-file.js';
import { describeJsonSyntaxError } from '../json-syntax.js';
import type { ApiRequest } from './api-request.js';

/** The first two bytes of every gzip stream (RFC 1952). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type Decompress = (
  bytes: Buffer,
  options: { maxOutputLength: number },
) => Buffer;

/**
 * Inflates a deflate body, which HTTP defines as a zlib stream (RFC 9110)
 * but some clients send as raw deflate without the zlib header. Raw
 * deflate whose first bytes happen to look like a zlib header is inflated
 * raw once the zlib reading fails.
 */
const inflateEither: Decompress = (bytes, options) => {
  if (hasZlibHeader(bytes)) {
    try {
      return inflateSync(bytes, options);
    } catch (error) {
      if (isOutputTooLarge(error)) throw error;
    }
  }
  return inflateRawSync(bytes, options);
};

/**
 * Tells whether bytes start with a zlib header (RFC 1950): compression
 * method 8 and a check value that makes the first two bytes a multiple
 * of 31.
 */
function hasZlibHeader(bytes: Buffer): boolean {
  const [cmf, flg] = bytes;
  if (cmf === undefined || flg === undefined) return false;
  return (cmf & 0x0f) === 8 && (cmf * 256 + flg) % 31 === 0;
}

const DECOMPRESSORS: Record<string, Decompress> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateEither,
  br: brotliDecompressSync,
};

/**
 * Reads a request body as JSON whatever its content type says, because
 * tracking clients label JSON as text/plain or form data. The body is
 * base64-decoded when API Gateway says so and decompressed when
 * `Content-Encoding` says so or it starts with the gzip magic bytes.
 * Raises PayloadTooLargeError when the body, before or after
 * decompression, exceeds `maxBytes`, with `tooLargeAdvice` saying what to
 * send instead, and MalformedBodyError when it cannot be decoded or is
 * not JSON.
 */
export function readJsonBody(
  request: ApiRequest,
  maxBytes: number,
  tooLargeAdvice = 'Send fewer events per request.',
  options: { rejectRepeatedKeys?: boolean } = {},
): unknown {
  const received = receivedBytes(request);
  checkSize(received.length, maxBytes, tooLargeAdvice);
  const bytes = decompress(received, request.headers, maxBytes, tooLargeAdvice);
  checkSize(bytes.length, maxBytes, tooLargeAdvice);
  const text = decodeUtf8(bytes);
  const body = parseJson(text);
  if (options.rejectRepeatedKeys === true) rejectRepeatedKeys(text);
  return body;
}

/**
 * Raises ValidationError naming each key that a body sets twice in one
 * object. JSON.parse keeps the last value, so `{"disposition": "accepted",
 * "disposition": "rejected"}` would record a rejection unnoticed.
 */
function rejectRepeatedKeys(text: string): void {
  const repeated = duplicateKeys(text);
  if (repeated.length === 0) return;
  throw new ValidationError(
    'The request body sets a key twice in one object, and only one of the values would count; see errors for each key.',
    repeated,
  );
}

function receivedBytes(request: ApiRequest): Buffer {
  // NOTE: a REST API base64-encodes only its binary media types. Without
  // `*/*` among them, a gzip body arrives as mangled text and gets a 400.
  // A body passed as text was decoded before this point, so bytes that
  // were not UTF-8 may arrive as U+FFFD and cannot be detected here.
  const raw = request.body ?? '';
  if (!request.isBase64Encoded) {
    return Buffer.from(raw, 'utf8');
  }
  const compact = raw.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !BASE64.test(compact)) {
    throw new MalformedBodyError(
      'The request body is marked as base64 but is not valid base64.',
    );
  }
  return Buffer.from(compact, 'base64');
}

function checkSize(size: number, maxBytes: number, advice: string): void {
  if (size > maxBytes) {
    throw new PayloadTooLargeError(
      `The request body has more than ${maxBytes} bytes, the limit of this route. ${advice}`,
      maxBytes,
    );
  }
}

function decompress(
  bytes: Buffer,
  headers: Record<string, string>,
  maxBytes: number,
  tooLargeAdvice: string,
): Buffer {
  const encoding = contentEncoding(headers, bytes);
  if (encoding === undefined) {
    return bytes;
  }
  // The encoding is the client's text, and a plain lookup would find
  // Object.prototype members such as `constructor`.
  const decompressor = Object.hasOwn(DECOMPRESSORS, encoding)
    ? DECOMPRESSORS[encoding]
    : undefined;
  if (decompressor === undefined) {
    throw new MalformedBodyError(
      `Content-Encoding ${encoding} is not supported. Send gzip, deflate, br or no encoding.`,
    );
  }
  let decompressed: Buffer;
  try {
    // One byte over the limit is enough to know the body is too large.
    decompressed = decompressor(bytes, { maxOutputLength: maxBytes + 1 });
  } catch (error) {
    if (isOutputTooLarge(error)) {
      checkSize(maxBytes + 1, maxBytes, tooLargeAdvice);
    }
    throw new MalformedBodyError(
      `The request body is not valid ${encoding} data. Send it uncompressed or compress it again.`,
      { cause: error },
    );
  }
  // Without this check, gzip inside gzip fails later as invalid UTF-8,
  // which does not point at the compression.
  if (startsWithGzipMagic(decompressed)) {
    throw new MalformedBodyError(
      'The request body is compressed twice: its decompressed bytes are gzip data again. Compress it once.',
    );
  }
  return decompressed;
}

/**
 * Returns the body's compression: the Content-Encoding header, else gzip
 * when the body starts with the gzip magic bytes (some clients compress
 * without saying so), else undefined.
 */
function contentEncoding(
  headers: Record<string, string>,
  bytes: Buffer,
): string | undefined {
  const declared = (headers['content-encoding'] ?? '')
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '' && part !== 'identity');
  if (declared.length > 1) {
    throw new MalformedBodyError(
      'The request body has more than one Content-Encoding. Compress it once.',
    );
  }
  if (declared[0] !== undefined) {
    return declared[0];
  }
  return startsWithGzipMagic(bytes) ? 'gzip' : undefined;
}

function startsWithGzipMagic(bytes: Buffer): boolean {
  return bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

function isOutputTooLarge(error: unknown): boolean {
  return (
    error instanceof RangeError &&
    (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new MalformedBodyError(
      'The request body is not valid UTF-8. Send JSON encoded as UTF-8.',
      { cause: error },
    );
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') {
    throw new MalformedBodyError(
      'The request body is empty; send a JSON object.',
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // The parser's message quotes the payload, so it is not passed on.
    // The position and the problem quote none of it.
    const where = describeJsonSyntaxError(text);
    const detail = where === undefined ? '' : ` (${where})`;
    throw new MalformedBodyError(
      `The request body is not valid JSON${detail}. Send a JSON object.`,
      { cause: error },
    );
  }
}
