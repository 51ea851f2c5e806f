import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { parse as parseCsv } from 'csv-parse/sync';
import {
  readBoundedFile,
  UnreadableFileError,
} from '../../functions/adapters/bounded-file.js';
import { describeFileError } from '../../functions/adapters/file-error.js';
import { findJsonSyntaxError } from '../../functions/adapters/json-syntax.js';
import { requestedLeadId } from '../../functions/domain/identity.js';
import { parseMessage } from '../../functions/domain/message-checks.js';
import {
  parseIsoDateTime,
  type TrackingEvent,
  toTrackingEvent,
} from '../../functions/domain/messages.js';
import { clientConfig } from '../local-endpoint.js';
import { InputFileError, ReplayError } from '../replay/errors.js';
import { ACCEPTED_FORMATS, openInput } from '../replay/input.js';
import { X_EDUCATION_HEADER_PREFIX } from '../replay/x-education.js';
import { requireRegion, tableAccessError } from '../table-access.js';

/** Events to replay, with the outcomes known for some leads. */
export interface LoadedEvents {
  /** Origin of the events, for the report. */
  source: string;
  events: TrackingEvent[];
  /** Converted (true) or not (false) per lead id. */
  labels: Map<string, boolean>;
  /** Messages that failed validation, as ingest would reject them. */
  rejected: number;
  /** Input lines that could not be read. */
  skippedLines: number;
  /**
   * The first MAX_LISTED_PROBLEMS lines skipped or messages rejected,
   * such as `line 3: invalid JSON: …`, so the input can be fixed.
   */
  problems: string[];
}

/**
 * Size limit of an outcomes file, which is read whole: about 8 million
 * lines of `leadId,converted` with 32-byte ids, well under the maximum
 * string length of V8 (about 512 MiB).
 */
export const MAX_OUTCOMES_FILE_BYTES = 256 * 1_048_576;

/** Problems of an events file listed at most, after which only counted. */
export const MAX_LISTED_PROBLEMS = 5;

/** Settings of reading an events file. */
export interface FileOptions {
  /**
   * Receive time of messages without a time of their own, epoch ms; a
   * message with a time is taken as received then.
   */
  receivedAt: number;
  /** End of the synthetic time window of X Education rows, epoch ms. */
  referenceTime: number;
  maxVisits: number;
  /** Whether the X Education CSV's Converted labels are read; @default true */
  readLabels?: boolean;
}

/**
 * Reads Segment messages from an NDJSON file, or the X Education leads
 * CSV with its Converted labels, through the replay's readers. Messages
 * are judged with ingest's checks of nesting, size and schema, so a
 * message ingest would reject is counted as rejected. Duplicate message
 * ids count once.
 */
export async function readEventsFile(
  file: string,
  options: FileOptions,
): Promise<LoadedEvents> {
  const input = await openInput(file, options);
  const loaded: LoadedEvents = {
    source: file,
    events: [],
    labels: new Map(),
    rejected: 0,
    skippedLines: 0,
    problems: [],
  };
  const noteProblem = (problem: string) => {
    if (loaded.problems.length < MAX_LISTED_PROBLEMS) {
      loaded.problems.push(problem);
    }
  };
  const seen = new Set<string>();
  for await (const item of input.items) {
    if (item.kind === 'issue') {
      loaded.skippedLines += 1;
      noteProblem(`line ${item.line}: ${item.reason}`);
      continue;
    }
    if (item.leadId !== undefined && item.converted !== undefined) {
      loaded.labels.set(requestedLeadId(item.leadId), item.converted);
    }
    for (const message of item.messages) {
      const parsed = parseMessage(message);
      if (!parsed.success) {
        loaded.rejected += 1;
        const reason = parsed.errors
          .map((issue) => `${issue.field}: ${issue.message}`)
          .join('; ');
        noteProblem(`${item.origin}: ${reason}`);
        continue;
      }
      const event = toTrackingEvent(
        parsed.data,
        receiveTimeOf(parsed.data, options.receivedAt),
      );
      if (seen.has(event.messageId)) continue;
      seen.add(event.messageId);
      loaded.events.push(event);
    }
  }
  if (loaded.events.length === 0) {
    throw new InputFileError(
      `The events file ${file} contains no event to replay: ` +
        `${loaded.problems[0] ?? 'the file is empty'}. Give it ` +
        `${ACCEPTED_FORMATS}.`,
    );
  }
  return loaded;
}

function receiveTimeOf(
  message: { timestamp?: string; originalTimestamp?: string },
  fallback: number,
): number {
  const stated = message.timestamp ?? message.originalTimestamp;
  return (
    (stated === undefined ? undefined : parseIsoDateTime(stated)) ?? fallback
  );
}

/** Settings of reading the events a running engine stored. */
export interface TableOptions {
  tableName: string;
  /** Option or variable that set the table, named in errors. */
  tableSource?: string;
  /** DynamoDB endpoint; the AWS SDK's default when absent. */
  endpoint?: string;
  /** Option or variable that set the endpoint, named in errors. */
  endpointSource?: string;
  /** Parallel scan segments. @default 4 */
  segments?: number;
}

/**
 * Reads every stored event of a lead table with a parallel Scan. Request
 * paths never scan; this offline read does, because a backtest needs
 * every event of every lead. Raises ReplayError when the table contains
 * no event, as readEventsFile does for an empty file.
 */
export async function readStoredEvents(
  options: TableOptions,
): Promise<LoadedEvents> {
  const client = new DynamoDBClient(clientConfig(options.endpoint));
  const segments = options.segments ?? 4;
  try {
    await requireRegion(client);
    const parts = await Promise.all(
      Array.from({ length: segments }, (_, segment) =>
        scanSegment(client, options.tableName, segment, segments),
      ),
    ).catch((error: unknown) => {
      throw tableAccessError(error, options.tableName, options.endpoint, {
        table: options.tableSource,
        endpoint: options.endpointSource,
      });
    });
    const events = parts.flat();
    if (events.length === 0) {
      throw new ReplayError(
        'no-events',
        `The table ${options.tableName} contains no stored event to replay. ` +
          'Ingest events into it first, name another table with --table, ' +
          'or replay a file with --events FILE.',
      );
    }
    return {
      source: `table ${options.tableName}`,
      events,
      labels: new Map(),
      rejected: 0,
      skippedLines: 0,
      problems: [],
    };
  } finally {
    client.destroy();
  }
}

async function scanSegment(
  client: DynamoDBClient,
  tableName: string,
  segment: number,
  totalSegments: number,
): Promise<TrackingEvent[]> {
  const events: TrackingEvent[] = [];
  const pages = paginateScan(
    { client },
    {
      TableName: tableName,
      Segment: segment,
      TotalSegments: totalSegments,
      FilterExpression: '#entity = :event',
      ProjectionExpression: '#event',
      ExpressionAttributeNames: { '#entity': 'entity', '#event': 'event' },
      ExpressionAttributeValues: { ':event': { S: 'event' } },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      events.push(JSON.parse(String(unmarshall(item).event)) as TrackingEvent);
    }
  }
  return events;
}

/**
 * Reads known outcomes from CSV lines `leadId,converted`, where converted
 * is 1, 0, true or false and a first line `leadId,converted` is skipped
 * as the header, from NDJSON objects with `leadId` and `converted`, or
 * from the `Converted` column of the X Education leads CSV. The first
 * non-empty line decides between NDJSON (a line starting with `{` or `[`)
 * and CSV, and a line of the other format is rejected. Raises
 * InputFileError naming the line, and also for a file without outcomes.
 */
export async function readOutcomes(
  file: string,
): Promise<Map<string, boolean>> {
  let text: string;
  try {
    text = (await readBoundedFile(file, MAX_OUTCOMES_FILE_BYTES)).toString(
      'utf8',
    );
  } catch (error) {
    throw unreadableOutcomesError(file, error);
  }
  text = text.replace(/^\uFEFF/, '');
  if (text.startsWith(X_EDUCATION_HEADER_PREFIX)) {
    return readXEducationOutcomes(file);
  }
  const lines = text.split(/\r?\n/);
  const firstIndex = lines.findIndex((line) => line.trim() !== '');
  if (firstIndex === -1) {
    throw noOutcomesError(file, 'the file is empty');
  }
  const format: OutcomeFormat = isJsonLine(lines[firstIndex] ?? '')
    ? { kind: 'ndjson', firstLine: firstIndex + 1 }
    : { kind: 'csv', firstLine: firstIndex + 1 };
  const labels = new Map<string, boolean>();
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `Line ${index + 1} of ${file}`;
    if (index === firstIndex && format.kind === 'csv') {
      const columns = headerColumns(line);
      if (isOutcomeHeader(columns)) return;
      const named = columns.includes('leadid') || columns.includes('converted');
      if (named && csvOutcomeOf(line.trim()).outcome === undefined) {
        throw new InputFileError(
          `${where} is a header with the columns ${line.trim()}, but an outcomes CSV has exactly two: leadId,converted. Remove the other columns.`,
        );
      }
    }
    const outcome =
      format.kind === 'ndjson'
        ? parseNdjsonOutcome(line, where, format.firstLine)
        : parseCsvOutcome(line, where, format.firstLine);
    const leadId = requestedLeadId(outcome[0]);
    if (labels.has(leadId) && labels.get(leadId) !== outcome[1]) {
      throw new InputFileError(
        `${where} gives lead ${leadId} another outcome than an earlier line; list each lead once.`,
      );
    }
    labels.set(leadId, outcome[1]);
  });
  if (labels.size === 0) {
    throw noOutcomesError(file, 'it contains only the header line');
  }
  return labels;
}

/** Format of an outcomes file, decided by its first non-empty line. */
interface OutcomeFormat {
  kind: 'ndjson' | 'csv';
  /** Number of that line, counted from 1. */
  firstLine: number;
}

function isJsonLine(line: string): boolean {
  const trimmed = line.trim();
  return trimmed.startsWith('{') || trimmed.startsWith('[');
}

function noOutcomesError(file: string, reason: string): InputFileError {
  return new InputFileError(
    `The outcomes file ${file} contains no outcomes: ${reason}. Give CSV ` +
      'lines "leadId,converted", NDJSON objects {"leadId": "…", ' +
      '"converted": true} or the X Education leads CSV, or leave out ' +
      '--outcomes.',
  );
}

/**
 * Reads one line of an NDJSON outcomes file. A line that is a valid CSV
 * outcome is rejected as a mix of formats.
 */
function parseNdjsonOutcome(
  line: string,
  where: string,
  firstLine: number,
): [string, boolean] {
  const trimmed = line.trim();
  if (!isJsonLine(trimmed) && csvOutcomeOf(trimmed).outcome !== undefined) {
    throw new InputFileError(
      `${where} is a CSV line "leadId,converted", but line ${firstLine} is JSON, so the file is read as NDJSON. Use one format per file.`,
    );
  }
  const indent = line.length - line.trimStart().length;
  return parseOutcomeObject(trimmed, where, indent);
}

/**
 * Reads one line of a CSV outcomes file. A JSON line is rejected as a
 * mix of formats, and any other invalid line with its reason.
 */
function parseCsvOutcome(
  line: string,
  where: string,
  firstLine: number,
): [string, boolean] {
  const trimmed = line.trim();
  if (isJsonLine(trimmed)) {
    throw new InputFileError(
      `${where} is a JSON line, but line ${firstLine} is CSV, so the file is read as CSV. Use one format per file.`,
    );
  }
  const { outcome, problem } = csvOutcomeOf(trimmed);
  if (outcome === undefined) {
    throw new InputFileError(
      `${where} is not "leadId,converted" with converted 1, 0, true or false: ${problem}.`,
    );
  }
  return outcome;
}

function unreadableOutcomesError(file: string, error: unknown) {
  let message = `The outcomes file ${file} ${describeFileError(error)}`;
  if (error instanceof UnreadableFileError) {
    message = `The outcomes file ${file} ${error.message}. Give a CSV or NDJSON file of outcomes.`;
  }
  return new InputFileError(message, { cause: error });
}

async function readXEducationOutcomes(
  file: string,
): Promise<Map<string, boolean>> {
  const input = await openInput(file, { referenceTime: Date.now() });
  const labels = new Map<string, boolean>();
  for await (const item of input.items) {
    if (item.kind === 'issue') continue;
    if (item.leadId !== undefined && item.converted !== undefined) {
      labels.set(requestedLeadId(item.leadId), item.converted);
    }
  }
  return labels;
}

/**
 * Returns the columns of a possible header line, without case, spaces,
 * double quotes or a byte order mark.
 */
function headerColumns(line: string): string[] {
  return line
    .replace(/^\uFEFF/, '')
    .split(',')
    .map((column) =>
      column
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase(),
    );
}

/** Tells whether header columns are those of `leadId,converted`. */
function isOutcomeHeader(columns: readonly string[]): boolean {
  return (
    columns.length === 2 &&
    columns[0] === 'leadid' &&
    columns[1] === 'converted'
  );
}

/**
 * Reads an NDJSON outcome `{"leadId": "…", "converted": true}`. Raises
 * InputFileError naming the line and the invalid field, because the CSV
 * message about columns would not fit a JSON line. `indent` is the
 * whitespace trimmed before `line`, so columns count from the line start.
 */
function parseOutcomeObject(
  line: string,
  where: string,
  indent: number,
): [string, boolean] {
  // The syntax error comes from findJsonSyntaxError, because the message
  // of JSON.parse quotes the text around it, which may hold a lead id.
  const syntaxError = findJsonSyntaxError(line);
  if (syntaxError !== undefined) {
    throw new InputFileError(
      `${where} is not valid JSON (column ${syntaxError.column + indent}: ` +
        `${syntaxError.problem}). Write one object ` +
        '{"leadId": "…", "converted": true} per line.',
    );
  }
  const parsed: unknown = JSON.parse(line);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InputFileError(
      `${where} is ${describeJsonValue(parsed, false)}, not an object. ` +
        'Write one object {"leadId": "…", "converted": true} per line.',
    );
  }
  const { leadId, converted } = parsed as Record<string, unknown>;
  if (typeof leadId !== 'string' || leadId.trim() === '') {
    throw new InputFileError(
      `${where}: field "leadId" must be a non-empty string, got ` +
        `${describeJsonValue(leadId, false)}.`,
    );
  }
  const value = booleanOf(converted);
  if (value === undefined) {
    throw new InputFileError(
      `${where}: field "converted" must be true, false, 1 or 0, as a JSON ` +
        `value or a string, got ${describeJsonValue(converted, true)}.`,
    );
  }
  return [leadId, value];
}

/**
 * Describes a JSON value for an error message. Strings are shown only
 * with `showText` and cut to 20 characters, because a lead id may be
 * personal data such as an email address.
 */
function describeJsonValue(value: unknown, showText: boolean): string {
  if (value === undefined) return 'no value';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    if (!showText) return value.trim() === '' ? 'an empty string' : 'a string';
    const excerpt = value.length > 20 ? `${value.slice(0, 20)}…` : value;
    return JSON.stringify(excerpt);
  }
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** A CSV outcome line read: the outcome, or why the line is invalid. */
type CsvOutcome =
  | { outcome: [string, boolean]; problem?: undefined }
  | { outcome?: undefined; problem: string };

function csvOutcomeOf(line: string): CsvOutcome {
  const fields = line.includes('"') ? quotedFieldsOf(line) : undefined;
  if (fields === null) return { problem: 'a quoted field is not closed' };
  if (fields !== undefined && fields.length === 2) {
    return outcomeOf(fields[0] as string, fields[1] as string);
  }
  // An unquoted lead id may contain commas, so the last comma ends it.
  const comma = line.lastIndexOf(',');
  if (comma < 0) return { problem: 'the line has no comma' };
  return outcomeOf(line.slice(0, comma), line.slice(comma + 1));
}

/**
 * Splits a CSV line with double quotes into its fields by RFC 4180, so
 * that `"Smith, Jane","1"` is the lead `Smith, Jane`. A quote inside an
 * unquoted field is kept as text. Returns null when a quoted field is
 * not closed.
 */
function quotedFieldsOf(line: string): string[] | null {
  try {
    const [fields] = parseCsv(line, { relax_quotes: true }) as string[][];
    return fields ?? null;
  } catch {
    return null;
  }
}

/** Checks the two fields of a CSV outcome line. */
function outcomeOf(leadId: string, converted: string): CsvOutcome {
  const id = leadId.trim();
  if (id === '') return { problem: 'the leadId field is empty' };
  const value = booleanOf(converted.trim());
  if (value === undefined) {
    return {
      problem: `the converted field is ${describeJsonValue(converted.trim(), true)}`,
    };
  }
  return { outcome: [id, value] };
}

function booleanOf(value: unknown): boolean | undefined {
  if (value === true || value === 1 || value === '1' || value === 'true') {
    return true;
  }
  if (value === false || value === 0 || value === '0' || value === 'false') {
    return false;
  }
  return undefined;
}
