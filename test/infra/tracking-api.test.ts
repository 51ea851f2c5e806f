import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  Code,
  Function as LambdaFunction,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { TrackingApi } from '../../lib/constructs/tracking-api.js';
import { API_ROUTES } from '../../lib/definitions/api-routes.js';
import type { AdminAuth } from '../../lib/stage-settings.js';
import { resourcesOfType } from './support/template.js';

const ISSUER = 'https://login.example.com/';

/** Route keys of the admin routes, split by whether they change data. */
const ADMIN_ROUTES = API_ROUTES.filter((route) => route.auth === 'admin');
const READ_ROUTE_KEYS = ADMIN_ROUTES.filter(
  (route) => route.method === 'GET',
).map((route) => `${route.method} ${route.path}`);
const WRITE_ROUTE_KEYS = ADMIN_ROUTES.filter(
  (route) => route.method !== 'GET',
).map((route) => `${route.method} ${route.path}`);

/** Returns a stack of one TrackingApi whose routes all call one function. */
function templateWith(adminAuth: AdminAuth): Template {
  const stack = new Stack(new App(), 'Api');
  const handler = new LambdaFunction(stack, 'Handler', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => ({});'),
  });
  new TrackingApi(stack, 'Api', {
    handlerFunction: () => handler,
    adminAuth,
  });
  return Template.fromStack(stack);
}

/** Returns the AuthorizationScopes of each route, by route key. */
function scopesByRouteKey(template: Template): Map<string, unknown> {
  return new Map(
    resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map((route) => [
      route.Properties.RouteKey,
      route.Properties.AuthorizationScopes,
    ]),
  );
}

describe('TrackingApi admin scopes', () => {
  it('splits admin routes by method', () => {
    expect(WRITE_ROUTE_KEYS.sort()).toEqual([
      'DELETE /leads/{leadId}',
      'POST /leads/{leadId}/disposition',
      'POST /leads/{leadId}/recycle',
    ]);
    expect(READ_ROUTE_KEYS).not.toHaveLength(0);
  });

  it('puts scopes everywhere without writeScopes', () => {
    const scopes = scopesByRouteKey(
      templateWith({
        type: 'jwt',
        issuer: ISSUER,
        audience: ['mql-engine'],
        scopes: ['leads:read', 'leads:admin'],
      }),
    );

    for (const key of [...READ_ROUTE_KEYS, ...WRITE_ROUTE_KEYS]) {
      expect(scopes.get(key), key).toEqual(['leads:read', 'leads:admin']);
    }
  });

  it('puts writeScopes on write routes', () => {
    const scopes = scopesByRouteKey(
      templateWith({
        type: 'jwt',
        issuer: ISSUER,
        audience: ['mql-engine'],
        scopes: ['leads:read'],
        writeScopes: ['leads:write', 'leads:admin'],
      }),
    );

    for (const key of READ_ROUTE_KEYS) {
      expect(scopes.get(key), key).toEqual(['leads:read']);
    }
    for (const key of WRITE_ROUTE_KEYS) {
      expect(scopes.get(key), key).toEqual(['leads:write', 'leads:admin']);
    }
  });

  it('leaves reads unscoped with only writeScopes', () => {
    const scopes = scopesByRouteKey(
      templateWith({
        type: 'jwt',
        issuer: ISSUER,
        audience: ['mql-engine'],
        scopes: [],
        writeScopes: ['leads:write'],
      }),
    );

    for (const key of READ_ROUTE_KEYS) {
      expect(scopes.get(key), key).toBeUndefined();
    }
    for (const key of WRITE_ROUTE_KEYS) {
      expect(scopes.get(key), key).toEqual(['leads:write']);
    }
  });

  it('reads and writes share one authorizer', () => {
    const template = templateWith({
      type: 'jwt',
      issuer: ISSUER,
      audience: ['mql-engine'],
      scopes: ['leads:read'],
      writeScopes: ['leads:write'],
    });
    const authorizerIds = resourcesOfType(template, 'AWS::ApiGatewayV2::Route')
      .filter((route) => route.Properties.AuthorizationType === 'JWT')
      .map((route) => JSON.stringify(route.Properties.AuthorizerId));

    expect(
      resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer'),
    ).toHaveLength(1);
    expect(authorizerIds).toHaveLength(ADMIN_ROUTES.length);
    expect(new Set(authorizerIds).size).toBe(1);
  });

  it('sets no scopes with IAM authorization', () => {
    const template = templateWith({ type: 'iam' });

    for (const route of resourcesOfType(template, 'AWS::ApiGatewayV2::Route')) {
      expect(route.Properties.AuthorizationScopes).toBeUndefined();
    }
  });
});
