import {
  describeParseArgsError,
  describeUnexpectedArguments,
  type ParseArgsOptionsConfig,
  parseArgsOnce,
} from '../command-line.js';
import {
  dynamoDbEndpointOf,
  isHttpUrl,
  tableNameOf,
  tableSourceOf,
  withoutCredentials,
} from '../dynamodb-target.js';
import { parseIntegerOption } from '../integer-option.js';
import { DEFAULT_TABLE } from '../model/options.js';
import { UsageError } from '../replay/errors.js';
import type { TargetSources } from '../table-access.js';
import { optionalVariable } from '../user-path.js';

/** Variable that sets the EventBridge endpoint of --bus, as the AWS SDK reads it. */
export const EVENTS_ENDPOINT_VARIABLE = 'AWS_ENDPOINT_URL_EVENTBRIDGE';

export const USAGE = `Usage: npm run outbox -- COMMAND [options]

Inspect and retry the outbox entries of a lead table.

Commands:
  list                      list failed outbox entries, one JSON line each
  list --pending            list pending entries too
  show LEAD_ID EVENT_ID     print one entry with its detail
  retry LEAD_ID EVENT_ID    make a failed entry pending again
  retry --all               make every failed entry pending again

Options:
  --table NAME        lead table, such as mql-engine-prod (default:
                      $TABLE_NAME, else ${DEFAULT_TABLE})
  --endpoint URL      DynamoDB endpoint, such as http://127.0.0.1:8000 for
                      DynamoDB Local, which needs no AWS region or
                      credentials (default: $AWS_ENDPOINT_URL_DYNAMODB,
                      else the AWS SDK's settings)
  --region NAME       AWS region (default: the AWS SDK's settings)
  --bus NAME          with retry: publish to this event bus now instead of
                      waiting for the next sweep (a local bus needs
                      AWS_ENDPOINT_URL_EVENTBRIDGE set to the moto URL
                      that \`npm start\` prints)
  --limit N           with list and retry --all: list or retry at most N
                      entries, the earliest failed first (default: all)
  -h, --help          print this help

With --bus, retry exits with 1 when the bus rejects any entry again.
A retried entry keeps its event id, so consumers that already received
it drop the repeat. Retried entries go to review shard 0, which every
sweep reads, and list --pending reads every shard a stage may have, so
neither needs the stage's shard count.
`;

export interface OutboxOptions {
  tableName: string;
  endpoint: string | undefined;
  /** Options or variables that set the table and endpoint. */
  sources: TargetSources;
  region: string | undefined;
  eventBusName: string | undefined;
  /** EventBridge endpoint of --bus, from AWS_ENDPOINT_URL_EVENTBRIDGE. */
  eventsEndpoint: string | undefined;
  /** Maximum entries that list and retry --all take, or undefined for all. */
  limit: number | undefined;
  /** Notes for stderr about options that the command ignores. */
  notes: string[];
}

export type OutboxCommand =
  | { command: 'help' }
  | { command: 'list'; pending: boolean; options: OutboxOptions }
  | {
      command: 'show';
      leadId: string;
      eventId: string;
      options: OutboxOptions;
    }
  | {
      command: 'retry';
      target: { leadId: string; eventId: string } | 'all';
      options: OutboxOptions;
    };

/** Options that only some commands take, per command. */
const COMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  list: ['pending', 'limit'],
  show: [],
  retry: ['all', 'bus', 'limit'],
};

/** Parses the command line; raises UsageError naming what is wrong. */
export function parseOutboxArguments(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): OutboxCommand {
  const { values, positionals } = parseWith(argv);
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') {
    return { command: 'help' };
  }
  if (command === undefined) {
    throw new UsageError('Missing the command. Use list, show or retry.');
  }
  if (!Object.hasOwn(COMMAND_OPTIONS, command)) {
    throw new UsageError(
      `Unknown command "${command}". Use list, show or retry.`,
    );
  }
  const allowed = COMMAND_OPTIONS[command] ?? [];
  for (const option of ['pending', 'all', 'bus', 'limit'] as const) {
    if (values[option] !== undefined && !allowed.includes(option)) {
      throw new UsageError(`${command} does not take --${option}.`);
    }
  }
  if (command === 'retry' && values.limit !== undefined && !values.all) {
    throw new UsageError(
      'retry LEAD_ID EVENT_ID does not take --limit, because it retries one entry. Use --limit with retry --all.',
    );
  }
  // The arguments are checked before the options, so a command without
  // its ids gets that error first.
  switch (command) {
    case 'list': {
      expectArguments(command, rest, 0);
      const options = optionsOf(values, env);
      return { command, pending: values.pending === true, options };
    }
    case 'show': {
      const [leadId, eventId] = entryIds(command, rest);
      return { command, leadId, eventId, options: optionsOf(values, env) };
    }
    case 'retry': {
      if (values.all) {
        expectArguments('retry --all', rest, 0);
        return { command, target: 'all', options: optionsOf(values, env) };
      }
      if (rest.length === 0) {
        throw new UsageError(
          'retry takes LEAD_ID EVENT_ID of one entry, or --all for every failed entry.',
        );
      }
      const [leadId, eventId] = entryIds(command, rest);
      const options = optionsOf(values, env);
      return { command, target: { leadId, eventId }, options };
    }
    default:
      throw new UsageError(
        `Unknown command "${command}". Use list, show or retry.`,
      );
  }
}

const OUTBOX_OPTIONS = {
  table: { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'review-shards': { type: 'string' },
  bus: { type: 'string' },
  limit: { type: 'string' },
  pending: { type: 'boolean' },
  all: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsOptionsConfig;

function parseWith(argv: readonly string[]) {
  try {
    return parseArgsOnce({
      args: [...argv],
      allowPositionals: true,
      options: OUTBOX_OPTIONS,
    });
  } catch (error) {
    throw new UsageError(describeParseArgsError(error, OUTBOX_OPTIONS));
  }
}

function optionsOf(
  values: ReturnType<typeof parseWith>['values'],
  env: NodeJS.ProcessEnv,
): OutboxOptions {
  const tableName = tableNameOf(values.table, env, DEFAULT_TABLE);
  const endpoint = dynamoDbEndpointOf(values.endpoint, env);
  return {
    tableName,
    endpoint: endpoint?.url,
    sources: {
      table: tableSourceOf(values.table, env),
      endpoint: endpoint?.source,
    },
    region: regionOf(values.region),
    eventBusName: busOf(values.bus),
    eventsEndpoint:
      values.bus === undefined ? undefined : eventsEndpointOf(env),
    limit:
      values.limit === undefined
        ? undefined
        : parseIntegerOption('--limit', values.limit, 1),
    notes: values['review-shards'] === undefined ? [] : [REVIEW_SHARDS_NOTE],
  };
}

/**
 * Host label rule that the AWS SDK applies to a region. A region that
 * breaks it fails in the SDK as "Region is missing", or as no region at
 * all, so --region is checked here.
 */
const REGION_PATTERN = /^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)$/;

function regionOf(region: string | undefined): string | undefined {
  if (region !== undefined && !REGION_PATTERN.test(region)) {
    throw new UsageError(
      `Invalid --region "${region}": expected an AWS region such as ` +
        'us-east-1, made of letters, digits and hyphens.',
    );
  }
  return region;
}

/**
 * Returns the bus of --bus and rejects a blank name. The AWS SDK for
 * JavaScript v3 sends an empty name as it is, and moto 5.2 takes it as
 * the default bus in DescribeEventBus and PutEvents. So retried entries
 * would leave the outbox without reaching the stage's rules.
 */
function busOf(bus: string | undefined): string | undefined {
  if (bus !== undefined && bus.trim() === '') {
    throw new UsageError(
      `Invalid --bus "${bus}": name the event bus to publish to, such as ` +
        'mql-engine-prod, or leave out --bus so that the next sweep ' +
        'publishes the retried entries.',
    );
  }
  return bus;
}

/**
 * Returns AWS_ENDPOINT_URL_EVENTBRIDGE unless it is empty. Raises
 * UsageError naming the variable when it is not an http or https URL.
 */
function eventsEndpointOf(env: NodeJS.ProcessEnv): string | undefined {
  const endpoint = optionalVariable(env, EVENTS_ENDPOINT_VARIABLE);
  if (endpoint === undefined) return undefined;
  const shown = withoutCredentials(endpoint);
  if (!isHttpUrl(endpoint)) {
    throw new UsageError(
      `Invalid ${EVENTS_ENDPOINT_VARIABLE} "${shown}": expected an http ` +
        'or https URL, such as the moto URL that `npm start` prints.',
    );
  }
  if (shown !== endpoint) {
    throw new UsageError(
      `Invalid ${EVENTS_ENDPOINT_VARIABLE}: the URL contains a user name ` +
        'or password, which EventBridge does not read. Remove them, as in ' +
        `${shown}, and give AWS credentials through the usual AWS SDK ` +
        'settings.',
    );
  }
  return endpoint;
}

/** Note for --review-shards, which scripts written for older releases pass. */
export const REVIEW_SHARDS_NOTE =
  'Ignored --review-shards: retry puts entries in review shard 0, which every sweep reads, and list --pending reads every shard, so the option is no longer needed.';

function expectArguments(
  command: string,
  rest: readonly string[],
  count: number,
): string[] {
  if (count > 0 && rest.length < count) {
    const missing = rest.length === 0 ? 'LEAD_ID and EVENT_ID' : 'EVENT_ID';
    throw new UsageError(
      `Missing ${missing}: ${command} takes LEAD_ID EVENT_ID of one entry, as \`npm run outbox -- list\` prints them.`,
    );
  }
  if (rest.length > count) {
    const accepted =
      count === 0
        ? `${command} takes options only`
        : `${command} takes LEAD_ID EVENT_ID`;
    throw new UsageError(
      describeUnexpectedArguments(rest.slice(count), accepted),
    );
  }
  return [...rest];
}

function entryIds(command: string, rest: readonly string[]): [string, string] {
  const [leadId = '', eventId = ''] = expectArguments(command, rest, 2);
  const ids: Array<[string, string]> = [
    ['LEAD_ID', leadId],
    ['EVENT_ID', eventId],
  ];
  for (const [name, value] of ids) {
    if (value.trim() === '') {
      throw new UsageError(
        `${name} of ${command} is empty: give the lead id and event id of one entry, as \`npm run outbox -- list\` prints them.`,
      );
    }
  }
  return [leadId, eventId];
}
