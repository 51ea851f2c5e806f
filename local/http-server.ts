import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  maxHeaderSize,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import type { ApiGatewayEvent } from '../functions/adapters/http/api-request.js';
import type { ProblemDetails } from '../functions/adapters/http/problem.js';
import {
  API_ROUTES,
  type ApiRoute,
  type HandlerName,
} from '../lib/definitions/api-routes.js';
import {
  type MatchedRequest,
  toEventV1,
  toEventV2,
} from './api-gateway-events.js';
import {
  isPreflight,
  preflightHeaders,
  responseCorsHeaders,
  withoutCorsHeaders,
} from './cors.js';
import { urlHost } from './host.js';
import {
  type LocalFunctionSettings,
  localLambdaContext,
} from './lambda-context.js';
import {
  hasInvalidHostPort,
  isLoopbackHost,
  isLoopbackHostHeader,
} from './loopback.js';

/**
 * A local stand-in for API Gateway: it turns each request into a Lambda
 * proxy event, calls the same Lambda handler that AWS runs, and turns the
 * handler's result into the response. It responds to CORS preflight requests
 * as the HTTP API's built-in CORS does.
 */

type LambdaHttpHandler = (
  event: ApiGatewayEvent,
  context?: Context,
) => Promise<APIGatewayProxyResultV2>;

/** Loads each handler module on first use, after the environment is set. */
const HANDLER_MODULES: Record<HandlerName, () => Promise<LambdaHttpHandler>> = {
  ingest: async () => (await import('../functions/handlers/ingest.js')).handler,
  leads: async () => (await import('../functions/handlers/leads.js')).handler,
  recycle: async () =>
    (await import('../functions/handlers/recycle.js')).handler,
};

/** API Gateway's own limit on a request payload. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export interface LocalApiOptions {
  port: number;
  host?: string;
  /** Bearer token that admin routes require, as IAM does in AWS. */
  adminToken: string;
  /**
   * Origins allowed to call the API from a browser, as in the stage
   * setting corsAllowedOrigins. @default [] (CORS off)
   */
  corsOrigins?: readonly string[];
  /**
   * Payload format of the events: `2.0` as an HTTP API sends, `1.0` as a
   * REST API sends. @default '2.0'
   */
  payloadVersion?: '1.0' | '2.0';
  /**
   * Stage whose name prefixes every path (`/<stage>/v1/batch`), as a REST
   * API stage or a named HTTP API stage. @default '$default' (no prefix)
   */
  stage?: string;
  /**
   * Memory and timeout of each function, as the stage config's
   * `functions` sets them. Each invocation gets a Lambda context whose
   * remaining time counts down from its function's timeout. Absent: the
   * handlers get no context, so nothing they do has a deadline.
   */
  functions?: Readonly<Record<HandlerName, LocalFunctionSettings>>;
  onError?: (error: unknown) => void;
}

/** Starts the local HTTP API and resolves once it listens. */
export async function startLocalApi(options: LocalApiOptions): Promise<Server> {
  const host = options.host ?? '127.0.0.1';
  const onLoopback = isLoopbackHost(host);
  // Node.js sends an empty 400 to an HTTP/1.1 request without Host, and
  // an empty 417 to one whose Expect is not 100-continue, unless the
  // server checks them itself.
  const server = createServer(
    { requireHostHeader: false },
    (request, response) => {
      // API Gateway gives every request an id, which the handlers return
      // in each problem response, so the server's own errors carry it too.
      const requestId = randomUUID();
      if (lacksHostHeader(request)) {
        writeRequestProblem(response, missingHostProblem(requestId));
        return;
      }
      if (hostHeaderCount(request) > 1) {
        writeRequestProblem(response, repeatedHostProblem(requestId));
        return;
      }
      if (hasInvalidHostPort(request.headers.host ?? '')) {
        writeRequestProblem(response, invalidHostPortProblem(requestId));
        return;
      }
      if (onLoopback && !hasLoopbackHost(request)) {
        writeRequestProblem(response, foreignHostProblem(requestId));
        return;
      }
      handleRequest(request, response, requestId, options).catch((error) => {
        // A client that closes its connection before the end of its body
        // gets no response, as from API Gateway, and is not a failure.
        if (isClientAbort(request)) {
          response.destroy();
          return;
        }
        options.onError?.(error);
        if (!response.headersSent) {
          writeInternalError(response, requestId);
        } else {
          response.end();
        }
      });
    },
  );
  // A client that shuts down its sending side after the request still
  // waits for the response, which API Gateway sends. Node.js 20 closes
  // such a connection at once unless the undocumented httpAllowHalfOpen
  // flag of http.Server is set.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on('clientError', answerClientError);
  server.on('checkExpectation', (_request, response) => {
    writeRequestProblem(response, expectationFailedProblem());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => {
      reject(new ListenError(host, options.port, error));
    });
    server.listen(options.port, host, () => resolve());
  });
  return server;
}

/**
 * Tells whether the client closed its connection before the end of its
 * request, so that reading the body failed with `aborted`.
 */
function isClientAbort(request: IncomingMessage): boolean {
  return request.readableAborted;
}

/**
 * Failure of the local API to listen on its address. `cause` is the
 * Node.js error, whose `code` gives the reason, such as EADDRINUSE.
 */
export class ListenError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    cause: Error,
  ) {
    super(
      `The local API cannot listen on ${urlHost(host)}:${port}: ${cause.message}`,
      {
        cause,
      },
    );
    this.name = 'ListenError';
  }
}

async function handleRequest(
  request: IncomingMessage,
  response: ServerResponse,
  requestId: string,
  options: LocalApiOptions,
): Promise<void> {
  const stage = options.stage ?? '$default';
  const url = requestUrl(request.url ?? '/');
  const path = url === undefined ? undefined : pathInStage(url.pathname, stage);
  const corsOrigins = options.corsOrigins ?? [];
  const origins =
    path !== undefined && isAdminPath(path)
      ? originsListedByName(corsOrigins)
      : corsOrigins;
  if (corsOrigins.length > 0 && isPreflight(request)) {
    response.writeHead(204, preflightHeaders(request, origins));
    response.end();
    return;
  }
  const cors = responseCorsHeaders(request, origins);
  if (url === undefined) {
    writeRequestProblem(response, invalidTargetProblem(requestId));
    return;
  }
  const match =
    path === undefined ? undefined : matchRoute(request.method ?? 'GET', path);
  if (match === undefined) {
    // API Gateway's own 404 body, with the request id that the other
    // local error bodies carry.
    writeJson(response, 404, { message: 'Not Found', requestId }, cors);
    return;
  }
  if (match.route.auth === 'admin' && !hasAdminToken(request, options)) {
    writeUnauthorized(response, requestId, cors);
    return;
  }
  if (match.malformedParameter !== undefined) {
    writeMalformedParameter(
      response,
      match.malformedParameter,
      requestId,
      cors,
    );
    return;
  }
  const body = await readBody(request);
  if (body === undefined) {
    writePayloadTooLarge(response, requestId, cors);
    return;
  }
  const matched: MatchedRequest = {
    request,
    url,
    ...match,
    body,
    stage,
    requestId,
  };
  const event =
    options.payloadVersion === '1.0' ? toEventV1(matched) : toEventV2(matched);
  const name = match.route.handler;
  const handler = await HANDLER_MODULES[name]();
  const settings = options.functions?.[name];
  // The context starts once the handler module is loaded, because Lambda
  // runs a module's top level in its init phase, outside the timeout.
  const context =
    settings === undefined
      ? undefined
      : localLambdaContext(name, settings, requestId);
  writeResult(response, await handler(event, context), cors);
}

/**
 * Parses a request target, or returns undefined when it is not a valid
 * URL, such as `http://[`. An origin-form target is appended to a base
 * origin instead of resolved against it, because resolving reads a path
 * such as `//x/v1/batch` as the host x and the path /v1/batch.
 */
function requestUrl(target: string): URL | undefined {
  const url = target.startsWith('/') ? `http://localhost${target}` : target;
  return URL.canParse(url, 'http://localhost')
    ? new URL(url, 'http://localhost')
    : undefined;
}

function invalidTargetProblem(requestId: string): ProblemDetails {
  return {
    type: 'urn:mql-engine:problem:malformed-request',
    title: 'Bad request',
    status: 400,
    detail:
      'The request target is not a valid path or URL. Send a path such as /v1/batch.',
    requestId,
  };
}

/** Returns the path below the stage prefix, or undefined outside it. */
function pathInStage(path: string, stage: string): string | undefined {
  if (stage === '$default') return path;
  const prefix = `/${stage}`;
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined;
}

interface RouteMatch {
  route: ApiRoute;
  pathParameters: Record<string, string>;
  /** The path parameter whose percent-encoding is not valid UTF-8. */
  malformedParameter?: string;
}

/** Finds the route for a method and path, decoding path parameters. */
export function matchRoute(
  method: string,
  path: string,
): RouteMatch | undefined {
  for (const route of API_ROUTES) {
    if (route.method !== method.toUpperCase()) continue;
    const names: string[] = [];
    const pattern = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const found = new RegExp(`^${pattern}/?$`).exec(path);
    if (found === null) continue;
    const pathParameters: Record<string, string> = {};
    for (const [index, name] of names.entries()) {
      const raw = found[index + 1] ?? '';
      try {
        pathParameters[name] = decodeURIComponent(raw);
      } catch {
        return { route, pathParameters, malformedParameter: name };
      }
    }
    return { route, pathParameters };
  }
  return undefined;
}

/** Tells whether any method of an admin route serves `path`. */
function isAdminPath(path: string): boolean {
  return API_ROUTES.some(
    (route) =>
      route.auth === 'admin' && matchRoute(route.method, path)?.route === route,
  );
}

/**
 * Returns the allowed origins without `*`, `https://*` and `http://*`.
 * Admin routes allow only origins listed by name, because any page can
 * send a bearer token, and the default token is printed in the README.
 * In AWS they need an IAM signature or a JWT, which a page of another
 * site does not have.
 */
function originsListedByName(origins: readonly string[]): string[] {
  return origins.filter((origin) => !origin.endsWith('*'));
}

function hasAdminToken(
  request: IncomingMessage,
  options: LocalApiOptions,
): boolean {
  const header = request.headers.authorization ?? '';
  const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? '';
  // Digests have one length, so the comparison time reveals nothing about
  // the token's length either.
  return timingSafeEqual(sha256(token), sha256(options.adminToken));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Writes a handler result as API Gateway does: a structured result as
 * given, and anything else as a 200 JSON body. CORS headers come from the
 * API's settings, never from the handler.
 */
function writeResult(
  response: ServerResponse,
  result: APIGatewayProxyResultV2,
  cors: Record<string, string>,
): void {
  if (
    typeof result !== 'object' ||
    result === null ||
    !('statusCode' in result)
  ) {
    writeJson(response, 200, result, cors);
    return;
  }
  const headers: Record<string, string | string[]> = {
    ...withoutCorsHeaders({ ...result.headers } as Record<string, string>),
    ...cors,
  };
  if (result.cookies && result.cookies.length > 0) {
    headers['set-cookie'] = result.cookies;
  }
  const body = result.body ?? '';
  const bytes = result.isBase64Encoded
    ? Buffer.from(body, 'base64')
    : Buffer.from(body, 'utf8');
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(bytes);
}

function writeJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  cors: Record<string, string> = {},
) {
  response.writeHead(status, { 'content-type': 'application/json', ...cors });
  response.end(JSON.stringify(body));
}

/**
 * Writes the problem+json 500 that the engine's handlers send for an
 * unexpected error, for errors raised before a handler can catch them,
 * such as a model that fails to load.
 */
function writeInternalError(response: ServerResponse, requestId: string) {
  response.writeHead(500, { 'content-type': 'application/problem+json' });
  response.end(
    JSON.stringify({
      type: 'urn:mql-engine:problem:internal-error',
      title: 'Internal error',
      status: 500,
      detail: 'The request failed on the server. Retry it later.',
      requestId,
    }),
  );
}

/**
 * Writes the problem+json 400 for a path parameter whose percent-encoded
 * bytes are not UTF-8, such as `/leads/%FF`.
 */
function writeMalformedParameter(
  response: ServerResponse,
  name: string,
  requestId: string,
  cors: Record<string, string>,
) {
  const message = 'must be percent-encoded UTF-8';
  response.writeHead(400, {
    'content-type': 'application/problem+json',
    ...cors,
  });
  response.end(
    JSON.stringify({
      type: 'urn:mql-engine:problem:invalid-request',
      title: 'Invalid request',
      status: 400,
      detail: `The ${name} in the path ${message}, as encodeURIComponent writes it.`,
      requestId,
      errors: [{ field: name, message }],
    }),
  );
}

/**
 * Writes the problem+json 413 for a body over MAX_REQUEST_BYTES, the
 * limit API Gateway applies before any handler runs.
 */
function writePayloadTooLarge(
  response: ServerResponse,
  requestId: string,
  cors: Record<string, string>,
) {
  const megabytes = MAX_REQUEST_BYTES / (1024 * 1024);
  response.writeHead(413, {
    'content-type': 'application/problem+json',
    connection: 'close',
    ...cors,
  });
  response.end(
    JSON.stringify({
      type: 'urn:mql-engine:problem:payload-too-large',
      title: 'Payload too large',
      status: 413,
      detail: `The request body is over ${megabytes} MB, the API's limit. Send a smaller body; the tracking routes take at most 500 KB.`,
      requestId,
    }),
  );
}

/**
 * Sends the problem+json response to a request that Node.js could not
 * parse, with a request id of its own, and closes the connection. Headers
 * over http.maxHeaderSize (16 KB by default in Node.js 20) get 431, a
 * timeout 408 and other parse errors 400, the statuses that Node.js sends
 * without this listener.
 */
function answerClientError(error: Error, socket: Duplex): void {
  const code = (error as { code?: string }).code;
  if (code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(rawProblemResponse(clientErrorProblem(code)));
}

function clientErrorProblem(code: string | undefined): ProblemDetails {
  const requestId = randomUUID();
  if (code === 'HPE_HEADER_OVERFLOW') {
    const kilobytes = Math.floor(maxHeaderSize / 1024);
    return {
      type: 'urn:mql-engine:problem:headers-too-large',
      title: 'Request header fields too large',
      status: 431,
      detail: `The request line and headers are over ${kilobytes} KB, the local server's limit. Send fewer or shorter headers, such as cookies.`,
      requestId,
    };
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      type: 'urn:mql-engine:problem:request-timeout',
      title: 'Request timeout',
      status: 408,
      detail:
        'The request line, headers or body did not arrive in time. Send the request again.',
      requestId,
    };
  }
  return {
    type: 'urn:mql-engine:problem:malformed-request',
    title: 'Bad request',
    status: 400,
    detail:
      'The request is not valid HTTP/1.1, so no route could read it. Check the request line and the headers.',
    requestId,
  };
}

/** Returns whether an HTTP/1.1 request lacks Host, which RFC 9112 requires. */
function lacksHostHeader(request: IncomingMessage): boolean {
  return request.httpVersion === '1.1' && request.headers.host === undefined;
}

/**
 * Returns how many Host lines a request has. Node.js keeps only the first
 * in `headers`, so the count comes from `rawHeaders`.
 */
function hostHeaderCount(request: IncomingMessage): number {
  const names = request.rawHeaders.filter((_, index) => index % 2 === 0);
  return names.filter((name) => name.toLowerCase() === 'host').length;
}

/**
 * Tells whether a request names this machine in its Host header, as it
 * must when the server listens on a loopback address. A request without
 * Host is HTTP/1.0 here, which no browser sends.
 */
function hasLoopbackHost(request: IncomingMessage): boolean {
  const host = request.headers.host;
  return host === undefined || isLoopbackHostHeader(host);
}

function foreignHostProblem(requestId: string): ProblemDetails {
  return {
    type: 'urn:mql-engine:problem:host-not-allowed',
    title: 'Forbidden',
    status: 403,
    detail:
      'The Host header names neither localhost nor a loopback address, the only hosts that a server listening on a loopback address serves. Send Host: 127.0.0.1:PORT, or set HOST to an interface that is not loopback, and MQL_ADMIN_TOKEN and MQL_WRITE_KEY to secrets.',
    requestId,
  };
}

function missingHostProblem(requestId: string): ProblemDetails {
  return {
    type: 'urn:mql-engine:problem:malformed-request',
    title: 'Bad request',
    status: 400,
    detail:
      'The request has no Host header, which HTTP/1.1 requires. Send Host with the host and port of the API, such as Host: 127.0.0.1:3000.',
    requestId,
  };
}

function repeatedHostProblem(requestId: string): ProblemDetails {
  return {
    type: 'urn:mql-engine:problem:malformed-request',
    title: 'Bad request',
    status: 400,
    detail:
      'The request has more than one Host header, which HTTP/1.1 forbids. Send one Host with the host and port of the API, such as Host: 127.0.0.1:3000.',
    requestId,
  };
}

function invalidHostPortProblem(requestId: string): ProblemDetails {
  return {
    type: 'urn:mql-engine:problem:malformed-request',
    title: 'Bad request',
    status: 400,
    detail:
      'The port of the Host header is above 65535, so the header is invalid. Send Host with the host and port of the API, such as Host: 127.0.0.1:3000.',
    requestId,
  };
}

function expectationFailedProblem(): ProblemDetails {
  return {
    type: 'urn:mql-engine:problem:expectation-failed',
    title: 'Expectation failed',
    status: 417,
    detail:
      'The only Expect value the server supports is 100-continue. Leave Expect out, or send Expect: 100-continue.',
    requestId: randomUUID(),
  };
}

/** Writes a problem+json response of the server itself and closes the connection. */
function writeRequestProblem(
  response: ServerResponse,
  problem: ProblemDetails,
): void {
  const body = JSON.stringify(problem);
  response.writeHead(problem.status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body);
}

/** Returns a whole HTTP/1.1 response that closes the connection. */
function rawProblemResponse(problem: ProblemDetails): string {
  const body = JSON.stringify(problem);
  return (
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
    'Content-Type: application/problem+json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/**
 * Writes the problem+json 401 of the admin routes. It names the Bearer
 * scheme in WWW-Authenticate (RFC 6750), as the tracking routes' 401
 * names Basic.
 */
function writeUnauthorized(
  response: ServerResponse,
  requestId: string,
  cors: Record<string, string>,
) {
  response.writeHead(401, {
    'content-type': 'application/problem+json',
    'www-authenticate': 'Bearer realm="mql-engine"',
    ...cors,
  });
  response.end(
    JSON.stringify({
      type: 'urn:mql-engine:problem:unauthorized',
      title: 'Unauthorized',
      status: 401,
      detail:
        'Send the admin token as "Authorization: Bearer <MQL_ADMIN_TOKEN>".',
      requestId,
    }),
  );
}
