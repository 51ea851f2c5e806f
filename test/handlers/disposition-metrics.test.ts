import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetRuntime } from '../../functions/adapters/runtime.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { postBatch, postDisposition } from '../support/handler-calls.js';
import { captureOutput } from '../support/output.js';
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
async function dispositionMetrics(leadId: string, body: unknown) {
  const output = captureOutput();
  let status: number | undefined;
  try {
    status = (await postDisposition(leadId, body)).statusCode;
  } finally {
    output.restore();
  }
  const metrics = output
    .all()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as EmfLine)
    .filter((line) => '_aws' in line);
  return { status, metrics };
}

async function qualify(leadId: string): Promise<void> {
  const output = captureOutput();
  try {
    expect((await postBatch(qualifyingBatch(leadId))).statusCode).toBe(200);
  } finally {
    output.restore();
  }
}

describe('disposition metrics', () => {
  it('count a rejection as recycled', async () => {
    await qualify('metrics-rejected');

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
    await qualify('metrics-recycled');
    const body = { disposition: 'recycled', reason: 'revisit next quarter' };

    const first = await dispositionMetrics('metrics-recycled', body);
    const repeat = await dispositionMetrics('metrics-recycled', body);

    expect(first.metrics[0]?.LeadsRecycled).toBe(1);
    expect(repeat.status).toBe(200);
    expect(repeat.metrics[0]?.LeadsRecycled).toBe(0);
  });

  it('count no recycle for acceptance', async () => {
    await qualify('metrics-accepted');

    const { status, metrics } = await dispositionMetrics('metrics-accepted', {
      disposition: 'accepted',
    });

    expect(status).toBe(200);
    expect(metrics[0]?.LeadsRecycled).toBe(0);
  });
});
