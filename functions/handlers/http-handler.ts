import type { Context } from 'aws-lambda';
import { problemResponse } from '../adapters/http/problem.js';
import type { HttpRequest, HttpResponse } from '../adapters/http/responses.js';
import { type Runtime, runtime } from '../adapters/runtime.js';

type RouteHandler = (
  request: HttpRequest,
  runtime: Runtime,
) => Promise<HttpResponse>;

/**
 * Wraps a route handler: builds the runtime once, adds the request id to
 * every log line, and answers every error as problem+json in one place.
 */
export function httpHandler(handle: RouteHandler) {
  return async (
    request: HttpRequest,
    context?: Context,
  ): Promise<HttpResponse> => {
    const current = runtime();
    const requestId = request.requestContext?.requestId;
    current.logger.addContext(context ?? ({} as Context));
    current.logger.appendKeys({ requestId, route: request.routeKey });
    try {
      return await handle(request, current);
    } catch (error) {
      return problemResponse(error, current.deps.log, requestId);
    } finally {
      current.logger.removeKeys(['requestId', 'route']);
    }
  };
}
