import { describe, expect, it } from 'vitest';
import {
  bodyWriteKey,
  messagesOf,
  sentMessagesOf,
} from '../../functions/adapters/http/tracking-body.js';
import { trackingPayloadOf } from '../../functions/adapters/http/tracking-routes.js';
import { ValidationError } from '../../functions/domain/errors.js';

const SENT_AT = '2026-06-01T12:00:00.000Z';

describe('messagesOf', () => {
  it('gives batch messages the batch sentAt', () => {
    const messages = messagesOf(
      {
        sentAt: SENT_AT,
        batch: [
          { type: 'track', event: 'a' },
          { type: 'track', event: 'b', sentAt: '2026-06-01T11:00:00.000Z' },
        ],
      },
      'batch',
    );

    expect(messages).toEqual([
      { type: 'track', event: 'a', sentAt: SENT_AT },
      { type: 'track', event: 'b', sentAt: '2026-06-01T11:00:00.000Z' },
    ]);
  });

  it('gives the batch sentAt to a null sentAt', () => {
    const messages = messagesOf(
      { sentAt: SENT_AT, batch: [{ type: 'track', event: 'a', sentAt: null }] },
      'batch',
    );

    expect(messages).toEqual([{ type: 'track', event: 'a', sentAt: SENT_AT }]);
  });

  it('removes the write key from every message', () => {
    const batch = messagesOf(
      { writeKey: 'k', batch: [{ type: 'page', writeKey: 'k' }] },
      'batch',
    );
    const single = messagesOf({ event: 'a', writeKey: 'k' }, 'track');

    expect(batch).toEqual([{ type: 'page' }]);
    expect(single).toEqual([{ event: 'a', type: 'track' }]);
  });

  it('keeps a non-object batch entry for rejection', () => {
    expect(messagesOf({ batch: [42] }, 'batch')).toEqual([42]);
  });

  it('sets the type of a single call from the route', () => {
    expect(messagesOf({ type: 'page', event: 'a' }, 'track')).toEqual([
      { type: 'track', event: 'a' },
    ]);
  });

  it('points a batch on a single route to /v1/batch', () => {
    const body = { batch: [{ type: 'track', event: 'a', userId: 'u' }] };
    let raised: unknown;
    try {
      messagesOf(body, 'track');
    } catch (error) {
      raised = error;
    }

    expect(raised).toBeInstanceOf(ValidationError);
    const error = raised as ValidationError;
    expect(error.message).toContain('Send batches to /v1/batch');
    expect(error.issues).toEqual([expect.objectContaining({ field: 'batch' })]);
  });

  it.each([
    { payload: 'batch', body: { messages: [] } },
    { payload: 'batch', body: [] },
    { payload: 'track', body: [{ event: 'a' }] },
    { payload: 'identify', body: 'text' },
  ] as const)('raises on $payload body $body', ({ payload, body }) => {
    expect(() => messagesOf(body, payload)).toThrow(ValidationError);
  });

  it.each([
    { payload: 'track', expected: 'must be a track message object' },
    { payload: 'identify', expected: 'must be an identify message object' },
    { payload: 'alias', expected: 'must be an alias message object' },
  ] as const)('names $payload with its article', ({ payload, expected }) => {
    let raised: unknown;
    try {
      messagesOf(null, payload);
    } catch (error) {
      raised = error;
    }

    expect(raised).toBeInstanceOf(ValidationError);
    expect((raised as ValidationError).issues).toEqual([
      { field: '(root)', message: expected },
    ]);
  });
});

describe('sentMessagesOf', () => {
  it('leaves out the batch sentAt', () => {
    const messages = sentMessagesOf(
      { sentAt: SENT_AT, batch: [{ type: 'track', event: 'a' }, 42] },
      'batch',
    );

    expect(messages).toEqual([{ type: 'track', event: 'a' }, 42]);
  });

  it('keeps a null sentAt of a message', () => {
    const messages = sentMessagesOf(
      { sentAt: SENT_AT, batch: [{ type: 'track', sentAt: null }] },
      'batch',
    );

    expect(messages).toEqual([{ type: 'track', sentAt: null }]);
  });

  it('keeps the type a single call sent', () => {
    expect(sentMessagesOf({ event: 'a' }, 'track')).toEqual([{ event: 'a' }]);
    expect(sentMessagesOf({ type: 'page' }, 'track')).toEqual([
      { type: 'page' },
    ]);
  });

  it('removes the write key', () => {
    const batch = sentMessagesOf(
      { writeKey: 'k', batch: [{ type: 'page', writeKey: 'k' }] },
      'batch',
    );
    const single = sentMessagesOf({ event: 'a', writeKey: 'k' }, 'track');

    expect(batch).toEqual([{ type: 'page' }]);
    expect(single).toEqual([{ event: 'a' }]);
  });
});

describe('bodyWriteKey', () => {
  it.each([
    { body: { writeKey: 'k' }, key: 'k' },
    { body: { writeKey: '' }, key: undefined },
    { body: { writeKey: 7 }, key: undefined },
    { body: [], key: undefined },
  ])('returns $key for $body', ({ body, key }) => {
    expect(bodyWriteKey(body)).toBe(key);
  });
});

describe('trackingPayloadOf', () => {
  it.each([
    { path: '/v1/batch', payload: 'batch' },
    { path: '/v1/b/', payload: 'batch' },
    { path: '/v1/t', payload: 'track' },
    { path: '/tracking/v1/identify', payload: 'identify' },
    { path: '/v1/m', payload: undefined },
    { path: '/leads/jane', payload: undefined },
  ])('maps $path to $payload', ({ path, payload }) => {
    expect(trackingPayloadOf(path)).toBe(payload);
  });
});
