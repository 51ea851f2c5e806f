import { ReplayApiClient } from './api-client.js';
import { type BatchItem, batchBody, toBatches } from './batches.js';
import { InputFileError } from './errors.js';
import { type Evaluation, evaluateLeads } from './evaluation.js';
import { fetchFinalScores } from './final-scores.js';
import {
  ACCEPTED_FORMATS,
  type InputFormat,
  type OpenedInput,
  openInput,
} from './input.js';
import { forEachConcurrently } from './pool.js';
import { createProgress, type ProgressStream } from './progress.js';
import type { InputIssue, InputItem, ReplayRecord } from './records.js';
import {
  DEFAULT_RETRY_POLICY,
  type RetryListener,
  type RetryPolicy,
} from './retry.js';
import { type Rejection, type ReplayCounts, ReplayTally } from './tally.js';

/** Maximum body of POST /v1/batch in UTF-8 bytes, as in Segment's API. */
export const MAX_BATCH_BYTES = 500 * 1024;

/** Maximum messages of POST /v1/batch, MAX_MESSAGES_PER_REQUEST of ingest. */
export const MAX_BATCH_MESSAGES = 10_000;

export interface ReplayOptions {
  file: string;
  /** Base URL of the API. */
  url: string;
  writeKey: string;
  adminToken: string;
  /** Maximum messages per request; at most MAX_BATCH_MESSAGES are sent. */
  batchSize: number;
  /** Maximum request body in bytes; @default MAX_BATCH_BYTES */
  maxBatchBytes?: number;
  /** Maximum requests in flight at once. */
  concurrency: number;
  /** End of the synthetic time window of converted CSV rows, epoch ms. */
  referenceTime: number;
  /** Maximum page views per X Education lead. */
  maxVisits: number;
  /** Stream for the progress bar and retry notices; none when absent. */
  progressStream?: ProgressStream;
  /** @default DEFAULT_RETRY_POLICY */
  retryPolicy?: RetryPolicy;
  /** Time limit of one request in milliseconds; @default 30000 */
  timeoutMs?: number;
}

/** Outcome of a replay, as printed by the command. */
export interface ReplaySummary {
  file: string;
  format: InputFormat;
  durationSeconds: number;
  /** Seconds spent sending, and reading final scores for evaluation. */
  phaseSeconds: { sending: number; evaluation: number };
  counts: ReplayCounts & {
    retries: number;
    /** Null when the API's responses leave leads out. */
    leads: number | null;
    mqls: number | null;
  };
  skippedExamples: InputIssue[];
  rejectionExamples: Rejection[];
  /** Present when the input carries outcome labels. */
  evaluation?: Evaluation & { missingLeads: number };
}

/**
 * Replays a file against the API: checks the API and credentials, streams
 * the messages in batches with bounded concurrency, and, when the input
 * has outcome labels, reads the final scores and evaluates them.
 *
 * @throws ReplayError subclasses for an unreadable input, an input
 *   without a message the API accepts, an unreachable API, rejected
 *   credentials or a request that keeps failing
 */
export async function runReplay(
  options: ReplayOptions,
): Promise<ReplaySummary> {
  const startedAt = performance.now();
  let retries = 0;
  const client = createClient(options, () => {
    retries += 1;
  });
  const input = await openInput(options.file, {
    referenceTime: options.referenceTime,
    maxVisits: options.maxVisits,
  });
  await client.checkWriteKey();
  if (input.format === 'x-education-csv') {
    await client.checkAdminToken();
  }

  const tally = new ReplayTally();
  const labels = new Map<string, boolean>();
  const sendingStartedAt = performance.now();
  await sendAll(client, input, tally, labels, options);
  requireAcceptedMessage(options.file, tally);
  const evaluationStartedAt = performance.now();
  const evaluation = await evaluate(client, labels, options);
  const finishedAt = performance.now();

  return {
    file: options.file,
    format: input.format,
    durationSeconds: (finishedAt - startedAt) / 1000,
    phaseSeconds: {
      sending: (evaluationStartedAt - sendingStartedAt) / 1000,
      evaluation: (finishedAt - evaluationStartedAt) / 1000,
    },
    ...tallySummary(tally, retries),
    ...(evaluation === undefined ? {} : { evaluation }),
  };
}

/**
 * Raises InputFileError when the file contained no message that the API
 * scored or had stored before: it was empty, or every line was skipped
 * or rejected. `npm run model -- backtest` fails on such a file too.
 */
function requireAcceptedMessage(file: string, tally: ReplayTally): void {
  const { scored, duplicates, sent } = tally.counts;
  if (scored + duplicates > 0) return;
  const [skipped] = tally.skippedExamples;
  const [rejection] = tally.rejectionExamples;
  const rejected =
    rejection === undefined
      ? undefined
      : `${rejection.origin}: ${rejection.reason}`;
  if (rejected !== undefined && sent > 0) {
    throw new InputFileError(
      `The file ${file} contains no message that the API accepted: ` +
        `${rejected}. Fix the messages and replay the file again.`,
    );
  }
  // Nothing was sent: every line was skipped or too large, or none was there.
  const skippedLine =
    skipped === undefined
      ? undefined
      : `line ${skipped.line}: ${skipped.reason}`;
  const problem = skippedLine ?? rejected ?? 'the file is empty';
  throw new InputFileError(
    `The file ${file} contains no message to replay: ${problem}. Give it ` +
      `${ACCEPTED_FORMATS}.`,
  );
}

function tallySummary(
  tally: ReplayTally,
  retries: number,
): Pick<ReplaySummary, 'counts' | 'skippedExamples' | 'rejectionExamples'> {
  return {
    counts: {
      ...tally.counts,
      retries,
      leads: tally.leadCount,
      mqls: tally.mqlCount,
    },
    skippedExamples: tally.skippedExamples,
    rejectionExamples: tally.rejectionExamples,
  };
}

function createClient(
  options: ReplayOptions,
  countRetry: () => void,
): ReplayApiClient {
  const onRetry: RetryListener = (error, attempt, delayMs) => {
    countRetry();
    const stream = options.progressStream;
    // On a TTY the notice starts a new line below the progress bar.
    const lineBreak = stream?.isTTY ? '\n' : '';
    stream?.write(
      `${lineBreak}retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s: ` +
        `${error.message}\n`,
    );
  };
  return new ReplayApiClient({
    baseUrl: options.url,
    writeKey: options.writeKey,
    adminToken: options.adminToken,
    retryPolicy: options.retryPolicy ?? DEFAULT_RETRY_POLICY,
    timeoutMs: options.timeoutMs ?? 30_000,
    onRetry,
  });
}

async function sendAll(
  client: ReplayApiClient,
  input: OpenedInput,
  tally: ReplayTally,
  labels: Map<string, boolean>,
  options: ReplayOptions,
): Promise<void> {
  const progress = createProgress(options.progressStream, 'sending');
  const startedAt = performance.now();
  let sentOffset = 0;
  const describe = () => {
    const seconds = (performance.now() - startedAt) / 1000;
    const rate = Math.round(tally.counts.sent / Math.max(seconds, 0.001));
    return (
      `${tally.counts.sent} messages sent, ${tally.counts.scored} scored, ` +
      `${rate}/s`
    );
  };
  const records = recordsOf(input.items, tally, labels);
  const limits = {
    maxMessages: Math.min(options.batchSize, MAX_BATCH_MESSAGES),
    maxBytes: options.maxBatchBytes ?? MAX_BATCH_BYTES,
  };
  const onOversized = (item: BatchItem, bytes: number) =>
    tally.recordOversized(item, bytes);
  const batches = toBatches(records, limits, onOversized);
  await forEachConcurrently(batches, options.concurrency, async (batch) => {
    const result = await client.sendBatch(
      batchBody(batch, new Date().toISOString()),
    );
    tally.recordBatch(batch, result);
    // Batches finish out of order, so this is the furthest one finished.
    sentOffset = Math.max(sentOffset, batch.endOffset);
    const fraction =
      input.sizeBytes > 0 ? sentOffset / input.sizeBytes : undefined;
    progress.update(fraction, describe());
  });
  progress.done(describe());
}

/** Counts skipped lines and keeps labels aside; yields the records. */
async function* recordsOf(
  items: AsyncIterable<InputItem>,
  tally: ReplayTally,
  labels: Map<string, boolean>,
): AsyncGenerator<ReplayRecord> {
  for await (const item of items) {
    if (item.kind === 'issue') {
      tally.recordSkippedLine(item);
      continue;
    }
    if (item.leadId !== undefined && item.converted !== undefined) {
      labels.set(item.leadId, item.converted);
    }
    yield item;
  }
}

async function evaluate(
  client: ReplayApiClient,
  labels: ReadonlyMap<string, boolean>,
  options: ReplayOptions,
): Promise<ReplaySummary['evaluation']> {
  if (labels.size === 0) {
    return undefined;
  }
  const progress = createProgress(options.progressStream, 'fetching scores');
  const scores = await fetchFinalScores(
    client,
    labels,
    options.concurrency,
    progress,
  );
  return { ...evaluateLeads(scores.leads), missingLeads: scores.missing };
}
