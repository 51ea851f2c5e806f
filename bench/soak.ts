process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import * as fc from 'fast-check';
import { describeFileError } from '../functions/adapters/file-error.js';
import { usageHint } from '../scripts/command-line.js';
import { UsageError } from '../scripts/replay/errors.js';
import { createBenchContext } from './context.js';
import { machineDescription } from './format.js';
import { BENCH_WRITE_KEY, startIngestBackend } from './handler-backend.js';
import { checkCase, fuzzCaseArbitrary } from './reliability/ingest-fuzz.js';
import { storedMessageIds } from './reliability/stored-events.js';
import { updateSection } from './report-file.js';
import {
  parseSoakArguments,
  SOAK_USAGE,
  type SoakOptions,
} from './soak-options.js';
import { percentiles } from './stats.js';

/**
 * npm run soak [-- --minutes N --data FILE --fuzz-cases N]: replays the
 * UCI online shoppers sessions against the local stack, with the decay
 * sweep running, for a bounded time while sampling the server's memory,
 * checks that no event was lost or stored twice, then runs the ingest
 * fuzzing property for 10,000 cases. Writes the figures into
 * RELIABILITY.md. Exits non-zero only on errors and failed checks.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_DATA = join(
  ROOT,
  '..',
  'shared',
  'data',
  'uci-online-shoppers',
  'online_shoppers_intention.csv',
);

const HEADER = `# Reliability

\`npm test\` runs three reliability tests on every change
(test/reliability/): 64 concurrent requests for one lead lose no update,
a replay sent three times in shuffled order gives the scores of one pass
and exactly one "Lead Qualified" per episode, and 300 fast-check cases
over the ingest route get 2xx or 4xx, never 5xx, with no partial writes.
The sections below are written by \`npm run soak\`, which runs the longer
checks, and name the command, the machine and the date of their run.
`;

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

type Session = Record<string, string>;

/** Turns one UCI session into Segment messages of one lead. */
function sessionMessages(session: Session, userId: string, now: number) {
  const count = (field: string, max: number) =>
    Math.min(max, Math.max(0, Math.floor(Number(session[field]) || 0)));
  const paths: string[] = [
    ...Array.from({ length: count('Administrative', 5) }, () => '/account'),
    ...Array.from(
      { length: count('Informational', 5) },
      (_, index) => `/blog/post-${index}`,
    ),
    ...Array.from(
      { length: count('ProductRelated', 25) },
      (_, index) => `/product/item-${index}`,
    ),
  ];
  if (Number(session.PageValues) > 0) paths.push('/pricing');
  const messages: Record<string, unknown>[] = paths.map((path, index) => ({
    type: 'page',
    messageId: `${userId}-p${index}`,
    userId,
    timestamp: new Date(now - (paths.length - index) * 10_000).toISOString(),
    properties: { path },
  }));
  if (session.Revenue === 'TRUE') {
    messages.unshift({
      type: 'identify',
      messageId: `${userId}-i`,
      userId,
      traits: {
        title: 'VP Procurement',
        company: { industry: 'Manufacturing', employee_count: 12_000 },
      },
    });
    messages.push({
      type: 'track',
      messageId: `${userId}-d`,
      userId,
      event: 'Demo Requested',
    });
  }
  return messages;
}

interface MemorySample {
  at: number;
  heapUsed: number;
  rss: number;
}

interface Server {
  child: ChildProcess;
  apiUrl: string;
  dynamoDbEndpoint: string;
  tableName: string;
  writeKey: string;
  memory: MemorySample[];
  salesEvents: number;
  stop(): Promise<void>;
}

function startServer(): Promise<Server> {
  const child = fork(join(ROOT, 'bench/reliability/soak-server.ts'), [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const memory: MemorySample[] = [];
    let server: Server | undefined;
    child.on('message', (raw) => {
      const message = raw as Record<string, unknown>;
      if (message.type === 'memory') memory.push(message as never);
      if (message.type === 'sales-event' && server) server.salesEvents += 1;
      if (message.type === 'status' && message.error) {
        progress(`[soak] server: ${message.message}: ${message.error}`);
      }
      if (message.type === 'failed') reject(new Error(String(message.error)));
      if (message.type === 'ready') {
        server = {
          child,
          apiUrl: String(message.apiUrl),
          dynamoDbEndpoint: String(message.dynamoDbEndpoint),
          tableName: String(message.tableName),
          writeKey: String(message.writeKey),
          memory,
          salesEvents: 0,
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.send({ type: 'stop' });
            }),
        };
        resolve(server);
      }
    });
    child.once('exit', (code) => {
      if (server === undefined) {
        reject(
          new Error(`The soak server exited with ${code} before it was ready.`),
        );
      }
    });
  });
}

interface ReplayTally {
  requests: number;
  events: number;
  scored: number;
  duplicate: number;
  rejected: number;
  serverErrors: number;
  resent: number;
  latencies: number[];
  /** Scored messages per lead. */
  scoredByLead: Map<string, number>;
  sessions: Array<{ userId: string; messages: unknown[] }>;
}

async function post(
  server: Server,
  batch: unknown[],
  tally: ReplayTally,
): Promise<Array<{ status: string; leadId?: string }>> {
  const authorization = `Basic ${Buffer.from(`${server.writeKey}:`).toString('base64')}`;
  for (let attempt = 1; ; attempt += 1) {
    const start = performance.now();
    const response = await fetch(`${server.apiUrl}/v1/batch`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ batch }),
    });
    const text = await response.text();
    tally.latencies.push(performance.now() - start);
    tally.requests += 1;
    if (response.status === 503 && attempt < 10) {
      tally.resent += 1;
      continue;
    }
    if (response.status >= 500) tally.serverErrors += 1;
    if (response.status !== 200) {
      throw new Error(
        `POST /v1/batch returned ${response.status}: ${text.slice(0, 300)}`,
      );
    }
    return (
      JSON.parse(text) as {
        results: Array<{ status: string; leadId?: string }>;
      }
    ).results;
  }
}

async function replay(
  server: Server,
  sessions: Session[],
  options: SoakOptions,
): Promise<ReplayTally> {
  const tally: ReplayTally = {
    requests: 0,
    events: 0,
    scored: 0,
    duplicate: 0,
    rejected: 0,
    serverErrors: 0,
    resent: 0,
    latencies: [],
    scoredByLead: new Map(),
    sessions: [],
  };
  const end = Date.now() + options.minutes * 60_000;
  const run = randomUUID().slice(0, 6);
  let next = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const index = next;
      next += 1;
      const session = sessions[index % sessions.length] as Session;
      const userId = `uci-${run}-${Math.floor(index / sessions.length)}-${index % sessions.length}`;
      const messages = sessionMessages(session, userId, Date.now());
      if (messages.length === 0) continue;
      const results = await post(server, messages, tally);
      tally.events += messages.length;
      if (tally.sessions.length < 5_000)
        tally.sessions.push({ userId, messages });
      for (const result of results) {
        if (result.status === 'scored') {
          tally.scored += 1;
          const lead = result.leadId ?? userId;
          tally.scoredByLead.set(lead, (tally.scoredByLead.get(lead) ?? 0) + 1);
        } else if (result.status === 'duplicate') {
          tally.duplicate += 1;
        } else {
          tally.rejected += 1;
        }
      }
      if (index % 200 === 0) {
        progress(`[soak] ${index} sessions, ${tally.events} events sent`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return tally;
}

/** Checks stored events against the responses for a sample of leads. */
async function verifyStored(server: Server, tally: ReplayTally) {
  const sample = tally.sessions
    .filter((_, index) => index % 10 === 0)
    .slice(0, 300);
  let lost = 0;
  let duplicated = 0;
  for (const { userId, messages } of sample) {
    const stored = await storedMessageIds(
      server.dynamoDbEndpoint,
      server.tableName,
      userId,
    );
    const unique = new Set(stored);
    duplicated += stored.length - unique.size;
    const expected = tally.scoredByLead.get(userId) ?? 0;
    lost += Math.max(0, Math.min(expected, messages.length) - unique.size);
  }
  // Resending sessions must report every message as a duplicate.
  let resentNotDuplicate = 0;
  for (const { messages } of sample.slice(0, 50)) {
    const results = await post(server, messages, tally);
    resentNotDuplicate += results.filter(
      (r) => r.status !== 'duplicate',
    ).length;
  }
  return { leads: sample.length, lost, duplicated, resentNotDuplicate };
}

function thirds(samples: MemorySample[], field: 'heapUsed' | 'rss') {
  const third = Math.floor(samples.length / 3);
  const mean = (part: MemorySample[]) =>
    part.reduce((sum, sample) => sum + sample[field], 0) /
    part.length /
    2 ** 20;
  const first = mean(samples.slice(0, third));
  const last = mean(samples.slice(samples.length - third));
  return { first, last, growth: last / first - 1 };
}

/** Growth of the mean between the first and last third taken as flat. */
const FLAT_GROWTH = 0.2;

/** A --data file that exists but cannot be read. */
class DataFileError extends Error {}

/** Runs the replay; returns its section, or undefined without the data. */
async function runSoak(options: SoakOptions): Promise<string | undefined> {
  let csv: Buffer;
  try {
    csv = readFileSync(options.data);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new DataFileError(
        `The UCI online shoppers file ${options.data} ${describeFileError(error)}`,
      );
    }
    progress(
      `[soak] Skipping the replay: the UCI online shoppers file ${options.data} is missing. ` +
        'Download online_shoppers_intention.csv and pass --data FILE or set MQL_SOAK_DATA.',
    );
    return undefined;
  }
  const sessions = parse(csv, {
    columns: true,
    skip_empty_lines: true,
  }) as Session[];
  progress(`[soak] ${sessions.length} sessions; starting the local stack`);
  const server = await startServer();
  let tally: ReplayTally;
  let check: Awaited<ReturnType<typeof verifyStored>>;
  try {
    tally = await replay(server, sessions, options);
    progress('[soak] replay done; checking stored events');
    check = await verifyStored(server, tally);
  } finally {
    await server.stop();
  }
  const heap = thirds(server.memory, 'heapUsed');
  const rss = thirds(server.memory, 'rss');
  const flat = heap.growth <= FLAT_GROWTH && rss.growth <= FLAT_GROWTH;
  const latency = percentiles(tally.latencies);
  const row = (name: string, value: string) => `| ${name} | ${value} |`;
  const lines = [
    '| Figure | Value |',
    '| --- | ---: |',
    row('Duration', `${options.minutes} min`),
    row(
      `Requests (one session each, ${options.concurrency} in flight)`,
      String(tally.requests),
    ),
    row('Events sent', String(tally.events)),
    row(
      'Scored / duplicate / rejected',
      `${tally.scored} / ${tally.duplicate} / ${tally.rejected}`,
    ),
    row('Requests answered 503 and resent', String(tally.resent)),
    row('Responses 5xx after resending', String(tally.serverErrors)),
    row(
      '"Lead Qualified" received on the sales queue',
      String(server.salesEvents),
    ),
    row(
      'Request latency p50 / p95 / p99',
      `${latency.p50.toFixed(0)} / ${latency.p95.toFixed(0)} / ${latency.p99.toFixed(0)} ms`,
    ),
    row('Leads checked against stored events', String(check.leads)),
    row('Lost events', String(check.lost)),
    row('Duplicated events', String(check.duplicated)),
    row(
      'Resent messages not reported as duplicates',
      String(check.resentNotDuplicate),
    ),
    row('Memory samples', String(server.memory.length)),
    row(
      'Heap, mean of first / last third',
      `${heap.first.toFixed(1)} / ${heap.last.toFixed(1)} MiB (${(heap.growth * 100).toFixed(1)} %)`,
    ),
    row(
      'RSS, mean of first / last third',
      `${rss.first.toFixed(1)} / ${rss.last.toFixed(1)} MiB (${(rss.growth * 100).toFixed(1)} %)`,
    ),
    row('Memory flat', flat ? 'yes' : 'no'),
  ];
  const failed =
    tally.serverErrors > 0 ||
    check.lost > 0 ||
    check.duplicated > 0 ||
    check.resentNotDuplicate > 0;
  if (failed) process.exitCode = 1;
  return (
    `${lines.join('\n')}\n\n` +
    'Method: each UCI online shoppers session becomes one lead and one ' +
    'request: a page view per administrative (up to 5), informational (up ' +
    'to 5) and product page (up to 25), the pricing page when the session ' +
    'has a page value, and an identify and a demo request when it ended ' +
    'in revenue. Sessions are replayed in a loop, with new lead ids each ' +
    'round, against the local stack (`startLocalStack`) in a child process ' +
    'whose decay sweep runs every 10 s (MQL_SWEEP_INTERVAL_SECONDS). The child reports heap and RSS ' +
    'every 2 s after a full garbage collection; memory counts as flat when ' +
    `the mean of the last third of the samples is at most ${FLAT_GROWTH * 100} % ` +
    'above that of the first third. Every tenth lead, up to 300, is checked ' +
    'against its stored events, and 50 sessions are sent again.\n'
  );
}

async function runFuzz(options: SoakOptions): Promise<string> {
  const { context, stop } = createBenchContext();
  try {
    const backend = await startIngestBackend(context, 'soak-fuzz');
    const { endpoint } = await context.dynamoDb();
    const { handler } = await import('../functions/handlers/ingest.js');
    const run = randomUUID().slice(0, 8);
    const statuses = new Map<string, number>();
    let tried = 0;
    const result = await fc.check(
      fc.asyncProperty(fuzzCaseArbitrary, async (fuzzCase) => {
        const outcome = await checkCase(
          {
            writeKey: BENCH_WRITE_KEY,
            send: async (event) => {
              const response = await handler(event);
              return {
                status: response.statusCode ?? 0,
                body: response.body ?? '',
              };
            },
            storedMessageIds: (leadId) =>
              storedMessageIds(endpoint, backend.tableName, leadId),
          },
          run,
          fuzzCase,
        );
        tried += 1;
        const key = `${Math.floor(outcome.status / 100)}xx`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (tried % 500 === 0) progress(`[soak] fuzz: ${tried} cases`);
        if (outcome.failure !== undefined) throw new Error(outcome.failure);
      }),
      { numRuns: options.fuzzCases },
    );
    if (result.failed) process.exitCode = 1;
    const answers = [...statuses]
      .sort()
      .map(([key, count]) => `${key} ${count}`)
      .join(', ');
    return (
      '| Figure | Value |\n| --- | ---: |\n' +
      `| Cases tried | ${tried} |\n` +
      `| Failures | ${result.failed ? 1 : 0} |\n` +
      `| Answers by class | ${answers} |\n` +
      (result.failed
        ? `\nFailing case: \`${fc.stringify(result.counterexample)}\`: ${String(result.errorInstance)}\n`
        : '') +
      '\nMethod: the fast-check property of bench/reliability/ingest-fuzz.ts ' +
      '(also run by `npm test` with 300 cases) over the real ingest handler ' +
      'on DynamoDB Local: generated bodies, write keys in the header or the ' +
      'body, gzip, deflate and unknown encodings, base64 and sizes up to ' +
      'above the 500 KB limit. A case fails on a 5xx answer, an unknown ' +
      'result status, or a stored message set that differs from the ' +
      'messages reported `scored`. fast-check stops at the first failure, so ' +
      'failures is 0 or 1.\n'
    );
  } finally {
    await stop();
  }
}

/**
 * Parses the command line. Prints the usage for --help, or the problem
 * and a pointer to --help with exit code 2, and then returns undefined.
 */
function readOptions(): SoakOptions | undefined {
  let command: ReturnType<typeof parseSoakArguments>;
  try {
    command = parseSoakArguments(
      process.argv.slice(2),
      process.env,
      DEFAULT_DATA,
    );
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`soak: ${error.message}\n${usageHint('soak')}\n`);
    process.exitCode = 2;
    return undefined;
  }
  if (command.help) {
    process.stdout.write(SOAK_USAGE);
    return undefined;
  }
  return command.options;
}

async function main(): Promise<void> {
  const options = readOptions();
  if (options === undefined) return;
  const command = `npm run soak${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const machine = machineDescription();
  const heading = (title: string) =>
    `## ${title}\n\nCommand: \`${command}\`  \nMachine: ${machine}  \n` +
    `Date: ${new Date().toISOString().slice(0, 10)}\n\n`;
  const sections: Array<[string, string]> = [];
  if (options.minutes > 0) {
    const soak = await runSoak(options);
    if (soak !== undefined) {
      sections.push(['soak', heading('Soak: UCI sessions replay') + soak]);
    }
  }
  if (options.fuzzCases > 0) {
    progress(`[soak] fuzzing the ingest route: ${options.fuzzCases} cases`);
    sections.push([
      'fuzz',
      heading('Fuzzing the ingest route') + (await runFuzz(options)),
    ]);
  }
  for (const [name, section] of sections) {
    process.stdout.write(`${section}\n`);
    if (options.write) {
      await updateSection({
        file: 'RELIABILITY.md',
        header: HEADER,
        kind: 'soak',
        name,
        section,
      });
    }
  }
}

main().then(
  () => process.exit(),
  (error: unknown) => {
    if (error instanceof DataFileError) {
      process.stderr.write(`soak: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
