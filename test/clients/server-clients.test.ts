import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics as SegmentAnalytics } from '@segment/analytics-node';
import LegacyAnalytics from 'analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestResult } from '../../functions/use-cases/ingest-messages.js';
import {
  type FirstAnswer,
  type ForwardedRequest,
  type RecordingForwarder,
  startRecordingForwarder,
} from '../support/recording-forwarder.js';
import {
  type LocalApi,
  startTrackingBackend,
  type TrackingBackend,
  WRITE_KEY,
} from '../support/tracking-api.js';
import { batchMessageIds, CALL_TYPES, leadCalls } from './fixtures.js';

let backend: TrackingBackend;
let api: LocalApi;
/** A REST API stage `dev`: payload format 1.0, paths under /dev. */
let stagedApi: LocalApi;
const forwarders: RecordingForwarder[] = [];

beforeAll(async () => {
  backend = await startTrackingBackend();
  [api, stagedApi] = await Promise.all([
    backend.startApi(),
    backend.startApi({ payloadVersion: '1.0', stage: 'dev' }),
  ]);
});

afterAll(async () => {
  await Promise.all(forwarders.map((forwarder) => forwarder.stop()));
  await backend?.stop();
});

async function forwarder(firstAnswer: FirstAnswer, holdMs = 0) {
  const started = await startRecordingForwarder(api.url, {
    firstAnswer,
    holdMs,
  });
  forwarders.push(started);
  return started;
}

async function storedTypes(userId: string): Promise<string[]> {
  const events = await backend.storedEvents(userId);
  return events.map((stored) => stored.type).sort();
}

/** Sends leadCalls through @segment/analytics-node and waits for delivery. */
async function sendWithSegment(
  userId: string,
  settings: { host: string; path?: string; httpRequestTimeout?: number },
) {
  const analytics = new SegmentAnalytics({
    writeKey: WRITE_KEY,
    flushInterval: 50,
    maxRetries: 3,
    ...settings,
  });
  const errors: unknown[] = [];
  const sentIds: string[][] = [];
  analytics.on('error', (error) => errors.push(error));
  analytics.on('http_request', (request) => {
    sentIds.push(batchMessageIds(JSON.parse(request.body as string)));
  });
  const calls = leadCalls(userId);
  analytics.identify(calls.identify);
  analytics.page(calls.page);
  analytics.track(calls.track);
  analytics.group(calls.group);
  analytics.alias(calls.alias);
  await analytics.closeAndFlush({ timeout: 15_000 });
  return { errors, sentIds };
}

describe('@segment/analytics-node', () => {
  it('stores every call type in one batch', async () => {
    const { errors, sentIds } = await sendWithSegment('segment-node-1', {
      host: api.url,
    });

    expect(errors).toEqual([]);
    expect(sentIds).toHaveLength(1);
    const stored = await backend.storedEvents('segment-node-1');
    expect(stored.map((event) => event.type).sort()).toEqual(
      [...CALL_TYPES].sort(),
    );
    expect(stored.map((event) => event.messageId).sort()).toEqual(
      [...(sentIds[0] ?? [])].sort(),
    );
    expect(stored.every((event) => event.sourceId === 'default')).toBe(true);
  });

  it('reaches a stage prefix through its path option', async () => {
    const { errors } = await sendWithSegment('segment-node-staged', {
      host: stagedApi.url,
      path: '/dev/v1/batch',
    });

    expect(errors).toEqual([]);
    expect(await storedTypes('segment-node-staged')).toEqual(
      [...CALL_TYPES].sort(),
    );
  });

  it('drops a stage prefix given in its host option', async () => {
    const { errors } = await sendWithSegment('segment-node-host-path', {
      host: `${stagedApi.url}/dev`,
    });

    expect(errors.length).toBeGreaterThan(0);
    expect(await storedTypes('segment-node-host-path')).toEqual([]);
  });

  it('stores a batch retried after a timeout once', async () => {
    const slow = await forwarder('timeout', 3000);

    const { errors } = await sendWithSegment('segment-node-retry', {
      host: slow.url,
      httpRequestTimeout: 1500,
    });

    expect(errors).toEqual([]);
    const [first, retry] = slow.requests;
    expect(slow.requests).toHaveLength(2);
    expect(batchMessageIds(retry?.json)).toEqual(batchMessageIds(first?.json));
    expect(retry?.headers['x-retry-count']).toBe('1');
    // The retry can reach the API before the first request is stored, so
    // either copy may be the one that scores.
    const scored =
      (countsOf(first)?.scored ?? 0) + (countsOf(retry)?.scored ?? 0);
    const duplicate =
      (countsOf(first)?.duplicate ?? 0) + (countsOf(retry)?.duplicate ?? 0);
    expect(scored).toBe(5);
    expect(duplicate).toBe(5);
    expect(countsOf(retry)?.rejected).toBe(0);
    expect(await storedTypes('segment-node-retry')).toHaveLength(5);
  });
});

/**
 * Returns the forwarded requests that carry the same message ids as the
 * request at `index`: that request and its retries. These clients send
 * their first call alone, so a retried batch is not the only one.
 */
function requestsLike(forwarder: RecordingForwarder, index: number) {
  const ids = batchMessageIds(forwarder.requests[index]?.json).join();
  return forwarder.requests.filter(
    (request) => batchMessageIds(request.json).join() === ids,
  );
}

type Call = Record<string, unknown>;

function countsOf(request: ForwardedRequest | undefined) {
  return (request?.response as IngestResult | undefined)?.counts;
}

/** The five calls of a client whose methods take a delivery callback. */
interface CallbackClient {
  identify(message: Call, callback: (error?: Error) => void): unknown;
  page(message: Call, callback: (error?: Error) => void): unknown;
  track(message: Call, callback: (error?: Error) => void): unknown;
  group(message: Call, callback: (error?: Error) => void): unknown;
  alias(message: Call, callback: (error?: Error) => void): unknown;
}

/** Sends the calls and resolves with each delivery error, once all are in. */
async function sendWithCallbacks(
  client: CallbackClient,
  calls: Record<(typeof CALL_TYPES)[number], Call>,
): Promise<Array<Error | undefined>> {
  return Promise.all(
    CALL_TYPES.map(
      (type) =>
        new Promise<Error | undefined>((resolve) => {
          client[type](calls[type], (error) => resolve(error ?? undefined));
        }),
    ),
  );
}

function legacyClient(host: string, errors: Error[]): CallbackClient {
  return new LegacyAnalytics(WRITE_KEY, {
    host,
    flushAt: 20,
    flushInterval: 50,
    errorHandler: (error) => errors.push(error),
  }) as unknown as CallbackClient;
}

describe('analytics-node (legacy)', () => {
  it('stores every call type', async () => {
    const errors: Error[] = [];

    const results = await sendWithCallbacks(
      legacyClient(api.url, errors),
      leadCalls('legacy-node-1'),
    );

    expect(results).toEqual(CALL_TYPES.map(() => undefined));
    expect(errors).toEqual([]);
    expect(await storedTypes('legacy-node-1')).toEqual([...CALL_TYPES].sort());
  });

  it('keeps stage prefix in host option', async () => {
    const errors: Error[] = [];

    const results = await sendWithCallbacks(
      legacyClient(`${stagedApi.url}/dev`, errors),
      leadCalls('legacy-node-staged'),
    );

    expect(results).toEqual(CALL_TYPES.map(() => undefined));
    expect(errors).toEqual([]);
    expect(await storedTypes('legacy-node-staged')).toEqual(
      [...CALL_TYPES].sort(),
    );
  });

  it('stores a batch retried after a 503 once', async () => {
    const failing = await forwarder(503);
    const errors: Error[] = [];

    await sendWithCallbacks(
      legacyClient(failing.url, errors),
      leadCalls('legacy-node-retry'),
    );

    expect(errors).toEqual([]);
    const retried = requestsLike(failing, 0);
    expect(retried).toHaveLength(2);
    const firstIds = batchMessageIds(retried[0]?.json);
    expect(countsOf(retried[1])).toEqual({
      scored: 0,
      duplicate: firstIds.length,
      rejected: 0,
    });
    expect(await storedTypes('legacy-node-retry')).toHaveLength(5);
  });
});

function rudderClient(dataPlaneUrl: string, errors: Error[]): CallbackClient {
  return new RudderAnalytics(WRITE_KEY, {
    dataPlaneUrl,
    flushAt: 20,
    flushInterval: 50,
    logLevel: 'error',
    errorHandler: (error) => errors.push(error),
  }) as unknown as CallbackClient;
}

describe('@rudderstack/rudder-sdk-node', () => {
  it('stores every call type at its originalTimestamp', async () => {
    const errors: Error[] = [];
    const calls = leadCalls('rudder-node-1');
    const originalTimestamp = new Date(Date.now() - 3_600_000);

    await sendWithCallbacks(rudderClient(api.url, errors), {
      ...calls,
      track: { ...calls.track, originalTimestamp },
    });

    expect(errors).toEqual([]);
    const stored = await backend.storedEvents('rudder-node-1');
    expect(stored.map((event) => event.type).sort()).toEqual(
      [...CALL_TYPES].sort(),
    );
    const track = stored.find((event) => event.type === 'track');
    expect(track?.occurredAt).toBe(originalTimestamp.getTime());
  });

  it('keeps stage prefix in dataPlaneUrl', async () => {
    const errors: Error[] = [];

    const results = await sendWithCallbacks(
      rudderClient(`${stagedApi.url}/dev`, errors),
      leadCalls('rudder-node-staged'),
    );

    expect(results).toEqual(CALL_TYPES.map(() => undefined));
    expect(errors).toEqual([]);
    expect(await storedTypes('rudder-node-staged')).toEqual(
      [...CALL_TYPES].sort(),
    );
  });

  it('sends gzip labelled as form data, stored once on retry', async () => {
    const failing = await forwarder(503);
    const errors: Error[] = [];

    await sendWithCallbacks(
      rudderClient(failing.url, errors),
      leadCalls('rudder-node-retry'),
    );

    expect(errors).toEqual([]);
    const first = failing.requests[0];
    expect(first?.headers['content-encoding']).toBe('gzip');
    expect(first?.headers['content-type']).toBe(
      'application/x-www-form-urlencoded',
    );
    const messages = (first?.json as { batch?: Call[] } | undefined)?.batch;
    expect(messages?.[0]).toHaveProperty('originalTimestamp');
    expect(messages?.[0]).not.toHaveProperty('timestamp');
    const retried = requestsLike(failing, 0);
    expect(retried).toHaveLength(2);
    expect(countsOf(retried[1])?.scored).toBe(0);
    expect(await storedTypes('rudder-node-retry')).toHaveLength(5);
  });
});

interface FlushingClient {
  track(message: Call, callback: (error?: Error) => void): unknown;
  flush(): unknown;
}

/** Builds a client that flushes only on its flushAt or an explicit flush. */
type LargeMessageClient = (
  flushAt: number | undefined,
  errors: Error[],
) => FlushingClient;

const largeMessageClients: Array<[string, LargeMessageClient]> = [
  [
    '@rudderstack/rudder-sdk-node',
    (flushAt, errors) =>
      new RudderAnalytics(WRITE_KEY, {
        dataPlaneUrl: api.url,
        flushInterval: 60_000,
        logLevel: 'error',
        ...(flushAt === undefined ? {} : { flushAt }),
        errorHandler: (error) => errors.push(error),
      }),
  ],
  [
    'analytics-node (legacy)',
    (flushAt, errors) =>
      new LegacyAnalytics(WRITE_KEY, {
        host: api.url,
        flushInterval: 60_000,
        ...(flushAt === undefined ? {} : { flushAt }),
        errorHandler: (error) => errors.push(error),
      }) as unknown as FlushingClient,
  ],
];

describe.each(largeMessageClients)('%s with large messages', (name, create) => {
  // Each message is 30 KB of UTF-8, within the 32 KB limit, but the
  // client's default flushAt of 20 sends 600 KB, above the 500 KB limit.
  // Its maxQueueSize (rudder-sdk-node 3.0.13, analytics-node 6.2.0) does
  // not prevent that. It counts UTF-16 code units, where a CJK character
  // is one unit but 3 bytes, and a flush that waits for an earlier one
  // takes up to flushAt messages whatever their size.
  const COUNT = 40;
  const text = '調達'.repeat(5000);
  const prefix = name.replace(/\W+/g, '-');

  async function sendLargeTracks(userPrefix: string, flushAt?: number) {
    const errors: Error[] = [];
    const client = create(flushAt, errors);
    const results = await Promise.all(
      Array.from(
        { length: COUNT },
        (_, index) =>
          new Promise<Error | undefined>((resolve) => {
            client.track(
              {
                userId: `${userPrefix}-${index}`,
                event: 'Pricing Viewed',
                properties: { text },
              },
              (error) => resolve(error ?? undefined),
            );
            if (index === COUNT - 1) client.flush();
          }),
      ),
    );
    return { errors, results };
  }

  it('loses a batch at default flushAt', async () => {
    const { errors } = await sendLargeTracks(`${prefix}-default`);

    expect(errors.map((error) => error.message)).toContain(
      'Request failed with status code 413',
    );
  });

  it('stores every message at flushAt 15', async () => {
    const userPrefix = `${prefix}-15`;
    const { errors, results } = await sendLargeTracks(userPrefix, 15);

    expect(errors).toEqual([]);
    expect(results.filter((error) => error !== undefined)).toEqual([]);
    for (const index of [0, COUNT / 2, COUNT - 1]) {
      expect(await storedTypes(`${userPrefix}-${index}`)).toEqual(['track']);
    }
  });
});
