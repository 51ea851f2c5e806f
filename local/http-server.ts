import { randomUUID, timingSafeEqual } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
} from 'aws-lambda';
import {
  API_ROUTES,
  type ApiRoute,
  type HandlerName,
} from '../lib/definitions/api-routes.js';

/**
 * A local stand-in for API Gateway's HTTP API: it turns each request into
 * a payload format 2.0 event, calls the same Lambda handler that AWS runs,
 * and turns the handler's result into the response.
 */

type LambdaHttpHandler = (
  event: APIGatewayProxyEventV2,
) => Promise<APIGatewayProxyResultV2>;

/** Loads each handler module on first use, after the environment is set. */
const HANDLER_MODULES: Record<HandlerName, () => Promise<LambdaHttpHandler>> = {
  ingest: async () => (await import('../functions/handlers/ingest.js')).handler,
  leads: async () => (await import('../functions/handlers/leads.js')).handler,
};

/** API Gateway's own limit on a request payload. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** Content types API Gateway passes as text; others arrive base64-encoded. */
const TEXT_CONTENT_TYPE =
  /^(text\/|application\/(json|.*\+json|javascript|xml|.*\+xml|x-www-form-urlencoded))/i;

export interface LocalApiOptions {
  port: number;
  host?: string;
  /** Bearer token that admin routes require, as IAM does in AWS. */
  adminToken: string;
  onError?: (error: unknown) => void;
}

/** Starts the local HTTP API and resolves once it listens. */
export async function startLocalApi(options: LocalApiOptions): Promise<Server> {
  const server = createServer((request, response) => {
    handleRequest(request, response, options).catch((error) => {
      options.onError?.(error);
      if (!response.headersSent) {
        writeJson(response, 500, { message: 'Internal Server Error' });
      } else {
        response.end();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  return server;
}

async function handleRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: LocalApiOptions,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const match = matchRoute(request.method ?? 'GET', url.pathname);
  if (match === undefined) {
    writeJson(response, 404, { message: 'Not Found' });
    return;
  }
  if (match.route.auth === 'admin' && !hasAdminToken(request, options)) {
    writeProblem(
      response,
      401,
      'Unauthorized',
      'Send the admin token as "Authorization: Bearer <MQL_ADMIN_TOKEN>".',
    );
    return;
  }
  const body = await readBody(request);
  if (body === undefined) {
    writeJson(response, 413, { message: 'Request Entity Too Large' });
    return;
  }
  const event = toApiGatewayEvent(request, url, match, body);
  const handler = await HANDLER_MODULES[match.route.handler]();
  writeResult(response, await handler(event));
}

interface RouteMatch {
  route: ApiRoute;
  pathParameters: Record<string, string>;
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
    try {
      names.forEach((name, index) => {
        pathParameters[name] = decodeURIComponent(found[index + 1] ?? '');
      });
    } catch {
      return undefined;
    }
    return { route, pathParameters };
  }
  return undefined;
}

function hasAdminToken(
  request: IncomingMessage,
  options: LocalApiOptions,
): boolean {
  const header = request.headers.authorization ?? '';
  const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? '';
  const expected = Buffer.from(options.adminToken);
  const actual = Buffer.from(token);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
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

function toApiGatewayEvent(
  request: IncomingMessage,
  url: URL,
  match: RouteMatch,
  body: Buffer,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) {
      headers[name.toLowerCase()] = Array.isArray(value)
        ? value.join(',')
        : value;
    }
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = key in query ? `${query[key]},${value}` : value;
  }
  const isText =
    headers['content-encoding'] === undefined &&
    TEXT_CONTENT_TYPE.test(headers['content-type'] ?? 'text/plain');
  const method = (request.method ?? 'GET').toUpperCase();
  const routeKey = `${match.route.method} ${match.route.path}`;
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(match.pathParameters).length > 0
      ? { pathParameters: match.pathParameters }
      : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body.length > 0
      ? {
          body: isText ? body.toString('utf8') : body.toString('base64'),
        }
      : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

/**
 * Writes a handler result as API Gateway does: a structured result as
 * given, and anything else as a 200 JSON body.
 */
function writeResult(
  response: ServerResponse,
  result: APIGatewayProxyResultV2,
): void {
  if (
    typeof result !== 'object' ||
    result === null ||
    !('statusCode' in result)
  ) {
    writeJson(response, 200, result);
    return;
  }
  const headers: Record<string, string | string[]> = {
    ...result.headers,
  } as Record<string, string>;
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

function writeJson(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function writeProblem(
  response: ServerResponse,
  status: number,
  title: string,
  detail: string,
) {
  response.writeHead(status, { 'content-type': 'application/problem+json' });
  response.end(
    JSON.stringify({
      type: 'urn:mql-engine:problem:unauthorized',
      title,
      status,
      detail,
    }),
  );
}
