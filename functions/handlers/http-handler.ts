import type { Context } from 'aws-lambda';
import {
  type ApiGatewayEvent,
  type ApiRequest,
  normalizeRequest,
} from '../adapters/http/api-request.js';
import { problemResponse } from '../adapters/http/problem.js';
import type { HttpResponse } from '../adapters/http/responses.js';
import { flushMetrics } from '../adapters/observability/metrics.js';
import { traceRequest } from '../adapters/observability/tracing.js';
import {
  type Invocation,
  type Runtime,
  runtime,
  startInvocation,
} from '../adapters/runtime.js';

type RouteHandler<R extends Runtime> = (
  request: ApiRequest,
  invocation: Invocation<R>,
) => Promise<HttpResponse>;

type HttpHandler = (
  event: ApiGatewayEvent,
  context?: Context,
) => Promise<HttpResponse>;

/**
 * Wraps a route handler. It accepts both API Gateway payload formats and
 * builds the runtime once. Each call gets a child logger that labels its
 * lines with the API Gateway request id (`correlation_id`) and the route.
 * It traces the call, converts every error to problem+json in one place
 * and flushes the metrics the call recorded. The trace flags a 4xx as a
 * client error, not as a fault. `loadRuntime` returns the runtime of the
 * function, runtime() unless the function adds components of its own.
 */
export function httpHandler(handle: RouteHandler<Runtime>): HttpHandler;
export function httpHandler<R extends Runtime>(
  handle: RouteHandler<R>,
  loadRuntime: () => Promise<R>,
): HttpHandler;
export function httpHandler(
  handle: RouteHandler<Runtime>,
  loadRuntime: () => Promise<Runtime> = runtime,
): HttpHandler {
  return async (event, context) => {
    const request = normalizeRequest(event);
    const { requestId } = request;
    const route = `${request.method} ${request.routePath ?? request.path}`;
    const invocation = startInvocation(
      await loadRuntime(),
      { correlation_id: requestId, route },
      context,
    );
    const respondToError = (error: unknown) =>
      problemResponse(error, invocation.deps.log, requestId);
    try {
      await invocation.ready();
      return await traceRequest(
        invocation.tracer,
        route,
        () => handle(request, invocation),
        respondToError,
      );
    } catch (error) {
      return respondToError(error);
    } finally {
      flushMetrics(invocation.metrics);
    }
  };
}
