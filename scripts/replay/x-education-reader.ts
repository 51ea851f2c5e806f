import type { Readable } from 'node:stream';
import { type CsvError, type Info, parse } from 'csv-parse';
import { InputFileError } from './errors.js';
import type { InputIssue, InputItem } from './records.js';
import {
  convertXEducationRow,
  REQUIRED_COLUMNS,
  type XEducationOptions,
} from './x-education.js';

interface ParsedRow {
  record: string[];
  info: Info;
}

/**
 * Reads the X Education leads CSV as a stream and yields each row's
 * messages. Rows that cannot be parsed, have the wrong number of fields
 * or lack a Prospect ID are reported as issues and skipped.
 *
 * @throws InputFileError when the header lacks a required column, and at
 * a row whose Converted value is not 0, 1 or blank. Skipping that row
 * would leave the lead out of every evaluation without a word.
 */
export async function* readXEducationCsv(
  input: Readable,
  options: XEducationOptions,
): AsyncGenerator<InputItem> {
  const skipped: InputIssue[] = [];
  // NOTE: a record has no size limit, so a CSV without line breaks is
  // buffered whole. csv-parse 7's max_record_size would bound it, but with
  // skip_records_with_error it also drops every record after a long one.
  const parser = parse({
    bom: true,
    info: true,
    skip_empty_lines: true,
    relax_column_count: true,
    skip_records_with_error: true,
    on_skip: (error) => {
      skipped.push(skipIssue(error));
      return undefined;
    },
  });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);

  let header: string[] | undefined;
  for await (const { record, info } of parser as AsyncIterable<ParsedRow>) {
    yield* skipped.splice(0);
    if (header === undefined) {
      header = checkHeader(record);
      continue;
    }
    yield rowItem(record, info, header, options);
  }
  yield* skipped.splice(0);
}

/** Returns the column names, or raises when a required one is missing. */
function checkHeader(names: string[]): string[] {
  const missing = REQUIRED_COLUMNS.filter((name) => !names.includes(name));
  if (missing.length > 0) {
    throw new InputFileError(
      `The X Education CSV header lacks the columns ${missing.join(', ')}.`,
    );
  }
  return names;
}

function rowItem(
  fields: string[],
  info: Info,
  header: string[],
  options: XEducationOptions,
): InputItem {
  const line = info.lines;
  if (fields.length !== header.length) {
    return {
      kind: 'issue',
      line,
      reason:
        `the row has ${fields.length} fields, ` +
        `the header has ${header.length}`,
    };
  }
  const row: Record<string, string> = {};
  header.forEach((name, index) => {
    if (name !== '') row[name] = fields[index] ?? '';
  });
  const conversion = convertXEducationRow(row, options);
  if (!conversion.ok && 'invalidLabel' in conversion) {
    throw new InputFileError(
      `Line ${line} of the X Education CSV has the Converted value ` +
        `${JSON.stringify(conversion.invalidLabel.slice(0, 40))}, but it must be 1 ` +
        '(converted), 0 (not converted) or blank (not known). Correct the line.',
    );
  }
  if (!conversion.ok) {
    return { kind: 'issue', line, reason: conversion.reason };
  }
  const { leadId, converted, messages } = conversion;
  return {
    kind: 'record',
    origin: `line ${line}`,
    endOffset: info.bytes,
    leadId,
    ...(converted === undefined ? {} : { converted }),
    messages,
  };
}

function skipIssue(error: CsvError | undefined): InputIssue {
  const line = typeof error?.lines === 'number' ? error.lines : 0;
  const reason = error?.message ?? 'the row cannot be parsed';
  return { kind: 'issue', line, reason };
}
