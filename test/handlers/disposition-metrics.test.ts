import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetRuntime } from '../../functions/adapters/runtime.js';
import {
  postDisposition,
  qualifyQuietly,
  requestMetrics,
} from '../support/handler-calls.js';
import {
  startTrackingBackend,
  type TrackingBackend,
} from '../support/tracking-api.js';

interface EmfLine {
  _aws?: unknown;
  MqlsQualified?: number;
  LeadsRecycled?: number;
}

let backend: TrackingBackend;
const savedEnvironment = {
  POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED,
};

beforeAll(async () => {
  backend = await startTrackingBackend();
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  resetRuntime();
});

afterAll(async () => {
  Object.assign(process.env, savedEnvironment);
  resetRuntime();
  await backend?.stop();
});

/** Sends one disposition and returns its status and the EMF lines written. */
function dispositionMetrics(leadId: string, body: unknown) {
  return requestMetrics<EmfLine>(() => postDisposition(leadId, body));
}

describe('disposition metrics', () => {
  it('count a rejection as recycled', async () => {
    await qualifyQuietly('metrics-rejected');

    const { status, metrics } = await dispositionMetrics('metrics-rejected', {
      disposition: 'rejected',
      reason: 'no budget this year',
    });

    expect(status).toBe(200);
    expect(metrics).toHaveLength(1);
    expect(metrics[0]?.LeadsRecycled).toBe(1);
    expect(metrics[0]?.MqlsQualified).toBe(0);
  });

  it('count a recycle but not its repeat', async () => {
    await qualifyQuietly('metrics-recycled');
    const body = { disposition: 'recycled', reason: 'revisit next quarter' };

    const first = await dispositionMetrics('metrics-recycled', body);
    const repeat = await dispositionMetrics('metrics-recycled', body);

    expect(first.metrics[0]?.LeadsRecycled).toBe(1);
    expect(repeat.status).toBe(200);
    expect(repeat.metrics[0]?.LeadsRecycled).toBe(0);
  });

  it('count no recycle for acceptance', async () => {
    await qualifyQuietly('metrics-accepted');

    const { status, metrics } = await dispositionMetrics('metrics-accepted', {
      disposition: 'accepted',
    });

    expect(status).toBe(200);
    expect(metrics[0]?.LeadsRecycled).toBe(0);
  });
});
