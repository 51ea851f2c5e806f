import { TRACKING_ROUTES } from '../../functions/adapters/http/tracking-routes.js';

/**
 * Routes of the HTTP API, shared by the CDK stack and the local server so
 * that both expose the same paths with the same handlers and auth.
 */

/** Lambda handler modules under functions/handlers/. */
export type HandlerName = 'ingest' | 'leads' | 'recycle';

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

/** Every Segment tracking path, each served by the ingest handler. */
const TRACKING_API_ROUTES: readonly ApiRoute[] = Object.keys(
  TRACKING_ROUTES,
).map((path) => ({
  method: 'POST',
  path,
  handler: 'ingest',
  auth: 'write-key',
}));

export const API_ROUTES: readonly ApiRoute[] = [
  ...TRACKING_API_ROUTES,
  { method: 'GET', path: '/leads/{leadId}', handler: 'leads', auth: 'admin' },
  {
    method: 'DELETE',
    path: '/leads/{leadId}',
    handler: 'recycle',
    auth: 'admin',
  },
  {
    method: 'GET',
    path: '/leads/{leadId}/history',
    handler: 'leads',
    auth: 'admin',
  },
  {
    method: 'GET',
    path: '/accounts/{accountId}',
    handler: 'leads',
    auth: 'admin',
  },
  {
    method: 'POST',
    path: '/leads/{leadId}/recycle',
    handler: 'recycle',
    auth: 'admin',
  },
  {
    method: 'POST',
    path: '/leads/{leadId}/disposition',
    handler: 'recycle',
    auth: 'admin',
  },
];
