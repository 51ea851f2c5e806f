import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * A Lambda proxy event from API Gateway: payload format 1.0 (REST APIs,
 * HTTP APIs set to 1.0) or 2.0 (HTTP APIs).
 */
export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/** One HTTP request, the same whichever payload format carried it. */
export interface ApiRequest {
  payloadVersion: '1.0' | '2.0';
  method: string;
  /** Request path without the stage prefix, such as `/v1/batch`. */
  path: string;
  /**
   * Path template of the route API Gateway matched, such as
   * `/leads/{leadId}`, when the event names one.
   */
  routePath: string | undefined;
  /** Header values by lower-case name; repeated headers joined by `,`. */
  headers: Record<string, string>;
  pathParameters: Record<string, string>;
  /** Query string values by name; repeated names joined by `,`. */
  queryParameters: Record<string, string>;
  /** Names that the query string gives more than once. */
  repeatedQueryNames?: readonly string[];
  body: string | undefined;
  isBase64Encoded: boolean;
  requestId: string | undefined;
}

/**
 * Converts either payload format into one request shape, so handlers
 * never branch on the format. Header names are lower-cased because HTTP
 * matches them case-insensitively and format 1.0 keeps the client's case.
 */
export function normalizeRequest(event: ApiGatewayEvent): ApiRequest {
  return isVersion1(event) ? fromVersion1(event) : fromVersion2(event);
}

/** Format 1.0 always has `httpMethod`, which format 2.0 never has. */
function isVersion1(event: ApiGatewayEvent): event is APIGatewayProxyEvent {
  return typeof (event as APIGatewayProxyEvent).httpMethod === 'string';
}

function fromVersion2(event: APIGatewayProxyEventV2): ApiRequest {
  const { requestContext } = event;
  const [routeMethod, routePath] = (event.routeKey ?? '').split(' ');
  const method = requestContext?.http?.method ?? routeMethod ?? 'GET';
  return {
    payloadVersion: '2.0',
    method: method.toUpperCase(),
    path: withoutStage(event.rawPath ?? '/', requestContext?.stage),
    routePath: routePath?.startsWith('/') ? routePath : undefined,
    headers: lowerCaseHeaders(event.headers ?? {}),
    pathParameters: definedValues(event.pathParameters ?? {}),
    queryParameters: definedValues(event.queryStringParameters ?? {}),
    repeatedQueryNames: repeatedNames([
      ...new URLSearchParams(event.rawQueryString ?? '').keys(),
    ]),
    body: event.body,
    isBase64Encoded: event.isBase64Encoded ?? false,
    requestId: requestContext?.requestId,
  };
}

function fromVersion1(event: APIGatewayProxyEvent): ApiRequest {
  const { requestContext } = event;
  const headers = lowerCaseHeaders(event.headers ?? {});
  const repeated = lowerCaseHeaders(joinValues(event.multiValueHeaders ?? {}));
  return {
    payloadVersion: '1.0',
    method: event.httpMethod.toUpperCase(),
    path: withoutStage(event.path, requestContext?.stage),
    routePath: isProxyResource(event.resource) ? undefined : event.resource,
    headers: { ...headers, ...repeated },
    pathParameters: definedValues(event.pathParameters ?? {}),
    queryParameters: {
      ...definedValues(event.queryStringParameters ?? {}),
      ...definedValues(joinValues(event.multiValueQueryStringParameters ?? {})),
    },
    repeatedQueryNames: Object.entries(
      event.multiValueQueryStringParameters ?? {},
    )
      .filter(([, values]) => (values?.length ?? 0) > 1)
      .map(([name]) => name),
    body: event.body ?? undefined,
    isBase64Encoded: event.isBase64Encoded ?? false,
    requestId: requestContext?.requestId,
  };
}

/** Returns the names that occur more than once, in order of first repeat. */
function repeatedNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) repeated.add(name);
    seen.add(name);
  }
  return [...repeated];
}

/**
 * Removes a `/<stage>` prefix. HTTP APIs keep it in `rawPath` for named
 * stages, and REST APIs keep it in `path` behind some custom domains.
 */
function withoutStage(path: string, stage: string | undefined): string {
  if (stage === undefined || stage === '' || stage === '$default') {
    return path;
  }
  const prefix = `/${stage}`;
  if (path === prefix) return '/';
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
}

function isProxyResource(resource: string | undefined): boolean {
  return resource === undefined || resource.includes('+}');
}

/*
 * The maps below are built with Object.fromEntries, which defines every
 * name as an own property. Assigning `record[name]` would drop a query
 * parameter or header named `__proto__`, and `name in record` would find
 * Object members such as `constructor`.
 */

function lowerCaseHeaders(
  headers: Record<string, string | undefined>,
): Record<string, string> {
  const lower = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const earlier = lower.get(key);
    lower.set(key, earlier === undefined ? value : `${earlier},${value}`);
  }
  return Object.fromEntries(lower);
}

function joinValues(
  headers: Record<string, string[] | undefined>,
): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, values]) => [name, values?.join(',')]),
  );
}

function definedValues(
  values: Record<string, string | undefined>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
}
