import type { ReplaySummary } from './run-replay.js';

const FORMAT_NAMES: Record<ReplaySummary['format'], string> = {
  ndjson: 'Segment NDJSON',
  'x-education-csv': 'X Education CSV',
};

/** Formats a summary as the text the command prints. */
export function formatSummary(summary: ReplaySummary): string {
  const sections = [
    countLines(summary),
    exampleLines(summary),
    evaluationLines(summary),
  ];
  return `${sections
    .filter((lines) => lines.length > 0)
    .map((lines) => lines.join('\n'))
    .join('\n\n')}\n`;
}

function countLines(summary: ReplaySummary): string[] {
  const { counts } = summary;
  const events =
    counts.eventsPublished === null
      ? reported(null)
      : `${count(counts.eventsPublished)} published, ` +
        `${count(counts.eventsPending ?? 0)} pending`;
  return [
    `Replayed ${summary.file} (${FORMAT_NAMES[summary.format]}) in ` +
      `${seconds(summary.durationSeconds)}: sending ` +
      `${seconds(summary.phaseSeconds.sending)}, reading final scores ` +
      `${seconds(summary.phaseSeconds.evaluation)}`,
    row('messages sent', count(counts.sent)),
    row('scored', count(counts.scored)),
    row('duplicates', count(counts.duplicates)),
    row('rejected', count(counts.rejected)),
    row('input lines skipped', count(counts.skippedLines)),
    row('request retries', count(counts.retries)),
    row('leads', reported(counts.leads)),
    row('MQLs', reported(counts.mqls)),
    row('outgoing events', events),
  ];
}

/** Formats a lead count, or a note that the responses left leads out. */
function reported(value: number | null): string {
  return value === null
    ? 'not in the responses (the stage sets trackingResponse to counts)'
    : count(value);
}

function exampleLines(summary: ReplaySummary): string[] {
  const lines: string[] = [];
  if (summary.skippedExamples.length > 0) {
    lines.push('First skipped input lines:');
    for (const issue of summary.skippedExamples) {
      lines.push(`  line ${issue.line}: ${issue.reason}`);
    }
  }
  if (summary.rejectionExamples.length > 0) {
    lines.push('First rejected messages:');
    for (const rejection of summary.rejectionExamples) {
      const id = rejection.messageId ? ` (${rejection.messageId})` : '';
      lines.push(`  ${rejection.origin}${id}: ${rejection.reason}`);
    }
  }
  return lines;
}

function evaluationLines(summary: ReplaySummary): string[] {
  const evaluation = summary.evaluation;
  if (evaluation === undefined) {
    return [];
  }
  const auc =
    evaluation.auc === null
      ? `undefined: ${evaluation.aucUndefinedReason ?? 'no samples'}`
      : evaluation.auc.toFixed(3);
  const mqlRate =
    evaluation.mqlConversionRate === null
      ? 'no MQLs'
      : `${percent(evaluation.mqlConversionRate)} of ` +
        `${count(evaluation.mqls)} MQLs`;
  return [
    `Evaluation against the outcome labels (${count(evaluation.leads)} ` +
      `leads, ${count(evaluation.converted)} converted, ` +
      `${count(evaluation.missingLeads)} not found):`,
    row('AUC of final scores', auc),
    row(
      'conversion rate',
      `${percent(evaluation.conversionRate)} of all leads`,
    ),
    row('MQL conversion rate', mqlRate),
    row('lift of MQLs', evaluation.lift?.toFixed(2) ?? 'undefined'),
  ];
}

function row(label: string, value: string): string {
  return `  ${label.padEnd(22)}${value}`;
}

function seconds(value: number): string {
  return `${value.toFixed(1)} s`;
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function percent(value: number | null): string {
  return value === null ? 'undefined' : `${(value * 100).toFixed(1)}%`;
}
