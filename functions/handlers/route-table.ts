import type { ApiRequest } from '../adapters/http/api-request.js';
import type { HttpResponse } from '../adapters/http/responses.js';
import type { Invocation } from '../adapters/runtime.js';
import { NotFoundError } from '../domain/errors.js';

/** Serves one route of a function that serves several. */
export type RouteHandler = (
  request: ApiRequest,
  invocation: Invocation,
) => Promise<HttpResponse>;

/**
 * Returns a handler that serves each `METHOD /path/{param}` key of
 * `routes`. The route comes from the route key API Gateway matched, or,
 * when the event names none, from the path itself.
 */
export function routeTable(routes: Record<string, RouteHandler>): RouteHandler {
  const entries = Object.entries(routes).map(([key, handle]) => {
    const [method = '', template = ''] = key.split(' ');
    const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}/?$`);
    return { method, template, pattern, handle };
  });
  return (request, invocation) => {
    const match = entries.find(
      (entry) =>
        entry.method === request.method &&
        (request.routePath === undefined
          ? entry.pattern.test(request.path)
          : entry.template === request.routePath),
    );
    if (match === undefined) {
      throw new NotFoundError(
        `No route serves ${request.method} ${request.path}.`,
      );
    }
    return match.handle(request, invocation);
  };
}
