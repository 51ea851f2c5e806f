import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetRuntime } from '../../functions/adapters/runtime.js';
import type { LocalStack } from '../../local/stack.js';
import {
  AdminTokenRejectedError,
  InputFileError,
  WriteKeyRejectedError,
} from '../../scripts/replay/errors.js';
import {
  type ReplayOptions,
  runReplay,
} from '../../scripts/replay/run-replay.js';
import { startTestStack } from '../support/local-stack.js';
import {
  generatedLeads,
  type XEducationRow,
  xEducationCsv,
} from './fixtures/x-education-csv.js';

const WRITE_KEY = 'replay-test-write-key';
const ADMIN_TOKEN = 'replay-test-admin-token';
const LEAD_COUNT = 30;
const SALES_ACTIVITIES = new Set(['SMS Sent']);

/** Messages the conversion sends for a generated row. */
function expectedMessages(row: XEducationRow): number {
  const visits = Math.min(Number(row.TotalVisits ?? 0), 50);
  const activity = row['Last Activity'] ?? '';
  const tracked = activity !== '' && !SALES_ACTIVITIES.has(activity);
  return 1 + visits + (tracked ? 1 : 0);
}

describe('runReplay against the local stack', () => {
  let stack: LocalStack;
  let directory: string;
  let csvFile: string;
  const rows = generatedLeads(LEAD_COUNT);
  const messageCount = rows.reduce((sum, r) => sum + expectedMessages(r), 0);

  const options = (overrides: Partial<ReplayOptions> = {}): ReplayOptions => ({
    file: csvFile,
    url: stack.apiUrl,
    writeKey: WRITE_KEY,
    adminToken: ADMIN_TOKEN,
    batchSize: 25,
    concurrency: 3,
    referenceTime: Date.now(),
    maxVisits: 50,
    ...overrides,
  });

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'replay-stack-'));
    csvFile = join(directory, 'leads.csv');
    const text = xEducationCsv(rows);
    // One malformed row at the end, to be skipped and reported.
    await writeFile(csvFile, `${text}broken-row,1,API,\n`);
    // The handlers log every request at INFO; warnings and errors remain.
    process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
    resetRuntime();
    stack = await startTestStack({
      writeKey: WRITE_KEY,
      adminToken: ADMIN_TOKEN,
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await rm(directory, { recursive: true, force: true });
  });

  it('scores every message and evaluates the labels', async () => {
    const summary = await runReplay(options());

    expect(summary.format).toBe('x-education-csv');
    expect(summary.counts.sent).toBe(messageCount);
    expect(summary.counts.scored).toBe(messageCount);
    expect(summary.counts.duplicates).toBe(0);
    expect(summary.counts.rejected).toBe(0);
    expect(summary.counts.skippedLines).toBe(1);
    expect(summary.skippedExamples[0]?.line).toBe(LEAD_COUNT + 2);
    expect(summary.counts.leads).toBe(LEAD_COUNT);
    expect(summary.evaluation?.leads).toBe(LEAD_COUNT);
    expect(summary.evaluation?.missingLeads).toBe(0);
    expect(summary.evaluation?.converted).toBe(LEAD_COUNT / 3);
    expect(summary.evaluation?.mqls).toBe(summary.counts.mqls);
    const auc = summary.evaluation?.auc;
    expect(typeof auc).toBe('number');
    expect(auc).toBeGreaterThanOrEqual(0);
    expect(auc).toBeLessThanOrEqual(1);
  });

  it('reports a second replay as duplicates', async () => {
    const summary = await runReplay(options({ referenceTime: 0 }));

    expect(summary.counts.sent).toBe(messageCount);
    expect(summary.counts.scored).toBe(0);
    expect(summary.counts.duplicates).toBe(messageCount);
    expect(summary.counts.leads).toBe(LEAD_COUNT);
  });

  it('reports rejected NDJSON messages with their line', async () => {
    const file = join(directory, 'events.ndjson');
    const valid = {
      type: 'track',
      messageId: 'ndjson-1',
      userId: 'ndjson-lead',
      event: 'Webinar Attended',
    };
    const invalid = { type: 'track', messageId: 'ndjson-2', event: 'No user' };
    await writeFile(
      file,
      `${JSON.stringify(valid)}\nnot json\n${JSON.stringify(invalid)}\n`,
    );

    const summary = await runReplay(options({ file }));

    expect(summary.format).toBe('ndjson');
    expect(summary.counts.sent).toBe(2);
    expect(summary.counts.scored).toBe(1);
    expect(summary.counts.rejected).toBe(1);
    expect(summary.counts.skippedLines).toBe(1);
    expect(summary.rejectionExamples[0]?.origin).toBe('line 3');
    expect(summary.rejectionExamples[0]?.reason).toMatch(/userId/);
    expect(summary.evaluation).toBeUndefined();
  });

  it('sends each NDJSON line as written', async () => {
    const file = join(directory, 'as-written.ndjson');
    const depth = 20_000;
    const deep =
      '{"type":"track","messageId":"deep-1","userId":"deep-lead",' +
      `"event":"Webinar Attended","properties":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const huge =
      '{"type":"track","messageId":"huge-1","userId":"huge-lead",' +
      '"event":"Webinar Attended","properties":{"n":1e400}}';
    const valid = JSON.stringify({
      type: 'track',
      messageId: 'written-1',
      userId: 'written-lead',
      event: 'Webinar Attended',
    });
    await writeFile(file, `${deep}\n${huge}\n${valid}\n`);

    const summary = await runReplay(options({ file }));

    expect(summary.counts.sent).toBe(3);
    expect(summary.counts.scored).toBe(1);
    expect(summary.counts.rejected).toBe(2);
    const [first, second] = summary.rejectionExamples;
    expect(first?.origin).toBe('line 1');
    expect(first?.reason).toContain('properties: nests objects or arrays');
    expect(second?.origin).toBe('line 2');
    expect(second?.reason).toContain('properties.n');
  });

  it.each([
    ['an empty file', '', 'contains no message to replay: the file is empty'],
    [
      'only invalid lines',
      'not json\n[1]\n',
      'contains no message to replay: line 1: invalid JSON',
    ],
    [
      'only rejected messages',
      '{"type":"track","messageId":"none-1","event":"No user"}\n',
      'contains no message that the API accepted: line 1: userId',
    ],
  ])('raises InputFileError for %s', async (_case, text, message) => {
    const file = join(directory, 'nothing.ndjson');
    await writeFile(file, text);

    const replay = runReplay(options({ file }));

    await expect(replay).rejects.toThrow(InputFileError);
    await expect(replay).rejects.toThrow(message);
  });

  it('raises WriteKeyRejectedError for a wrong write key', async () => {
    await expect(runReplay(options({ writeKey: 'wrong-key' }))).rejects.toThrow(
      WriteKeyRejectedError,
    );
  });

  it('rejects a wrong admin token before sending', async () => {
    const file = join(directory, 'token-leads.csv');
    const tokenRows = generatedLeads(3).map((row, index) => ({
      ...row,
      'Prospect ID': `token-lead-${index}`,
      'Lead Number': String(900_000 + index),
    }));
    await writeFile(file, xEducationCsv(tokenRows));

    await expect(
      runReplay(options({ file, adminToken: 'wrong-token' })),
    ).rejects.toThrow(AdminTokenRejectedError);

    const summary = await runReplay(options({ file }));
    expect(summary.counts.duplicates).toBe(0);
    expect(summary.counts.scored).toBe(summary.counts.sent);
  });

  it('raises InputFileError for an unknown format', async () => {
    const file = join(directory, 'other.csv');
    await writeFile(file, 'id,name\n1,a\n');

    await expect(runReplay(options({ file }))).rejects.toThrow(InputFileError);
  });
});
