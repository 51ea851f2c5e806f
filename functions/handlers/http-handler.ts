import type { Context } from 'aws-lambda';
import {
  type ApiGatewayEvent,
  type ApiRequest,
  normalizeRequest,
} from '../adapters/http/api-request.js';
import { problemResponse } from '../adapters/http/problem.js';
import type { HttpResponse } from '../adapters/http/responses.js';
import { type Runtime, runtime } from '../adapters/runtime.js';

type RouteHandler = (
  request: ApiRequest,
  runtime: Runtime,
) => Promise<HttpResponse>;

/**
 * Wraps a route handler: accepts both API Gateway payload formats,
 * builds the runtime once, adds the request id to every log line, and
 * answers every error as problem+json in one place.
 */
export function httpHandler(handle: RouteHandler) {
  return async (
    event: ApiGatewayEvent,
    context?: Context,
  ): Promise<HttpResponse> => {
    const current = runtime();
    const request = normalizeRequest(event);
    const { requestId } = request;
    current.logger.addContext(context ?? ({} as Context));
    current.logger.appendKeys({
      requestId,
      route: `${request.method} ${request.routePath ?? request.path}`,
    });
    try {
      return await handle(request, current);
    } catch (error) {
      return problemResponse(error, current.deps.log, requestId);
    } finally {
      current.logger.removeKeys(['requestId', 'route']);
    }
  };
}
