/**
 * Routes of the HTTP API, shared by the CDK stack and the local server so
 * that both expose the same paths with the same handlers and auth.
 */

/** Lambda handler modules under functions/handlers/. */
export type HandlerName = 'ingest' | 'leads';

/**
 * How a route authenticates: `write-key` routes check the tracking write
 * key in the handler; `admin` routes are authorized before the handler (by
 * IAM in AWS, by a bearer token in the local server).
 */
export type RouteAuth = 'write-key' | 'admin';

export interface ApiRoute {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  /** Path template in API Gateway syntax, such as `/leads/{leadId}`. */
  path: string;
  handler: HandlerName;
  auth: RouteAuth;
}

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'POST', path: '/v1/batch', handler: 'ingest', auth: 'write-key' },
  { method: 'GET', path: '/leads/{leadId}', handler: 'leads', auth: 'admin' },
];
