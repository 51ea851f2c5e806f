import { describe, expect, it } from 'vitest';
import {
  isLoopbackEndpoint,
  isLoopbackHost,
  isLoopbackHostHeader,
} from '../../local/loopback.js';

describe('isLoopbackHost', () => {
  it.each([
    'localhost',
    'LOCALHOST.',
    'db.localhost',
    '::1',
    '[::1]',
    '127.0.0.1',
    '127.255.0.9',
    '::ffff:127.0.0.1',
    '[::ffff:7f00:1]',
    '127.1',
    '0x7f.1',
    '2130706433',
  ])('reads %s as loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    '0.0.0.0',
    '10.0.0.1',
    '128.0.0.1',
    'localhost.example',
    '::',
    '::ffff:10.0.0.1',
    '[::ffff:a00:1]',
    '0x80.1',
    '127.0.0.1.example',
    'a b',
  ])('reads %s as another host', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('isLoopbackEndpoint', () => {
  it.each(['http://127.1:8000', 'http://0x7f000001:8000', 'http://[::1]:1'])(
    'reads the shorthand %s as loopback',
    (endpoint) => {
      expect(isLoopbackEndpoint(endpoint)).toBe(true);
    },
  );

  it('reads an AWS endpoint as another host', () => {
    expect(isLoopbackEndpoint('https://dynamodb.us-east-1.amazonaws.com')).toBe(
      false,
    );
  });
});

describe('isLoopbackHostHeader', () => {
  it.each([
    '127.0.0.1:3000',
    'localhost',
    '[::1]:3000',
    '127.1:3000',
    '2130706433',
    '[0:0:0:0:0:0:0:1]:3000',
    '[::ffff:127.0.0.1]:3000',
    'localhost:65535',
  ])('reads the Host %s as loopback', (value) => {
    // Python's urllib sends the host of its URL as typed.
    expect(isLoopbackHostHeader(value)).toBe(true);
  });

  it.each([
    'evil.example',
    '127.0.0.1.evil.example',
    'localhost@evil.example',
    '127.0.0.1:3000/x',
    '127.0.0.1:port',
    '[::1',
    '127.0.0.1:65536',
    'localhost:99999',
  ])('reads the Host %s as another host', (value) => {
    expect(isLoopbackHostHeader(value)).toBe(false);
  });
});
