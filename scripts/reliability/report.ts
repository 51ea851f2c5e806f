import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../atomic-file.js';
import type { DeliveryReport } from './delivery.js';

export const START_MARKER = '<!-- reliability:delivery:start -->';
export const END_MARKER = '<!-- reliability:delivery:end -->';

/** Returns the delivery section of RELIABILITY.md, markers included. */
export function formatDeliverySection(
  report: DeliveryReport,
  context: { seed: number; nonRetryableShare: number; measuredOn: string },
): string {
  const percent = (value: number) => `${Math.round(value * 100)} %`;
  return `${START_MARKER}
## Delivery under PutEvents failures

With ${percent(report.failureRate)} of PutEvents entries failing,
${report.mqls} MQLs were produced and **${report.delivered} were delivered**
to the sales queue after recovery, with ${report.duplicates} duplicates and
${report.outboxLeft} outbox entries left.

| measure | value |
| --- | --- |
| MQLs produced | ${report.mqls} |
| entries sent / failed by injection | ${report.entriesSent} / ${report.entriesFailed} |
| delivered during ingest (3 attempts per entry) | ${report.deliveredByIngest} |
| kept as failed entries after ingest | ${report.failedAfterIngest} |
| sweeps run | ${report.sweeps} |
| operator retries (\`npm run outbox -- retry --all --bus …\`) | ${report.operatorRetries} |
| delivered after recovery (distinct event ids) | ${report.delivered} |
| duplicates on the sales queue | ${report.duplicates} |
| outbox entries left | ${report.outboxLeft} |

How it was measured: \`npm run reliability\` (scripts/reliability.ts)
on ${context.measuredOn}. Leads qualify through the ingest use case on
DynamoDB Local; a fault injector (aws-sdk-client-mock on the EventBridge
client, seed ${context.seed}) fails each entry with probability
${report.failureRate}, ${percent(context.nonRetryableShare)} of failures
non-retryable (\`InvalidArgument\`) and the rest \`ThrottlingException\`,
and forwards the other entries to moto's EventBridge, whose rule routes
them to the sales queue. Recovery repeats, an hour of clock apart, a
sweep and an operator retry of every failed entry, with the injector
still failing half of all entries, until the outbox is empty. The
figure covers lost and repeated events; it does not cover a process
that dies between publishing and removing an entry, which the sweep
delivers again under the same event id (at least once).
${END_MARKER}`;
}

/**
 * Returns the document with the section replaced, or appended when the
 * markers are missing, keeping every other section as it is.
 */
export function replaceSection(document: string, section: string): string {
  const start = document.indexOf(START_MARKER);
  const end = document.indexOf(END_MARKER);
  if (start >= 0 && end > start) {
    return (
      document.slice(0, start) +
      section +
      document.slice(end + END_MARKER.length)
    );
  }
  const base = document.trim().length === 0 ? '# Reliability\n' : document;
  return `${base.trimEnd()}\n\n${section}\n`;
}

/**
 * Replaces the delivery section of the document `file`, or creates the
 * file. The file is replaced by rename, so a crash leaves the old text.
 */
export function writeDeliverySection(file: string, section: string): void {
  const document = existsSync(file) ? readFileSync(file, 'utf8') : '';
  writeFileAtomicSync(file, replaceSection(document, section));
}
