import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../scripts/replay/report.js';
import type { ReplaySummary } from '../../scripts/replay/run-replay.js';

const SUMMARY: ReplaySummary = {
  file: 'leads.csv',
  format: 'x-education-csv',
  durationSeconds: 12.34,
  phaseSeconds: { sending: 10, evaluation: 2.34 },
  counts: {
    skippedLines: 1,
    sent: 46565,
    scored: 46500,
    duplicates: 60,
    rejected: 5,
    eventsPublished: 3,
    eventsPending: 0,
    retries: 2,
    leads: 9240,
    mqls: 12,
  },
  skippedExamples: [{ kind: 'issue', line: 7, reason: 'invalid JSON' }],
  rejectionExamples: [
    { origin: 'line 9', messageId: 'm-9', reason: 'userId: is required' },
  ],
  evaluation: {
    leads: 9240,
    converted: 3561,
    auc: 0.61234,
    mqls: 12,
    convertedMqls: 6,
    conversionRate: 0.3854,
    mqlConversionRate: 0.5,
    lift: 1.2974,
    missingLeads: 0,
  },
};

describe('formatSummary', () => {
  const text = formatSummary(SUMMARY);

  it.each([
    'Replayed leads.csv (X Education CSV) in 12.3 s',
    'messages sent         46,565',
    'duplicates            60',
    'rejected              5',
    'MQLs                  12',
    '  line 7: invalid JSON',
    '  line 9 (m-9): userId: is required',
    'AUC of final scores   0.612',
    'conversion rate       38.5% of all leads',
    'MQL conversion rate   50.0% of 12 MQLs',
    'lift of MQLs          1.30',
  ])('contains %s', (line) => {
    expect(text).toContain(line);
  });

  it('names leads left out of responses', () => {
    const counted = formatSummary({
      ...SUMMARY,
      counts: { ...SUMMARY.counts, leads: null, mqls: null },
    });

    expect(counted).toContain(
      'MQLs                  not in the responses (the stage sets trackingResponse to counts)',
    );
  });

  it('names events left out of responses', () => {
    const counted = formatSummary({
      ...SUMMARY,
      counts: { ...SUMMARY.counts, eventsPublished: null, eventsPending: null },
    });

    expect(counted).toContain(
      'outgoing events       not in the responses (the stage sets trackingResponse to counts)',
    );
  });

  it('omits the evaluation without labels', () => {
    const { evaluation: _evaluation, ...unlabelled } = SUMMARY;

    expect(formatSummary(unlabelled)).not.toContain('AUC');
  });

  it('explains an undefined AUC', () => {
    const evaluation = {
      ...(SUMMARY.evaluation as NonNullable<ReplaySummary['evaluation']>),
      auc: null,
      aucUndefinedReason: 'only one class',
    };

    expect(formatSummary({ ...SUMMARY, evaluation })).toContain(
      'AUC of final scores   undefined: only one class',
    );
  });
});
