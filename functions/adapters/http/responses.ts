import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * A handler's response. Without cookies it is also a valid payload format
 * 1.0 response, so one shape serves both API Gateway formats.
 */
export type HttpResponse = APIGatewayProxyStructuredResultV2;

/** Returns a JSON response. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}
