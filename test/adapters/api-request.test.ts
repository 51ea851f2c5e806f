import { describe, expect, it } from 'vitest';
import { normalizeRequest } from '../../functions/adapters/http/api-request.js';
import { eventV1, eventV2 } from '../fixtures/api-gateway-events.js';

const spec = {
  path: '/v1/batch',
  headers: { 'Content-Type': 'text/plain', AUTHORIZATION: 'Basic a2V5Og==' },
  body: '{"batch":[]}',
};

describe('normalizeRequest', () => {
  it.each([
    { version: '1.0', event: eventV1({ ...spec, stage: 'dev' }) },
    { version: '2.0', event: eventV2({ ...spec, stage: 'dev' }) },
    { version: '2.0 $default', event: eventV2(spec) },
  ])('gives one shape for payload format $version', ({ event }) => {
    const request = normalizeRequest(event);

    expect(request).toMatchObject({
      method: 'POST',
      path: '/v1/batch',
      routePath: '/v1/batch',
      body: '{"batch":[]}',
      isBase64Encoded: false,
    });
    expect(request.headers).toEqual({
      'content-type': 'text/plain',
      authorization: 'Basic a2V5Og==',
    });
  });

  it.each([
    { version: '1.0', event: eventV1(spec) },
    { version: '2.0', event: eventV2(spec) },
  ])('keeps query names like Object members in $version', ({ event }) => {
    // API Gateway sends the event as JSON, whose parser makes __proto__
    // an own key.
    event.queryStringParameters = JSON.parse(
      '{"__proto__": "1", "constructor": "2"}',
    );

    const { queryParameters } = normalizeRequest(event);

    expect(Object.keys(queryParameters)).toEqual(['__proto__', 'constructor']);
    expect(
      Object.getOwnPropertyDescriptor(queryParameters, '__proto__')?.value,
    ).toBe('1');
    expect(queryParameters.constructor).toBe('2');
  });

  it('keeps the path of a stage it does not prefix', () => {
    const event = eventV1({ path: '/v1/t', stage: 'prod' });
    event.path = '/v1/t';

    expect(normalizeRequest(event).path).toBe('/v1/t');
  });

  it('leaves the route open behind a proxy resource', () => {
    const event = eventV1({ path: '/v1/t' });
    event.resource = '/{proxy+}';

    expect(normalizeRequest(event).routePath).toBeUndefined();
    expect(normalizeRequest(event).path).toBe('/v1/t');
  });

  it('leaves the route open on the $default route', () => {
    const event = eventV2({ path: '/v1/p' });
    event.routeKey = '$default';

    expect(normalizeRequest(event).routePath).toBeUndefined();
    expect(normalizeRequest(event).path).toBe('/v1/p');
  });

  it('joins repeated headers of format 1.0', () => {
    const event = eventV1({ path: '/v1/batch' });
    event.multiValueHeaders = { 'X-Retry-Count': ['1', '2'] };

    expect(normalizeRequest(event).headers['x-retry-count']).toBe('1,2');
  });

  it('lists query names repeated in format 2.0', () => {
    const event = eventV2({ path: '/leads/a/history' });
    event.rawQueryString = 'limit=1&cursor=x&limit=2&%6Cimit=3&a=1';
    event.queryStringParameters = { limit: '1,2,3', cursor: 'x', a: '1' };

    expect(normalizeRequest(event).repeatedQueryNames).toEqual(['limit']);
  });

  it('lists query names repeated in format 1.0', () => {
    const event = eventV1({ path: '/leads/a/history' });
    event.multiValueQueryStringParameters = { limit: ['1', '2'], a: ['1'] };

    expect(normalizeRequest(event).repeatedQueryNames).toEqual(['limit']);
  });
});
