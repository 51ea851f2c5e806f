import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ApiRoute } from '../lib/definitions/api-routes.js';

/**
 * Builds the Lambda proxy events API Gateway sends: payload format 2.0 as
 * an HTTP API does, or 1.0 as a REST API does.
 */

/** Content types API Gateway passes as text; others arrive base64-encoded. */
const TEXT_CONTENT_TYPE =
  /^(text\/|application\/(json|.*\+json|javascript|xml|.*\+xml|x-www-form-urlencoded))/i;

/** A request matched to a route, with what the event needs of it. */
export interface MatchedRequest {
  request: IncomingMessage;
  url: URL;
  route: ApiRoute;
  pathParameters: Record<string, string>;
  body: Buffer;
  /** API Gateway stage; `$default` serves paths without a prefix. */
  stage: string;
  /** Request id of the event, also in the server's own error responses. */
  requestId: string;
}

/** Builds a payload format 2.0 event. */
export function toEventV2(matched: MatchedRequest): APIGatewayProxyEventV2 {
  const { request, url, route, body } = matched;
  const headers = lowerCaseHeaders(request);
  const query = queryParameters(url);
  const routeKey = `${route.method} ${route.path}`;
  const now = Date.now();
  const isText = isTextBody(headers, body);
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(matched.pathParameters).length > 0
      ? { pathParameters: matched.pathParameters }
      : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: methodOf(request),
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: matched.requestId,
      routeKey,
      stage: matched.stage,
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body.length > 0 ? { body: encodeBody(body, isText) } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

/**
 * Builds a payload format 1.0 event as a REST API sends it: header names
 * as the client wrote them, `path` without the stage and
 * `requestContext.path` with it.
 */
export function toEventV1(matched: MatchedRequest): APIGatewayProxyEvent {
  const { request, url, route, body } = matched;
  const headers = rawHeaders(request);
  const isText = isTextBody(lowerCaseHeaders(request), body);
  const stagePrefix = matched.stage === '$default' ? '' : `/${matched.stage}`;
  const path = url.pathname.slice(stagePrefix.length) || '/';
  const query = queryParameters(url);
  return {
    resource: route.path,
    path,
    httpMethod: methodOf(request),
    headers: Object.fromEntries(
      Object.entries(headers).map(([name, values]) => [name, values.at(-1)]),
    ),
    multiValueHeaders: headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    multiValueQueryStringParameters: null,
    pathParameters:
      Object.keys(matched.pathParameters).length > 0
        ? matched.pathParameters
        : null,
    stageVariables: null,
    requestContext: requestContextV1(matched, `${stagePrefix}${path}`),
    body: body.length > 0 ? encodeBody(body, isText) : null,
    isBase64Encoded: body.length > 0 && !isText,
  };
}

function requestContextV1(
  matched: MatchedRequest,
  fullPath: string,
): APIGatewayProxyEvent['requestContext'] {
  const { request } = matched;
  return {
    accountId: '000000000000',
    apiId: 'local',
    authorizer: undefined,
    protocol: `HTTP/${request.httpVersion}`,
    httpMethod: methodOf(request),
    identity: {
      accessKey: null,
      accountId: null,
      apiKey: null,
      apiKeyId: null,
      caller: null,
      clientCert: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      user: null,
      userAgent: request.headers['user-agent'] ?? null,
      userArn: null,
    },
    path: fullPath,
    stage: matched.stage,
    requestId: matched.requestId,
    requestTimeEpoch: Date.now(),
    resourceId: 'local',
    resourcePath: matched.route.path,
  };
}

function methodOf(request: IncomingMessage): string {
  return (request.method ?? 'GET').toUpperCase();
}

function lowerCaseHeaders(request: IncomingMessage): Record<string, string> {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) {
      headers.set(
        name.toLowerCase(),
        Array.isArray(value) ? value.join(',') : value,
      );
    }
  }
  return Object.fromEntries(headers);
}

/**
 * Returns header values by the names the client sent, in their case. A
 * Map keeps a header named `constructor` or `__proto__` apart from
 * Object's members.
 */
function rawHeaders(request: IncomingMessage): Record<string, string[]> {
  const headers = new Map<string, string[]>();
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    headers.set(name, [...(headers.get(name) ?? []), raw[i + 1] as string]);
  }
  return Object.fromEntries(headers);
}

/**
 * Returns the query parameters, values of a repeated name joined by `,`,
 * as own properties even when a name is `__proto__` or `constructor`.
 */
function queryParameters(url: URL): Record<string, string> {
  const query = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    const earlier = query.get(key);
    query.set(key, earlier === undefined ? value : `${earlier},${value}`);
  }
  return Object.fromEntries(query);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Tells whether the body goes into the event as text. Only a text content
 * type without Content-Encoding qualifies, and only when the bytes are
 * UTF-8 and do not start with the gzip magic bytes. Decoding other bytes
 * as text would replace them with U+FFFD, so the function could neither
 * gunzip the body nor tell that it is not UTF-8.
 */
function isTextBody(headers: Record<string, string>, body: Buffer): boolean {
  return (
    headers['content-encoding'] === undefined &&
    TEXT_CONTENT_TYPE.test(headers['content-type'] ?? 'text/plain') &&
    !(body[0] === 0x1f && body[1] === 0x8b) &&
    isUtf8(body)
  );
}

function isUtf8(body: Buffer): boolean {
  try {
    utf8.decode(body);
    return true;
  } catch {
    return false;
  }
}

function encodeBody(body: Buffer, isText: boolean): string {
  return isText ? body.toString('utf8') : body.toString('base64');
}
