import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE } from '../../functions/adapters/observability/metric-names.js';
import {
  createMetrics,
  flushMetrics,
  recordIngestMetrics,
  recordSweepMetrics,
} from '../../functions/adapters/observability/metrics.js';
import type { IngestResult } from '../../functions/use-cases/ingest-messages.js';
import type { SweepResult } from '../../functions/use-cases/run-sweep.js';
import { type CapturedOutput, captureOutput } from '../support/output.js';

interface EmfLine {
  _aws: {
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [key: string]: unknown;
}

let output: CapturedOutput;

beforeEach(() => {
  // The suite disables metrics output for every other test file.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  output = captureOutput();
});

afterEach(() => output.restore());

/** Returns the EMF lines written since the test started. */
function emfLines(): EmfLine[] {
  return output.stdout
    .join('')
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}

const INGEST_RESULT: IngestResult = {
  results: [],
  leads: [
    {
      leadId: 'jane@acme.example',
      status: 'mql',
      score: 125,
      fit: 60,
      intent: 65,
      episode: 1,
      version: 1,
    },
  ],
  counts: { scored: 7, duplicate: 2, rejected: 1 },
  events: { published: 1, pending: 2, failed: 1 },
  transitions: { qualified: 3, recycled: 0 },
};

const SWEEP_RESULT: SweepResult = {
  read: 40,
  leadsChanged: 5,
  transitions: 6,
  qualified: 1,
  recycled: 5,
  published: 5,
  pending: 1,
  failed: 1,
  outboxPending: 2,
  oldestOutboxAgeMs: 125_400,
  incomplete: false,
};

describe('engine metrics', () => {
  it('writes the ingest counts as one EMF line', () => {
    const metrics = createMetrics('prod');

    recordIngestMetrics(metrics, INGEST_RESULT);
    flushMetrics(metrics);

    const [line, ...others] = emfLines();
    expect(others).toHaveLength(0);
    expect(line?._aws.CloudWatchMetrics[0]?.Namespace).toBe(METRICS_NAMESPACE);
    expect(line?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['service', 'stage'],
    ]);
    expect(line).toMatchObject({
      service: 'mql-engine',
      stage: 'prod',
      EventsIngested: 7,
      Duplicates: 2,
      Rejected: 1,
      MqlsQualified: 3,
      LeadsRecycled: 0,
      PublishFailures: 2,
      OutboxFailed: 1,
    });
  });

  it('writes the sweep counts and the outbox age in seconds', () => {
    const metrics = createMetrics('prod');

    recordSweepMetrics(metrics, SWEEP_RESULT);
    flushMetrics(metrics);

    const [line] = emfLines();
    expect(line).toMatchObject({
      SweepItemsRead: 40,
      SweepLeadsChanged: 5,
      SweepIncompleteRuns: 0,
      MqlsQualified: 1,
      LeadsRecycled: 5,
      PublishFailures: 1,
      OutboxFailed: 1,
      OutboxPending: 2,
      OutboxOldestAgeSeconds: 125,
    });
    const units = Object.fromEntries(
      (line?._aws.CloudWatchMetrics[0]?.Metrics ?? []).map((metric) => [
        metric.Name,
        metric.Unit,
      ]),
    );
    expect(units.OutboxOldestAgeSeconds).toBe('Seconds');
    expect(units.SweepItemsRead).toBe('Count');
  });

  it('counts a sweep run that stopped at its deadline', () => {
    const metrics = createMetrics('prod');

    recordSweepMetrics(metrics, { ...SWEEP_RESULT, incomplete: true });
    flushMetrics(metrics);

    const [line] = emfLines();
    expect(line?.SweepIncompleteRuns).toBe(1);
  });

  it('writes no lead ids', () => {
    const metrics = createMetrics('prod');

    recordIngestMetrics(metrics, INGEST_RESULT);
    flushMetrics(metrics);

    expect(output.all()).not.toContain('jane');
  });

  it('writes nothing when no metric was recorded', () => {
    flushMetrics(createMetrics('prod'));

    expect(output.all()).toBe('');
  });
});
