import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  type CorsPreflightOptions,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpIamAuthorizer,
  HttpJwtAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  API_ROUTES,
  type ApiRoute,
  type HandlerName,
} from '../definitions/api-routes.js';
import {
  CORS_ALLOWED_HEADERS,
  CORS_ALLOWED_METHODS,
  CORS_EXPOSED_HEADERS,
  CORS_MAX_AGE_SECONDS,
} from '../definitions/cors.js';
import type { AdminAuth } from '../stage-settings.js';

export interface TrackingApiProps {
  /** API name shown in the console. @default - the construct path */
  apiName?: string;
  /** Returns the function that serves a handler module. */
  handlerFunction: (name: HandlerName) => IFunction;
  /** Routes to create. @default API_ROUTES */
  routes?: readonly ApiRoute[];
  /**
   * Origins whose pages may call the API from a browser; API Gateway
   * answers their preflight requests. @default - none, CORS is off
   */
  corsAllowedOrigins?: readonly string[];
  /** Default throttling of every route. @default - the account limits */
  throttling?: ThrottleSettings;
  /** Retention of the access logs. @default RetentionDays.TWO_WEEKS */
  logRetention?: RetentionDays;
  /** Keep the access log group when the stack is deleted. @default false */
  retainLogs?: boolean;
  /** Authorization of the admin routes. @default { type: 'iam' } */
  adminAuth?: AdminAuth;
}

/**
 * Access log line: ids, route and outcome, with no client address or
 * request content, so tracking visitors leave no personal data here.
 */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationError: '$context.integrationErrorMessage',
  principal: '$context.identity.userArn',
};

/**
 * The HTTP API in front of the functions, built from the shared route
 * definitions. Write-key routes have no API Gateway authorizer because
 * their handler verifies the write key. Admin routes require IAM (SigV4)
 * or a JWT from the configured issuer, so a write key never reaches them.
 */
export class TrackingApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: TrackingApiProps) {
    super(scope, id);
    this.httpApi = new HttpApi(this, 'Api', {
      apiName: props.apiName,
      createDefaultStage: false,
      corsPreflight: corsPreflight(props.corsAllowedOrigins ?? []),
    });
    this.stage = this.createStage(props);
    this.addRoutes(props);
  }

  /** URL of the API's default stage, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }

  private createStage(props: TrackingApiProps): HttpStage {
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.TWO_WEEKS,
      removalPolicy: props.retainLogs
        ? RemovalPolicy.RETAIN
        : RemovalPolicy.DESTROY,
    });
    return new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttling,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
  }

  private addRoutes(props: TrackingApiProps): void {
    const adminAuth = adminAuthorization(props.adminAuth);
    const integrations = new Map<HandlerName, HttpLambdaIntegration>();
    const integrationOf = (handler: HandlerName) => {
      const integration =
        integrations.get(handler) ??
        new HttpLambdaIntegration(
          `${handler}Integration`,
          props.handlerFunction(handler),
        );
      integrations.set(handler, integration);
      return integration;
    };
    for (const route of props.routes ?? API_ROUTES) {
      const httpRoute = new HttpRoute(this, `${route.method}${route.path}`, {
        httpApi: this.httpApi,
        routeKey: HttpRouteKey.with(route.path, HttpMethod[route.method]),
        integration: integrationOf(route.handler),
        ...(route.auth === 'admin'
          ? adminAuth[adminRouteKind(route)]
          : { authorizer: new HttpNoneAuthorizer() }),
      });
      if (route.auth === 'write-key') suppressAuthorizerFinding(httpRoute);
    }
  }
}

/**
 * Returns API Gateway's built-in CORS settings, which answer preflight
 * requests without calling a function, or undefined when no origin is
 * allowed.
 */
function corsPreflight(
  origins: readonly string[],
): CorsPreflightOptions | undefined {
  if (origins.length === 0) {
    return undefined;
  }
  return {
    allowOrigins: [...origins],
    allowMethods: CORS_ALLOWED_METHODS.map((method) => CorsHttpMethod[method]),
    allowHeaders: [...CORS_ALLOWED_HEADERS],
    exposeHeaders: [...CORS_EXPOSED_HEADERS],
    maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
  };
}

interface RouteAuthorization {
  authorizer: IHttpRouteAuthorizer;
  authorizationScopes?: string[];
}

/**
 * Kind of an admin route: `read` for GET, `write` for every other method,
 * such as DELETE /leads/{leadId} and POST /leads/{leadId}/disposition.
 */
type AdminRouteKind = 'read' | 'write';

function adminRouteKind(route: ApiRoute): AdminRouteKind {
  return route.method === 'GET' ? 'read' : 'write';
}

/**
 * Returns the authorization of each kind of admin route. Both kinds share
 * one authorizer. With `writeScopes`, the routes that change data require
 * one of them instead of `scopes`.
 */
function adminAuthorization(
  auth: AdminAuth = { type: 'iam' },
): Record<AdminRouteKind, RouteAuthorization> {
  if (auth.type === 'iam') {
    const authorization = { authorizer: new HttpIamAuthorizer() };
    return { read: authorization, write: authorization };
  }
  const authorizer = new HttpJwtAuthorizer('AdminJwt', auth.issuer, {
    jwtAudience: auth.audience,
  });
  return {
    read: withScopes(authorizer, auth.scopes),
    write: withScopes(authorizer, auth.writeScopes ?? auth.scopes),
  };
}

/** Returns a JWT route authorization, with scopes only when there are any. */
function withScopes(
  authorizer: IHttpRouteAuthorizer,
  scopes: readonly string[],
): RouteAuthorization {
  return scopes.length > 0
    ? { authorizer, authorizationScopes: [...scopes] }
    : { authorizer };
}

function suppressAuthorizerFinding(route: HttpRoute): void {
  Validations.of(route).acknowledge({
    id: 'AwsSolutions-APIG4',
    reason:
      'Tracking clients authenticate with a write key, which the ingest handler verifies against SHA-256 digests before it stores anything.',
  });
}
