import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One request the forwarder passed on, with the API's response. */
export interface ForwardedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as sent: compressed when the client compressed it. */
  rawBody: Buffer;
  /** The body parsed as JSON, after gunzip when it was compressed. */
  json: unknown;
  status: number;
  /** The API's response body parsed as JSON. */
  response: unknown;
}

/**
 * How the forwarder responds to the first request after passing it on:
 * `timeout` holds the response past the client's timeout, and a number
 * replaces the API's status, so the client retries a request whose
 * messages were already stored.
 */
export type FirstAnswer = 'pass' | 'timeout' | number;

export interface RecordingForwarder {
  url: string;
  requests: ForwardedRequest[];
  stop(): Promise<void>;
}

/**
 * Starts a loopback HTTP server that passes every request on to `target`
 * and records it with the response, in order of arrival. Fault injection for retry tests: the
 * clients themselves talk to the API directly everywhere else.
 */
export async function startRecordingForwarder(
  target: string,
  options: { firstAnswer?: FirstAnswer; holdMs?: number } = {},
): Promise<RecordingForwarder> {
  const requests: ForwardedRequest[] = [];
  let arrivals = 0;
  const server: Server = createServer(async (request, response) => {
    // A retry can arrive while the first request is still upstream, so the
    // order of arrival, not of completion, picks the first request.
    const arrival = arrivals;
    arrivals += 1;
    const rawBody = await readAll(request);
    const upstream = await fetch(`${target}${request.url}`, {
      method: request.method ?? 'POST',
      headers: forwardedHeaders(request.headers),
      ...(rawBody.length > 0 ? { body: rawBody } : {}),
    });
    const text = await upstream.text();
    requests[arrival] = {
      method: request.method ?? 'POST',
      path: request.url ?? '/',
      headers: request.headers,
      rawBody,
      json: parseBody(rawBody),
      status: upstream.status,
      response: text === '' ? undefined : JSON.parse(text),
    };
    const first = arrival === 0;
    const fault = first ? (options.firstAnswer ?? 'pass') : 'pass';
    if (fault === 'timeout') {
      await new Promise((resolve) => setTimeout(resolve, options.holdMs ?? 0));
      response.destroy();
      return;
    }
    const status = typeof fault === 'number' ? fault : upstream.status;
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function forwardedHeaders(headers: IncomingHttpHeaders): Headers {
  const forwarded = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (['host', 'connection', 'content-length'].includes(name)) continue;
    if (value !== undefined) forwarded.set(name, String(value));
  }
  return forwarded;
}

function parseBody(rawBody: Buffer): unknown {
  if (rawBody.length === 0) return undefined;
  const isGzip = rawBody[0] === 0x1f && rawBody[1] === 0x8b;
  const text = (isGzip ? gunzipSync(rawBody) : rawBody).toString('utf8');
  return JSON.parse(text);
}
