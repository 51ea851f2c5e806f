import { type Stats, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describeFileError } from '../../functions/adapters/file-error.js';
import { startLocalStack } from '../../local/stack.js';
import { InputFileError, RequestFailedError, UsageError } from './errors.js';
import {
  ACCOUNT_COLUMNS,
  type MavenAccount,
  mavenAccountId,
  mavenMessages,
  missingColumns,
  OPPORTUNITY_COLUMNS,
  parseAccounts,
  parseOpportunities,
} from './maven-crm.js';

const WRITE_KEY = 'maven-crm-replay';
const ADMIN_TOKEN = 'maven-crm-replay';
const BATCH_SIZE = 100;
const CONCURRENCY = 4;

/** One account's result as GET /accounts/{accountId} returns it. */
export interface AccountResult {
  accountId: string;
  status: string;
  score: number;
  fit: number;
  engagement: number;
  leadCount: number;
  engagedLeadCount: number;
  coverage: { covered: string[]; missingRequired: string[] };
}

/**
 * `npm run replay -- maven-crm DIR`: starts a local stack of its own,
 * sends the Maven CRM accounts and opportunities through POST /v1/batch
 * and prints every account's score and coverage from GET /accounts. Exits
 * cleanly with a notice when DIR lacks both CSV files.
 *
 * @throws UsageError naming DIR when it does not exist or is not a
 *   directory, the CSV file missing when only one is there, or the
 *   columns a CSV file lacks
 */
export async function replayMavenCrm(
  directory: string,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<void> {
  checkDirectory(directory);
  const accountsFile = join(directory, 'accounts.csv');
  const pipelineFile = join(directory, 'sales_pipeline.csv');
  const found = [accountsFile, pipelineFile].filter(csvFileExists);
  if (found.length === 0) {
    out.write(
      `maven-crm: skipped, ${directory} has no accounts.csv and sales_pipeline.csv.\n`,
    );
    return;
  }
  const missing = [accountsFile, pipelineFile].find(
    (file) => !found.includes(file),
  );
  if (missing !== undefined) {
    throw new UsageError(
      `The file ${missing} was not found. The replay needs both ` +
        'accounts.csv and sales_pipeline.csv of the Maven CRM sample in DIR.',
    );
  }
  const accountsText = await readCsv(accountsFile, ACCOUNT_COLUMNS);
  const pipelineText = await readCsv(pipelineFile, OPPORTUNITY_COLUMNS);
  const accounts = parseAccounts(accountsText);
  const opportunities = parseOpportunities(pipelineText);
  const converted = mavenMessages(accounts, opportunities, Date.now());
  // The handlers log one line per request on stdout, which would bury
  // the results; warnings and errors still show.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  err.write('maven-crm: starting a local stack\n');
  const stack = await startLocalStack({
    port: 0,
    writeKey: WRITE_KEY,
    adminToken: ADMIN_TOKEN,
    sweepIntervalSeconds: 0,
    onSalesEvent: () => {},
    onStatus: (message) => err.write(`maven-crm: ${message}\n`),
  });
  try {
    const started = performance.now();
    await sendAll(stack.apiUrl, converted.messages, err);
    const seconds = (performance.now() - started) / 1000;
    const results = await readAccounts(stack.apiUrl, accounts);
    out.write(
      formatResults(results, {
        accounts: accounts.length,
        opportunities: converted.opportunities,
        withoutAccount: converted.withoutAccount,
        messages: converted.messages.length,
        seconds,
      }),
    );
  } finally {
    await stack.stop();
  }
}

/**
 * Reads a CSV file of the sample and checks that its header has the
 * `required` columns. Raises UsageError naming the file and the columns
 * it lacks, and InputFileError when the file is not valid CSV.
 */
async function readCsv(
  file: string,
  required: readonly string[],
): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`The file ${file} ${describeFileError(error)}`);
  }
  let missing: string[];
  try {
    missing = missingColumns(text, required);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputFileError(`The file ${file} is not valid CSV: ${reason}`);
  }
  if (missing.length > 0) {
    throw new UsageError(
      `The file ${file} lacks the column${missing.length === 1 ? '' : 's'} ` +
        `${missing.join(', ')}. Give the ${basename(file)} of the Maven ` +
        `CRM sample, whose header names ${required.join(', ')}.`,
    );
  }
  return text;
}

/**
 * Returns whether `file` exists. Raises UsageError when it is not a
 * regular file or its existence cannot be checked, such as in a
 * directory without search permission, instead of skipping the replay.
 */
function csvFileExists(file: string): boolean {
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new UsageError(`The file ${file} ${describeFileError(error)}`);
  }
  if (!stats.isFile()) {
    const kind = stats.isDirectory()
      ? 'is a directory'
      : 'is not a regular file (it is a device, pipe or socket)';
    throw new UsageError(
      `The file ${file} ${kind}. Give the ${basename(file)} of the Maven CRM sample.`,
    );
  }
  return true;
}

/**
 * Raises UsageError unless `directory` is an existing directory. A
 * directory without the CSV files is skipped instead, because the
 * sample is not part of the repository.
 */
function checkDirectory(directory: string): void {
  const expected =
    'Give the directory that contains accounts.csv and sales_pipeline.csv.';
  let isDirectory: boolean;
  try {
    isDirectory = statSync(directory).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UsageError(
        `The directory ${directory} was not found. ${expected}`,
      );
    }
    throw error;
  }
  if (!isDirectory) {
    throw new UsageError(`${directory} is not a directory. ${expected}`);
  }
}

async function sendAll(
  apiUrl: string,
  messages: readonly Record<string, unknown>[],
  err: NodeJS.WritableStream,
): Promise<void> {
  const batches: Record<string, unknown>[][] = [];
  for (let start = 0; start < messages.length; start += BATCH_SIZE) {
    batches.push(messages.slice(start, start + BATCH_SIZE));
  }
  let next = 0;
  let sent = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next] ?? [];
      next += 1;
      const response = await fetch(`${apiUrl}/v1/batch`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
        },
        body: JSON.stringify({ batch }),
      });
      if (response.status !== 200) {
        throw new RequestFailedError(
          'POST /v1/batch',
          response.status,
          await response.text(),
        );
      }
      sent += batch.length;
      if (next % 20 === 0) {
        err.write(`maven-crm: sent ${sent} of ${messages.length} messages\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function readAccounts(
  apiUrl: string,
  accounts: readonly MavenAccount[],
): Promise<AccountResult[]> {
  const results: AccountResult[] = [];
  for (const account of accounts) {
    // A row without a name forms no account id, and no lead names it.
    if (account.name === '') continue;
    const id = encodeURIComponent(mavenAccountId(account.name));
    const response = await fetch(`${apiUrl}/accounts/${id}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    if (response.status === 404) continue;
    if (response.status !== 200) {
      throw new RequestFailedError(
        `GET /accounts/${id}`,
        response.status,
        await response.text(),
      );
    }
    results.push((await response.json()) as AccountResult);
  }
  return results.sort((a, b) => b.score - a.score);
}

/**
 * Formats the replay's summary and every account with leads, highest
 * score first, as a table whose first column is as wide as the longest
 * account name.
 */
export function formatResults(
  results: readonly AccountResult[],
  totals: {
    accounts: number;
    opportunities: number;
    withoutAccount: number;
    messages: number;
    seconds: number;
  },
): string {
  const mqas = results.filter((result) => result.status === 'mqa').length;
  const names = results.map((result) =>
    result.accountId.replace(/^group:/, ''),
  );
  const width = Math.max(27, ...names.map((name) => name.length));
  const lines = [
    `Maven CRM replay: ${totals.opportunities} opportunities, ${totals.withoutAccount} without an account (skipped), ${totals.messages} messages in ${totals.seconds.toFixed(1)} s`,
    `${results.length} of ${totals.accounts} accounts have leads; ${mqas} are marketing qualified accounts`,
    '',
    `All ${results.length} accounts with leads, by score:`,
    `${'account'.padEnd(width)}  score    fit  engagement  leads  engaged  status  roles covered`,
  ];
  for (const [index, result] of results.entries()) {
    lines.push(
      [
        (names[index] ?? '').padEnd(width),
        result.score.toFixed(1).padStart(6),
        result.fit.toFixed(0).padStart(6),
        result.engagement.toFixed(1).padStart(11),
        String(result.leadCount).padStart(6),
        String(result.engagedLeadCount).padStart(8),
        result.status.padStart(7),
        ` ${result.coverage.covered.join(', ') || '(none)'}`,
      ].join(' '),
    );
  }
  lines.push(
    '',
    'The data set has no contacts or job titles, so no lead holds a buying-group role and no account can meet a rule that requires roles.',
    '',
  );
  return lines.join('\n');
}
