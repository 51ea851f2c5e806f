import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoLeadRepository } from '../functions/adapters/dynamodb/lead-repository.js';
import {
  confirmEventBus,
  EventBusNotFoundError,
} from '../functions/adapters/eventbridge/bus-check.js';
import { EventBridgePublisher } from '../functions/adapters/eventbridge/event-publisher.js';
import type { Log } from '../functions/ports/logger.js';
import { isLoopbackEndpoint } from '../local/loopback.js';
import { usageHint } from './command-line.js';
import { clientConfig } from './local-endpoint.js';
import {
  countOf,
  listOutbox,
  type OutboxDependencies,
  retryOutbox,
  retryReport,
  showOutboxEntry,
  summaryOf,
} from './outbox/commands.js';
import {
  EVENTS_ENDPOINT_VARIABLE,
  type OutboxCommand,
  type OutboxOptions,
  parseOutboxArguments,
  USAGE,
} from './outbox/options.js';
import { describeCause, ReplayError, UsageError } from './replay/errors.js';
import {
  isConnectionError,
  requireRegion,
  tableAccessError,
} from './table-access.js';

/**
 * `npm run outbox -- list|show|retry`: inspect and retry the outbox
 * entries of a lead table, local or in AWS. Results go to stdout as JSON
 * lines, counts and errors to stderr.
 */
async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const parsed = parseOutboxArguments(process.argv.slice(2), process.env);
  if (parsed.command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  for (const note of parsed.options.notes) {
    process.stderr.write(`${note}\n`);
  }
  const deps = await dependencies(parsed.options);
  try {
    await run(parsed, deps);
  } catch (error) {
    if (error instanceof ReplayError) throw error;
    const { tableName, endpoint, sources } = parsed.options;
    throw tableAccessError(error, tableName, endpoint, sources);
  }
}

/** Runs one command and writes its results. */
async function run(
  parsed: Exclude<OutboxCommand, { command: 'help' }>,
  deps: OutboxDependencies,
): Promise<void> {
  if (parsed.command === 'list') {
    const { entries, more } = await listOutbox(
      deps,
      parsed.pending,
      parsed.options.limit,
    );
    for (const entry of entries) {
      process.stdout.write(`${JSON.stringify(summaryOf(entry))}\n`);
    }
    process.stderr.write(
      `${countOf(entries.length, 'outbox entry', 'outbox entries')}\n`,
    );
    writeLimitNote(
      parsed.options.limit,
      more,
      'Pass a larger --limit, or none, to list them.',
    );
    return;
  }
  if (parsed.command === 'show') {
    const entry = await showOutboxEntry(deps, parsed.leadId, parsed.eventId);
    const shown = { ...summaryOf(entry), detail: entry.event.detail };
    process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    return;
  }
  const { outcomes, more } = await retryOutbox(
    deps,
    parsed.target,
    parsed.options.limit,
  );
  for (const outcome of outcomes) {
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
  }
  const report = retryReport(outcomes);
  for (const line of report.lines) {
    process.stderr.write(`${line}\n`);
  }
  if (parsed.target === 'all') {
    writeLimitNote(
      parsed.options.limit,
      more,
      'Run retry --all again to retry the next ones.',
    );
  }
  if (report.exitCode !== 0) process.exitCode = report.exitCode;
}

/** Writes to stderr that --limit left entries out, when it did. */
function writeLimitNote(
  limit: number | undefined,
  more: boolean,
  advice: string,
): void {
  if (limit === undefined || !more) return;
  process.stderr.write(
    `outbox: stopped at --limit ${limit}, and more entries remain. ${advice}\n`,
  );
}

async function dependencies(
  options: OutboxOptions,
): Promise<OutboxDependencies> {
  const region = options.region === undefined ? {} : { region: options.region };
  const dynamoDb = new DynamoDBClient({
    ...clientConfig(options.endpoint),
    ...region,
  });
  await requireRegion(dynamoDb);
  const repository = new DynamoLeadRepository(dynamoDb, {
    tableName: options.tableName,
  });
  const publisher =
    options.eventBusName === undefined
      ? undefined
      : await busPublisher(options, options.eventBusName);
  return { repository, publisher, clock: Date.now, log: stderrLog() };
}

/**
 * Returns a publisher to the bus of --bus after confirming that the bus
 * exists. EventBridge takes its endpoint from AWS_ENDPOINT_URL_EVENTBRIDGE,
 * not from --endpoint, because moto and DynamoDB Local listen on
 * different ports. A loopback --endpoint without it is rejected, because
 * the retry would then publish local events to a bus in AWS.
 */
async function busPublisher(
  options: OutboxOptions,
  eventBusName: string,
): Promise<EventBridgePublisher> {
  const { eventsEndpoint } = options;
  if (eventsEndpoint === undefined && isLoopback(options.endpoint)) {
    const endpointSource = options.sources.endpoint ?? '--endpoint';
    throw new UsageError(
      `--bus needs an EventBridge endpoint: ${endpointSource} ${options.endpoint} ` +
        'applies to DynamoDB only. Set AWS_ENDPOINT_URL_EVENTBRIDGE to the ' +
        'moto URL that `npm start` prints, or leave out --bus so that the ' +
        'next sweep publishes the retried entries.',
    );
  }
  const events = new EventBridgeClient({
    ...clientConfig(eventsEndpoint),
    ...(options.region === undefined ? {} : { region: options.region }),
  });
  try {
    await events.config.region();
  } catch {
    throw new UsageError(
      '--bus needs an EventBridge endpoint or an AWS region. For the local ' +
        'stack, set AWS_ENDPOINT_URL_EVENTBRIDGE to the moto URL that ' +
        '`npm start` prints. For a bus in AWS, set AWS_REGION or pass --region.',
    );
  }
  try {
    await confirmEventBus(events, eventBusName);
  } catch (error) {
    throw busCheckError(error, eventBusName, eventsEndpoint);
  }
  return new EventBridgePublisher(events, { eventBusName });
}

/**
 * Returns the error to print when the check of the --bus bus failed:
 * a missing bus, a local endpoint that does not respond, or another
 * failure with the SDK's message.
 */
function busCheckError(
  error: unknown,
  eventBusName: string,
  eventsEndpoint: string | undefined,
): Error {
  const where = eventsEndpoint ?? 'AWS';
  if (error instanceof EventBusNotFoundError) {
    return new Error(
      `Event bus "${eventBusName}" does not exist at ${where}. ` +
        'EventBridge accepts events for a missing bus and drops them. Pass ' +
        'an existing bus with --bus, such as the one that `npm start` prints.',
      { cause: error },
    );
  }
  if (eventsEndpoint !== undefined && isConnectionError(error)) {
    return new Error(
      `Cannot reach EventBridge at ${where} (${describeCause(error)}). ` +
        `Start the local stack with \`npm start\` and set ${EVENTS_ENDPOINT_VARIABLE} ` +
        'to the moto URL from its "ready:" line.',
      { cause: error },
    );
  }
  return new Error(
    `Checking the event bus "${eventBusName}" at ${where} failed: ` +
      `${describeCause(error)}. Nothing was retried.`,
    { cause: error },
  );
}

function isLoopback(endpoint: string | undefined): boolean {
  return endpoint !== undefined && isLoopbackEndpoint(endpoint);
}

/** Writes warnings and errors of the publish path to stderr as JSON. */
function stderrLog(): Log {
  const write =
    (level: string) => (message: string, fields?: Record<string, unknown>) => {
      process.stderr.write(
        `${JSON.stringify({ level, message, ...fields })}\n`,
      );
    };
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: write('warn'),
    error: write('error'),
  };
}

main().catch((error: unknown) => {
  process.exitCode = error instanceof UsageError ? 2 : 1;
  if (error instanceof UsageError) {
    process.stderr.write(`outbox: ${error.message}\n${usageHint('outbox')}\n`);
  } else if (error instanceof ReplayError || error instanceof Error) {
    process.stderr.write(`outbox: ${error.message}\n`);
  } else {
    process.stderr.write(`outbox: unexpected error: ${String(error)}\n`);
  }
});
