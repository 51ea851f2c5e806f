import type { IncomingMessage } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalApi,
  startTrackingBackend,
  type TrackingBackend,
  WRITE_KEY,
} from '../support/tracking-api.js';
import { launchChromium } from './browser/chromium.js';
import {
  bundleAnalytics,
  startTrackingPage,
  type TrackingPage,
} from './browser/page.js';

/** What the API saw of one request. */
interface SeenRequest {
  method: string;
  path: string;
  origin: string | undefined;
  contentType: string | undefined;
}

let backend: TrackingBackend;
let page: TrackingPage;
let browser: Browser;

beforeAll(async () => {
  const [started, script, launched] = await Promise.all([
    startTrackingBackend(),
    bundleAnalytics(),
    launchChromium(),
  ]);
  backend = started;
  browser = launched;
  page = await startTrackingPage(script);
});

afterAll(async () => {
  await browser?.close();
  await page?.stop();
  await backend?.stop();
});

/** Starts an API that allows `origins` and records every request. */
async function startRecordedApi(origins: string[]) {
  const api = await backend.startApi({ corsOrigins: origins });
  const seen: SeenRequest[] = [];
  api.server.on('request', (request: IncomingMessage) => {
    seen.push({
      method: request.method ?? '',
      path: request.url ?? '',
      origin: request.headers.origin,
      contentType: request.headers['content-type'],
    });
  });
  return { api, seen };
}

interface PageRun {
  apiHost: string;
  writeKey: string;
  userId: string;
  batching: boolean;
}

/**
 * Loads analytics.js in the page with its settings given inline, so it
 * fetches none from a CDN, and sends one call of each type.
 */
async function trackInBrowser(
  api: LocalApi,
  run: Omit<PageRun, 'apiHost'>,
): Promise<{ hosts: Set<string> }> {
  const context = await browser.newContext();
  const hosts = new Set<string>();
  try {
    const tab = await context.newPage();
    tab.on('request', (request) => hosts.add(new URL(request.url()).hostname));
    await tab.goto(`${page.origin}/`);
    const apiHost = `${new URL(api.url).host}/v1`;
    await tab.evaluate(sendEveryCall, { ...run, apiHost });
  } finally {
    await context.close();
  }
  return { hosts };
}

/** Runs in the browser: loads analytics-next and sends every call type. */
async function sendEveryCall(run: PageRun): Promise<void> {
  type Call = (...args: unknown[]) => Promise<unknown>;
  type Client = Record<
    'identify' | 'page' | 'screen' | 'track' | 'group' | 'alias',
    Call
  >;
  const loader = (
    globalThis as unknown as {
      AnalyticsBrowser: {
        load(settings: unknown, options: unknown): Promise<[Client]>;
      };
    }
  ).AnalyticsBrowser;

  const segment = {
    apiKey: run.writeKey,
    apiHost: run.apiHost,
    protocol: 'http',
  };
  const delivery = run.batching
    ? { deliveryStrategy: { strategy: 'batching', config: { size: 6 } } }
    : {};
  const [analytics] = await loader.load(
    {
      writeKey: run.writeKey,
      cdnSettings: {
        integrations: { 'Segment.io': segment },
        metrics: { sampleRate: 0 },
      },
    },
    {
      disableClientPersistence: true,
      integrations: { 'Segment.io': delivery },
    },
  );

  await analytics.identify(run.userId, {
    title: 'Chief Procurement Officer',
    company: { name: 'Acme Industrial', employee_count: 25000 },
  });
  await analytics.page('Pricing', { path: '/pricing' });
  await analytics.screen('Dashboard');
  await analytics.track('Demo Requested', { plan: 'pro' });
  await analytics.group('acme-industrial', { industry: 'Manufacturing' });
  await analytics.alias(run.userId, `anonymous-${run.userId}`);
}

const ALL_TYPES = ['alias', 'group', 'identify', 'page', 'screen', 'track'];

/** Polls the stored events of a lead until `count` are in or 10 s pass. */
async function waitForStoredTypes(userId: string, count: number) {
  const deadline = Date.now() + 10_000;
  let types: string[] = [];
  while (Date.now() < deadline) {
    const stored = await backend.storedEvents(userId);
    types = stored.map((event) => event.type).sort();
    if (types.length >= count) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return types;
}

describe('@segment/analytics-next in Chromium', () => {
  it('sends single calls across origins after a preflight', async () => {
    const { api, seen } = await startRecordedApi([page.origin]);

    const { hosts } = await trackInBrowser(api, {
      writeKey: WRITE_KEY,
      userId: 'browser-single',
      batching: false,
    });

    expect(await waitForStoredTypes('browser-single', 6)).toEqual(ALL_TYPES);
    const preflights = seen.filter((request) => request.method === 'OPTIONS');
    const posts = seen.filter((request) => request.method === 'POST');
    expect(preflights.map((request) => request.path).sort()).toEqual(
      ['/v1/a', '/v1/g', '/v1/i', '/v1/p', '/v1/s', '/v1/t'].sort(),
    );
    expect(preflights.every((r) => r.origin === page.origin)).toBe(true);
    expect(posts.map((request) => request.path).sort()).toEqual(
      ['/v1/a', '/v1/g', '/v1/i', '/v1/p', '/v1/s', '/v1/t'].sort(),
    );
    expect(posts.every((r) => r.contentType === 'text/plain')).toBe(true);
    expect([...hosts]).toEqual(['127.0.0.1']);
  });

  it('sends a batch to /v1/b when any origin is allowed', async () => {
    const { api, seen } = await startRecordedApi(['*']);

    await trackInBrowser(api, {
      writeKey: WRITE_KEY,
      userId: 'browser-batch',
      batching: true,
    });

    expect(await waitForStoredTypes('browser-batch', 6)).toEqual(ALL_TYPES);
    const posts = seen.filter((request) => request.method === 'POST');
    expect(posts.map((request) => request.path)).toEqual(['/v1/b']);
    expect(seen.some((request) => request.method === 'OPTIONS')).toBe(true);
  });

  it('is blocked when its origin is not allowed', async () => {
    const { api, seen } = await startRecordedApi(['https://www.example.com']);

    await trackInBrowser(api, {
      writeKey: WRITE_KEY,
      userId: 'browser-blocked',
      batching: false,
    });

    expect(seen.filter((r) => r.method === 'OPTIONS').length).toBeGreaterThan(
      0,
    );
    expect(seen.filter((r) => r.method === 'POST')).toEqual([]);
    expect(await backend.storedEvents('browser-blocked')).toEqual([]);
  });
});
