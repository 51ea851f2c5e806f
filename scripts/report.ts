import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoLeadRepository } from '../functions/adapters/dynamodb/lead-repository.js';
import type { OutcomeRecord } from '../functions/domain/disposition.js';
import {
  describeParseArgsError,
  describeUnexpectedArguments,
  type ParseArgsOptionsConfig,
  parseArgsOnce,
  usageHint,
} from './command-line.js';
import {
  dynamoDbEndpointOf,
  tableNameOf,
  tableSourceOf,
} from './dynamodb-target.js';
import { parseIntegerOption } from './integer-option.js';
import { clientConfig } from './local-endpoint.js';
import { UsageError } from './replay/errors.js';
import {
  conversionByBand,
  formatConversion,
  lastMonths,
} from './report/conversion.js';
import {
  requireRegion,
  TableAccessError,
  type TargetSources,
  tableAccessError,
} from './table-access.js';

const DEFAULT_TABLE = 'mql-engine-local';

/** Maximum months one report reads: 100 years, one query per month. */
const MAX_MONTHS = 1200;

/** Months queried at once. */
const MONTHS_IN_FLIGHT = 12;

export const USAGE = `Usage: npm run report -- conversion [options]

conversion  prints, per band of the score at qualification, how many
            qualified lead episodes have each final disposition
            (accepted, rejected, recycled, converted to an SQL or to
            an opportunity), each episode counted once, and the share
            that ended converted

Options (defaults in brackets):
  --table NAME       lead table [TABLE_NAME, else ${DEFAULT_TABLE}]
  --endpoint URL     DynamoDB endpoint, such as the one \`npm start\`
                     prints [AWS_ENDPOINT_URL_DYNAMODB, else AWS]
  --months N         months back to read, this month included, at
                     most ${MAX_MONTHS} [12]
  --band-width N     width of a score band in points [10]
  --json             print the bands as JSON
  -h, --help         print this help
`;

interface ReportOptions {
  table: string;
  endpoint: string | undefined;
  sources: TargetSources;
  months: number;
  bandWidth: number;
  json: boolean;
}

function parseOptions(argv: string[]): ReportOptions | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(describeParseArgsError(error, REPORT_OPTIONS));
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [report, ...extra] = positionals;
  if (report === undefined) {
    throw new UsageError(
      'Missing the report name; the only report is "conversion".',
    );
  }
  if (report !== 'conversion') {
    throw new UsageError(
      `Unknown report "${report}"; the only report is "conversion".`,
    );
  }
  if (extra.length > 0) {
    throw new UsageError(
      describeUnexpectedArguments(extra, 'conversion takes options only'),
    );
  }
  const months = positiveInteger('--months', values.months ?? '12', MAX_MONTHS);
  const endpoint = dynamoDbEndpointOf(values.endpoint, process.env);
  return {
    table: tableNameOf(values.table, process.env, DEFAULT_TABLE),
    endpoint: endpoint?.url,
    sources: {
      table: tableSourceOf(values.table, process.env),
      endpoint: endpoint?.source,
    },
    months,
    bandWidth: positiveInteger(
      '--band-width',
      values['band-width'] ?? '10',
      MAX_BAND_WIDTH,
    ),
    json: values.json ?? false,
  };
}

const REPORT_OPTIONS = {
  table: { type: 'string' },
  endpoint: { type: 'string' },
  months: { type: 'string' },
  'band-width': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsOptionsConfig;

function parse(argv: string[]) {
  return parseArgsOnce({
    args: argv,
    allowPositionals: true,
    options: REPORT_OPTIONS,
  });
}

/** Widest score band, as high as a model's threshold may be. */
const MAX_BAND_WIDTH = 1_000_000_000;

function positiveInteger(name: string, text: string, max: number): number {
  return parseIntegerOption(name, text, 1, max);
}

/**
 * `npm run report -- conversion`: reads the sales dispositions of the
 * last months from the lead table and prints conversion per score band.
 */
async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const client = new DynamoDBClient(clientConfig(options.endpoint));
  await requireRegion(client);
  const repository = new DynamoLeadRepository(client, {
    tableName: options.table,
  });
  const months = lastMonths(Date.now(), options.months);
  const outcomes: OutcomeRecord[] = [];
  for (let start = 0; start < months.length; start += MONTHS_IN_FLIGHT) {
    const slice = months.slice(start, start + MONTHS_IN_FLIGHT);
    const pages = await Promise.all(
      slice.map((month) => repository.listOutcomes(month)),
    ).catch((error: unknown) => {
      throw tableAccessError(
        error,
        options.table,
        options.endpoint,
        options.sources,
      );
    });
    outcomes.push(...pages.flat());
  }
  const bands = conversionByBand(outcomes, options.bandWidth);
  process.stdout.write(
    options.json
      ? `${JSON.stringify(bands, null, 2)}\n`
      : formatConversion(bands, options.bandWidth, months),
  );
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`report: ${error.message}\n${usageHint('report')}\n`);
    process.exitCode = 2;
    return;
  }
  const message =
    error instanceof TableAccessError
      ? error.message
      : `failed: ${String(error)}`;
  process.stderr.write(`report: ${message}\n`);
  process.exitCode = 1;
});
