import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  flushMetrics,
  recordTransitionMetrics,
} from '../../functions/adapters/observability/metrics.js';
import {
  resetRuntime,
  runtime,
  startInvocation,
} from '../../functions/adapters/runtime.js';
import { handler as ingest } from '../../functions/handlers/ingest.js';
import { handler as leads } from '../../functions/handlers/leads.js';
import { handler as sweep } from '../../functions/handlers/sweep.js';
import { eventV2 } from '../fixtures/api-gateway-events.js';
import { type CapturedOutput, captureOutput } from '../support/output.js';
import {
  basicAuth,
  startTrackingBackend,
  type TrackingBackend,
  WRITE_KEY,
} from '../support/tracking-api.js';

/** Concurrent invocations of each kind. */
const CALLS = 8;
const BATCH_ROUTE = 'POST /v1/batch';
const LEAD_ROUTE = 'GET /leads/{leadId}';

interface LogLine {
  message?: string;
  correlation_id?: string;
  route?: string;
  requestId?: string;
  messages?: number;
  status?: number;
  [key: string]: unknown;
}

interface EmfLine {
  _aws?: unknown;
  EventsIngested?: number | number[];
  LeadsRecycled?: number | number[];
}

let backend: TrackingBackend;
const savedEnvironment = {
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL,
  POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED,
};

beforeAll(async () => {
  backend = await startTrackingBackend();
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  resetRuntime();
});

afterAll(async () => {
  Object.assign(process.env, savedEnvironment);
  await backend?.stop();
});

/** Returns an HTTP API event with its own request id and route key. */
function requestEvent(
  requestId: string,
  routeKey: string,
  spec: Parameters<typeof eventV2>[0],
): APIGatewayProxyEventV2 {
  const event = eventV2(spec);
  event.routeKey = routeKey;
  event.requestContext.requestId = requestId;
  event.requestContext.routeKey = routeKey;
  return event;
}

/** Returns `count` page views, so the batch's log line names its size. */
function pageBatch(userId: string, count: number) {
  return Array.from({ length: count }, (_, index) => ({
    type: 'page',
    messageId: `${userId}-page-${index}`,
    userId,
    name: 'Pricing',
    properties: { path: '/pricing' },
  }));
}

/** Runs every call at once and returns the JSON lines they wrote. */
async function concurrentLines(calls: Array<() => Promise<unknown>>) {
  let output: CapturedOutput | undefined;
  try {
    output = captureOutput();
    await Promise.all(calls.map((call) => call()));
  } finally {
    output?.restore();
  }
  return output
    .all()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Ingest, rejected ingest and lead reads, CALLS of each, and two sweeps. */
function concurrentCalls(): Array<() => Promise<unknown>> {
  const calls: Array<() => Promise<unknown>> = [];
  for (let index = 0; index < CALLS; index += 1) {
    const userId = `context-${index}`;
    calls.push(() =>
      ingest(
        requestEvent(`ingest-${index}`, BATCH_ROUTE, {
          path: '/v1/batch',
          headers: { Authorization: basicAuth(WRITE_KEY) },
          body: JSON.stringify({ batch: pageBatch(userId, index + 1) }),
        }),
      ),
    );
    calls.push(() =>
      ingest(
        requestEvent(`unauthorized-${index}`, BATCH_ROUTE, {
          path: '/v1/batch',
          headers: { Authorization: basicAuth('wrong-key') },
          body: JSON.stringify({ batch: pageBatch(userId, 1) }),
        }),
      ),
    );
    calls.push(() => {
      const event = requestEvent(`missing-${index}`, LEAD_ROUTE, {
        method: 'GET',
        path: `/leads/missing-${index}`,
      });
      event.pathParameters = { leadId: `missing-${index}` };
      return leads(event);
    });
  }
  calls.push(() => sweep({ executionId: 'sweep-a' }));
  calls.push(() => sweep({ executionId: 'sweep-b' }));
  return calls;
}

describe('handlers running concurrently in one process', () => {
  let logs: LogLine[];
  let emf: EmfLine[];

  beforeAll(async () => {
    const lines = await concurrentLines(concurrentCalls());
    logs = lines.filter((line) => !('_aws' in line)) as LogLine[];
    emf = lines.filter((line) => '_aws' in line) as EmfLine[];
  });

  it('label ingest lines with their request', () => {
    for (let index = 0; index < CALLS; index += 1) {
      const ingested = logs.filter(
        (line) =>
          line.message === 'messages ingested' && line.messages === index + 1,
      );
      expect(ingested).toHaveLength(1);
      expect(ingested[0]?.correlation_id).toBe(`ingest-${index}`);
      expect(ingested[0]?.route).toBe(BATCH_ROUTE);
    }
  });

  it('label rejections with their request and route', () => {
    const rejected = logs.filter((line) => line.message === 'request rejected');
    expect(rejected).toHaveLength(2 * CALLS);
    for (const line of rejected) {
      const leadRead = line.requestId?.startsWith('missing-') === true;
      expect(line.correlation_id).toBe(line.requestId);
      expect(line.route).toBe(leadRead ? LEAD_ROUTE : BATCH_ROUTE);
      expect(line.status).toBe(leadRead ? 404 : 401);
    }
  });

  it('label sweep lines with their execution id', () => {
    const sweeps = logs.filter((line) => line.message === 'sweep finished');
    const executionIds = sweeps.map((line) => line.correlation_id).sort();
    expect(executionIds).toEqual(['sweep-a', 'sweep-b']);
    for (const line of sweeps) expect(line.route).toBeUndefined();
  });

  it('flush the metrics of each request apart', () => {
    const ingested = emf
      .filter((line) => line.EventsIngested !== undefined)
      .map((line) => line.EventsIngested);
    expect(ingested.sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: CALLS }, (_, index) => index + 1),
    );
  });
});

describe('startInvocation', () => {
  it('keeps metrics of overlapping invocations apart', async () => {
    const first = startInvocation(await runtime(), { correlation_id: 'first' });
    const second = startInvocation(await runtime(), {
      correlation_id: 'second',
    });
    recordTransitionMetrics(first.metrics, { qualified: 0, recycled: 1 });
    recordTransitionMetrics(second.metrics, { qualified: 0, recycled: 2 });

    const lines = await concurrentLines([
      async () => flushMetrics(first.metrics),
    ]);

    expect(lines).toHaveLength(1);
    expect((lines[0] as EmfLine).LeadsRecycled).toBe(1);
    expect(second.metrics.hasStoredMetrics()).toBe(true);
  });

  it('keeps log keys of overlapping invocations apart', async () => {
    const shared = await runtime();
    const first = startInvocation(shared, { correlation_id: 'first' });
    const second = startInvocation(shared, { correlation_id: 'second' });

    const lines = await concurrentLines([
      async () => {
        first.deps.log.info('first line');
        second.deps.log.info('second line');
        shared.deps.log.info('runtime line');
      },
    ]);

    expect(lines.map((line) => line.correlation_id)).toEqual([
      'first',
      'second',
      undefined,
    ]);
    const stages = lines.map((line) => line.stage);
    expect(stages).toEqual(['local', 'local', 'local']);
  });
});

describe('startInvocation in Lambda', () => {
  const savedType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;

  beforeAll(() => {
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    resetRuntime();
  });

  afterAll(() => {
    if (savedType === undefined) {
      delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    } else {
      process.env.AWS_LAMBDA_INITIALIZATION_TYPE = savedType;
    }
    resetRuntime();
  });

  /** Returns a Lambda context of one invocation. */
  function lambdaContext(awsRequestId: string): Context {
    return {
      awsRequestId,
      functionName: 'mql-engine-ingest',
      functionVersion: '$LATEST',
      invokedFunctionArn:
        'arn:aws:lambda:eu-west-1:123456789012:function:mql-engine-ingest',
      memoryLimitInMB: '512',
    } as Context;
  }

  it('reports a cold start only once', async () => {
    const lines = await concurrentLines([
      async () => {
        for (const id of ['lambda-1', 'lambda-2', 'lambda-3']) {
          const invocation = startInvocation(
            await runtime(),
            { correlation_id: id },
            lambdaContext(id),
          );
          invocation.deps.log.info('invocation line');
        }
      },
    ]);

    const requestIds = lines.map((line) => line.function_request_id);
    expect(requestIds).toEqual(['lambda-1', 'lambda-2', 'lambda-3']);
    const coldStarts = lines.map((line) => line.cold_start);
    expect(coldStarts).toEqual([true, false, false]);
  });
});
