import type { Context } from 'aws-lambda';
import {
  type ApiGatewayEvent,
  type ApiRequest,
  normalizeRequest,
} from '../adapters/http/api-request.js';
import { problemResponse } from '../adapters/http/problem.js';
import type { HttpResponse } from '../adapters/http/responses.js';
import { flushMetrics } from '../adapters/observability/metrics.js';
import { traceHandler } from '../adapters/observability/tracing.js';
import { type Runtime, runtime } from '../adapters/runtime.js';

type RouteHandler = (
  request: ApiRequest,
  runtime: Runtime,
) => Promise<HttpResponse>;

/**
 * Wraps a route handler: accepts both API Gateway payload formats,
 * builds the runtime once, uses the API Gateway request id as the
 * correlation id of every log line, traces the call, answers every error
 * as problem+json in one place and flushes the metrics the handler
 * recorded.
 */
export function httpHandler(handle: RouteHandler) {
  return async (
    event: ApiGatewayEvent,
    context?: Context,
  ): Promise<HttpResponse> => {
    const current = runtime();
    const request = normalizeRequest(event);
    const { requestId } = request;
    const route = `${request.method} ${request.routePath ?? request.path}`;
    current.logger.addContext(context ?? ({} as Context));
    current.logger.setCorrelationId(requestId);
    current.logger.appendKeys({ route });
    try {
      await current.ready();
      return await traceHandler(current.tracer, route, () =>
        handle(request, current),
      );
    } catch (error) {
      return problemResponse(error, current.deps.log, requestId);
    } finally {
      flushMetrics(current.metrics);
      current.logger.removeKeys(['correlation_id', 'route']);
    }
  };
}
