import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { DAY_MS } from '../../functions/domain/time.js';
import {
  ingestMessages,
  MAX_MESSAGE_BYTES,
  MAX_NESTING_DEPTH,
} from '../../functions/use-cases/ingest-messages.js';
import { runBacktest } from '../../scripts/model/backtest.js';
import {
  readEventsFile,
  readOutcomes,
  readStoredEvents,
} from '../../scripts/model/event-sources.js';
import type { BacktestOptions } from '../../scripts/model/options.js';
import { asOfNote, formatBacktest } from '../../scripts/model/report.js';
import { InputFileError, ReplayError } from '../../scripts/replay/errors.js';
import { testModel, testModelDocument } from '../fixtures/models.js';
import { leadRow, xEducationCsv } from '../replay/fixtures/x-education-csv.js';

import { realDependencies } from '../support/dependencies.js';

const AS_OF = Date.parse('2026-06-01T00:00:00Z');

/** Messages of a lead with a CFO identify and `pages` pricing views. */
function leadMessages(userId: string, pages: number): object[] {
  const at = (days: number) => new Date(AS_OF - days * DAY_MS).toISOString();
  return [
    {
      type: 'identify',
      userId,
      messageId: `${userId}-id`,
      timestamp: at(10),
      traits: { title: 'CFO', company: { employee_count: 5000 } },
    },
    ...Array.from({ length: pages }, (_, index) => ({
      type: 'page',
      userId,
      messageId: `${userId}-p${index}`,
      timestamp: at(9 - index),
      properties: { path: '/pricing' },
    })),
  ];
}

async function workspace() {
  const directory = await mkdtemp(join(tmpdir(), 'backtest-'));
  const write = async (name: string, text: string) => {
    const file = join(directory, name);
    await writeFile(file, text);
    return file;
  };
  const live = await write(
    'live.json',
    JSON.stringify(testModelDocument({ threshold: 150, recycleBelow: 100 })),
  );
  const candidate = await write(
    'candidate.json',
    JSON.stringify(testModelDocument({ threshold: 60, recycleBelow: 45 })),
  );
  return { write, live, candidate };
}

function options(fields: Partial<BacktestOptions>): BacktestOptions {
  return {
    candidateFile: '',
    liveFile: '',
    tableName: 'unused',
    asOf: AS_OF,
    referenceTime: AS_OF,
    maxVisits: 50,
    ...fields,
  };
}

describe('runBacktest', () => {
  it('reads the outcomes before the events', async () => {
    const files = await workspace();
    const outcomes = await files.write(
      'outcomes.csv',
      'lead-a,1\nlead-b,maybe\n',
    );

    const run = runBacktest(
      options({
        candidateFile: files.candidate,
        liveFile: files.live,
        outcomesFile: outcomes,
        endpoint: 'http://127.0.0.1:1',
      }),
    );

    await expect(run).rejects.toThrow(
      `Line 2 of ${outcomes} is not "leadId,converted"`,
    );
  });

  it('ignores CSV labels that outcomes replace', async () => {
    const files = await workspace();
    const events = await files.write(
      'Leads.csv',
      xEducationCsv([
        leadRow('p-1', { Converted: 'maybe' }),
        leadRow('p-2', { Converted: '0' }),
      ]),
    );
    const outcomes = await files.write(
      'outcomes.csv',
      'leadId,converted\np-1,1\np-2,0\n',
    );

    const result = await runBacktest(
      options({
        candidateFile: files.candidate,
        liveFile: files.live,
        eventsFile: events,
        outcomesFile: outcomes,
      }),
    );

    expect(result.labelledLeads).toBe(2);
  });

  it('compares two models on an NDJSON file with outcomes', async () => {
    const files = await workspace();
    const messages = [
      ...leadMessages('hot', 3),
      ...leadMessages('warm', 1),
      ...leadMessages('cold', 0),
      { type: 'track', userId: 'x' },
    ];
    const events = await files.write(
      'events.ndjson',
      `${messages.map((m) => JSON.stringify(m)).join('\n')}\nnot json\n`,
    );
    const outcomes = await files.write(
      'outcomes.csv',
      'leadId,converted\nhot,1\nwarm,0\ncold,0\nghost,1\nnobody,0\n',
    );

    const result = await runBacktest(
      options({
        candidateFile: files.candidate,
        liveFile: files.live,
        eventsFile: events,
        outcomesFile: outcomes,
      }),
    );

    expect(result).toMatchObject({
      leads: 3,
      events: 7,
      rejected: 1,
      skippedLines: 1,
      labelledLeads: 3,
      unmatchedOutcomes: 2,
    });
    expect(formatBacktest(result)).toContain(
      '2 outcomes named a lead without events and were left out',
    );
    const single = formatBacktest({
      ...result,
      rejected: 1,
      skippedLines: 1,
      labelledLeads: 1,
      unmatchedOutcomes: 1,
    });
    expect(single).toContain('1 message failed validation and was left out.');
    expect(single).toContain('1 input line could not be read.');
    expect(single).toContain('Outcomes are known for 1 lead.');
    expect(single).toContain('1 outcome named a lead without events and was');
    expect(result.live.mqls).toBe(0);
    expect(result.candidate.mqls).toBe(2);
    expect(result.candidate.evaluation).toMatchObject({
      auc: 1,
      mqls: 2,
      convertedMqls: 1,
      recall: 1,
    });
    expect(result.changes).toMatchObject({
      changed: 2,
      byTransition: { 'engaged→mql': 2 },
      qualifiedOnlyByCandidate: 2,
    });
    expect(formatBacktest(result)).toContain('AUC of the final score');
    expect(formatBacktest(result)).toContain('Backtest of 3 leads (7 events');
    expect(
      formatBacktest({ ...result, leadsUntilAsOf: 1, eventsUntilAsOf: 1 }),
    ).toContain('Backtest of 1 lead (1 event from');
    expect(result.problems).toEqual([
      'line 8: event: is required',
      expect.stringMatching(
        /^line 9: invalid JSON \(column 1: expected a value/,
      ),
    ]);
    expect(formatBacktest(result)).toContain(
      '  line 9: invalid JSON (column 1: ',
    );
  });

  it.each([
    ['empty', '', 'the file is empty'],
    ['blank', '\n\n', 'the file is empty'],
    ['unreadable', 'not json\n[1]\n', 'line 1: invalid JSON'],
    ['invalid', '{"type": "track", "userId": "a"}\n', 'line 1: event: '],
  ])('rejects an events file that is %s', async (_case, text, reason) => {
    const files = await workspace();
    const events = await files.write('events.ndjson', text);
    const run = runBacktest(
      options({
        candidateFile: files.candidate,
        liveFile: files.live,
        eventsFile: events,
      }),
    );

    await expect(run).rejects.toThrow(InputFileError);
    await expect(run).rejects.toThrow(
      `The events file ${events} contains no event to replay`,
    );
    await expect(run).rejects.toThrow(reason);
    await expect(run).rejects.toThrow('. Give it Segment messages as NDJSON');
  });

  it.each(['events.json', 'events.txt', 'events'])(
    'names an empty %s as empty',
    async (name) => {
      const files = await workspace();
      const events = await files.write(name, '');
      const run = runBacktest(
        options({
          candidateFile: files.candidate,
          liveFile: files.live,
          eventsFile: events,
        }),
      );

      await expect(run).rejects.toThrow(
        `The events file ${events} contains no event to replay: the file is empty.`,
      );
    },
  );

  it('notes an as-of time before every event', async () => {
    const files = await workspace();
    const messages = [...leadMessages('hot', 3), ...leadMessages('cold', 0)];
    const events = await files.write(
      'events.ndjson',
      messages.map((message) => JSON.stringify(message)).join('\n'),
    );
    const firstEventAt = new Date(AS_OF - 10 * DAY_MS).toISOString();
    const run = (asOf: number) =>
      runBacktest(
        options({
          candidateFile: files.candidate,
          liveFile: files.live,
          eventsFile: events,
          asOf,
        }),
      );

    const early = await run(AS_OF - 11 * DAY_MS);
    const first = await run(AS_OF - 10 * DAY_MS);
    const late = await run(AS_OF);

    expect(early).toMatchObject({
      events: 5,
      eventsUntilAsOf: 0,
      firstEventAt,
    });
    expect(early.candidate.mqls).toBe(0);
    expect(early.candidate.episodes).toBe(0);
    expect(asOfNote(early)).toBe(
      `No event is at or before the as-of time ${early.asOf}, so both models scored no event and the comparison is empty. The earliest event is at ${firstEventAt}, so pass that time or a later one as --as-of.`,
    );
    expect(formatBacktest(early)).toContain(
      'Backtest of 0 leads (0 events from',
    );
    expect(formatBacktest(early)).toContain(
      '5 events after the as-of time were read but not replayed.',
    );
    expect(formatBacktest(first)).toContain(
      'Backtest of 2 leads (2 events from',
    );
    expect(formatBacktest(late)).not.toContain('not replayed');
    expect(first.eventsUntilAsOf).toBe(2);
    expect(asOfNote(first)).toBeUndefined();
    expect(late.eventsUntilAsOf).toBe(5);
    expect(asOfNote(late)).toBeUndefined();
  });

  it('reads the events a running engine stored', async () => {
    const files = await workspace();
    const setup = await realDependencies({ model: testModel() });
    await ingestMessages(setup.deps, {
      sourceId: 'web',
      messages: [
        ...leadMessages('stored-1', 2),
        ...leadMessages('stored-2', 0),
      ],
      receivedAt: AS_OF,
    });

    const result = await runBacktest(
      options({
        candidateFile: files.candidate,
        liveFile: files.live,
        tableName: setup.table.tableName,
        endpoint: inject('dynamoDbEndpoint'),
      }),
    );

    expect(result).toMatchObject({
      leads: 2,
      events: 4,
      labelledLeads: 0,
      unmatchedOutcomes: 0,
    });
    expect(result.candidate.mqls).toBe(1);
    expect(result.live.evaluation).toBeUndefined();
  });
});

describe('readStoredEvents', () => {
  it('rejects a table without events', async () => {
    const setup = await realDependencies({ model: testModel() });

    const read = readStoredEvents({
      tableName: setup.table.tableName,
      endpoint: inject('dynamoDbEndpoint'),
    });

    await expect(read).rejects.toThrow(ReplayError);
    await expect(read).rejects.toThrow(
      `The table ${setup.table.tableName} contains no stored event to replay.`,
    );
  });
});

describe('readEventsFile', () => {
  it('rejects what ingest rejects', async () => {
    const { write } = await workspace();
    const [valid] = leadMessages('kept', 0);
    const nested = (depth: number): unknown =>
      depth === 0 ? 'x' : { a: nested(depth - 1) };
    const lines = [
      { ...valid },
      {
        type: 'track',
        userId: 'large',
        messageId: 'large-1',
        event: 'Webinar Attended',
        properties: { notes: 'x'.repeat(MAX_MESSAGE_BYTES) },
      },
      {
        type: 'track',
        userId: 'deep',
        messageId: 'deep-1',
        event: 'Webinar Attended',
        properties: nested(MAX_NESTING_DEPTH + 1),
      },
      { type: 'track', userId: 'two', messageId: 'two-1', properties: [1] },
    ];
    const file = await write(
      'events.ndjson',
      `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`,
    );
    const fileOptions = {
      receivedAt: AS_OF,
      referenceTime: AS_OF,
      maxVisits: 50,
    };

    const loaded = await readEventsFile(file, fileOptions);

    expect(loaded.events.map((event) => event.messageId)).toEqual(['kept-id']);
    expect(loaded.rejected).toBe(3);
    expect(loaded.problems[0]).toMatch(/^line 2: \(root\): is \d+ bytes/);
    expect(loaded.problems[0]).toContain(`limit is ${MAX_MESSAGE_BYTES} bytes`);
    expect(loaded.problems[1]).toContain(
      `line 3: properties: nests objects or arrays more than ${MAX_NESTING_DEPTH} levels`,
    );
    expect(loaded.problems[2]).toBe(
      'line 4: event: is required; properties: must be an object, not an array',
    );
  });
});

describe('readOutcomes', () => {
  it('names a missing file', async () => {
    const { write } = await workspace();
    const file = join(await write('x', ''), '..', 'missing.csv');

    await expect(readOutcomes(file)).rejects.toThrow(
      `The outcomes file ${file} was not found.`,
    );
  });

  it('rejects /dev/zero at once', async () => {
    await expect(readOutcomes('/dev/zero')).rejects.toThrow(
      'The outcomes file /dev/zero is not a regular file',
    );
  });

  it('reads the Converted column of the X Education CSV', async () => {
    const { write } = await workspace();
    const file = await write(
      'Leads.csv',
      xEducationCsv([
        leadRow('p-1', { Converted: '1' }),
        leadRow('p-2', { Converted: '0' }),
      ]),
    );

    const labels = await readOutcomes(file);

    expect([...labels]).toEqual([
      ['p-1', true],
      ['p-2', false],
    ]);
  });

  it('rejects an invalid Converted in the X Education CSV', async () => {
    const { write } = await workspace();
    const file = await write(
      'Leads.csv',
      xEducationCsv([
        leadRow('p-1', { Converted: 'maybe' }),
        leadRow('p-2', { Converted: '0' }),
      ]),
    );
    const fileOptions = {
      receivedAt: AS_OF,
      referenceTime: AS_OF,
      maxVisits: 50,
    };
    const message =
      'Line 2 of the X Education CSV has the Converted value "maybe"';

    await expect(readOutcomes(file)).rejects.toThrow(message);
    await expect(readEventsFile(file, fileOptions)).rejects.toThrow(message);
  });

  it('reads true and false in CSV', async () => {
    const { write } = await workspace();
    const file = await write(
      'outcomes.csv',
      'leadId,converted\na,true\nb,false\n"c","true"\n',
    );

    const outcomes = await readOutcomes(file);

    expect(outcomes.get('a')).toBe(true);
    expect(outcomes.get('b')).toBe(false);
    expect(outcomes.get('c')).toBe(true);
    const upper = await write('upper.csv', 'a,TRUE\n');
    await expect(readOutcomes(upper)).rejects.toThrow(
      'the converted field is "TRUE"',
    );
  });

  it('rejects two outcomes of one lead', async () => {
    const { write } = await workspace();
    const file = await write('outcomes.csv', 'leadId,converted\na,0\na,1\n');

    await expect(readOutcomes(file)).rejects.toThrow(InputFileError);
    await expect(readOutcomes(file)).rejects.toThrow(/Line 3 .* lead a /);
  });

  it.each(['u,2', 'u,yes', 'garbage line', 'u,1,extra'])(
    'rejects %s on line 1',
    async (line) => {
      const { write } = await workspace();
      const file = await write('outcomes.csv', `${line}\n`);

      await expect(readOutcomes(file)).rejects.toThrow(InputFileError);
      await expect(readOutcomes(file)).rejects.toThrow(
        `Line 1 of ${file} is not "leadId,converted"`,
      );
    },
  );

  it.each([
    'leadId,converted,score',
    'email,leadId,converted',
    'Lead ID,Converted',
  ])('names a header %s with other columns', async (header) => {
    const { write } = await workspace();
    const file = await write('outcomes.csv', `${header}\na,1\n`);

    await expect(readOutcomes(file)).rejects.toThrow(
      `Line 1 of ${file} is a header with the columns ${header}, but an outcomes CSV has exactly two: leadId,converted.`,
    );
  });

  it('reads a lead named leadId on line 1', async () => {
    const { write } = await workspace();
    const file = await write('outcomes.csv', 'leadId,1\nb,0\n');

    const labels = await readOutcomes(file);

    expect([...labels]).toEqual([
      ['leadId', true],
      ['b', false],
    ]);
  });

  it('reads NDJSON outcomes', async () => {
    const { write } = await workspace();
    const file = await write(
      'outcomes.ndjson',
      '{"leadId": "a", "converted": true}\n  {"leadId": "b", "converted": 0}\n{"leadId": "c", "converted": "1"}\n',
    );

    const labels = await readOutcomes(file);

    expect([...labels]).toEqual([
      ['a', true],
      ['b', false],
      ['c', true],
    ]);
  });

  it.each([
    [
      '{"leadId": "a", "converted": "yes"}',
      'field "converted" must be true, false, 1 or 0, as a JSON value or a string, got "yes".',
    ],
    [
      '{"leadId": "a", "converted": 2}',
      'field "converted" must be true, false, 1 or 0, as a JSON value or a string, got 2.',
    ],
    [
      '{"leadId": "a"}',
      'field "converted" must be true, false, 1 or 0, as a JSON value or a string, got no value.',
    ],
    [
      '{"leadId": "a", "converted": null}',
      'field "converted" must be true, false, 1 or 0, as a JSON value or a string, got null.',
    ],
    [
      '{"leadId": "a", "converted": "maybe converted, maybe not"}',
      'field "converted" must be true, false, 1 or 0, as a JSON value or a string, got "maybe converted, may…".',
    ],
    [
      '{"leadId": 7, "converted": 1}',
      'field "leadId" must be a non-empty string, got 7.',
    ],
    [
      '{"leadId": " ", "converted": 1}',
      'field "leadId" must be a non-empty string, got an empty string.',
    ],
    [
      '{"converted": 1}',
      'field "leadId" must be a non-empty string, got no value.',
    ],
    [
      '{"leadId": ["a"], "converted": 1}',
      'field "leadId" must be a non-empty string, got an array.',
    ],
  ])('names the field of NDJSON %s', async (line, message) => {
    const { write } = await workspace();
    const file = await write(
      'outcomes.ndjson',
      `{"leadId": "ok", "converted": 1}\n${line}\n`,
    );

    const read = readOutcomes(file);

    await expect(read).rejects.toThrow(InputFileError);
    await expect(read).rejects.toThrow(`Line 2 of ${file}: ${message}`);
    await expect(read).rejects.not.toThrow('leadId,converted');
  });

  it.each([
    ['not json', 'is not valid JSON (column 1: '],
    ['[1,2]', 'is an array, not an object.'],
    ['"a,1"', 'is a string, not an object.'],
  ])('rejects the NDJSON line %s', async (line, message) => {
    const { write } = await workspace();
    const file = await write(
      'outcomes.ndjson',
      `{"leadId": "ok", "converted": 1}\n${line}\n`,
    );

    const read = readOutcomes(file);

    await expect(read).rejects.toThrow(InputFileError);
    await expect(read).rejects.toThrow(`Line 2 of ${file} ${message}`);
    await expect(read).rejects.not.toThrow('leadId,converted');
  });

  it('rejects a CSV line in NDJSON', async () => {
    const { write } = await workspace();
    const file = await write(
      'outcomes.ndjson',
      '\n{"leadId": "ok", "converted": 1}\nb,1\n',
    );

    await expect(readOutcomes(file)).rejects.toThrow(
      `Line 3 of ${file} is a CSV line "leadId,converted", but line 2 is JSON, so the file is read as NDJSON. Use one format per file.`,
    );
  });

  it('rejects a JSON line in CSV', async () => {
    const { write } = await workspace();
    const file = await write(
      'outcomes.csv',
      'leadId,converted\na,1\n{"leadId": "b", "converted": 1}\n',
    );

    await expect(readOutcomes(file)).rejects.toThrow(
      `Line 3 of ${file} is a JSON line, but line 1 is CSV, so the file is read as CSV. Use one format per file.`,
    );
  });

  it.each([
    ['b2,yes', 'the converted field is "yes".'],
    ['b2,', 'the converted field is "".'],
    [',1', 'the leadId field is empty.'],
    ['garbage line', 'the line has no comma.'],
    ['"b2,1', 'a quoted field is not closed.'],
  ])('names the problem of CSV %s', async (line, problem) => {
    const { write } = await workspace();
    const file = await write('outcomes.csv', `a,1\n${line}\n`);

    await expect(readOutcomes(file)).rejects.toThrow(
      `Line 2 of ${file} is not "leadId,converted" with converted 1, 0, true or false: ${problem}`,
    );
  });

  it.each([
    ['empty', '', 'the file is empty'],
    ['blank', '\n \n', 'the file is empty'],
    ['header-only', 'leadId,converted\n', 'it contains only the header line'],
  ])('rejects an outcomes file that is %s', async (_case, text, reason) => {
    const { write } = await workspace();
    const file = await write('outcomes.csv', text);

    const read = readOutcomes(file);

    await expect(read).rejects.toThrow(InputFileError);
    await expect(read).rejects.toThrow(
      `The outcomes file ${file} contains no outcomes: ${reason}.`,
    );
  });

  it('names the column of invalid NDJSON', async () => {
    const { write } = await workspace();
    const file = await write(
      'outcomes.ndjson',
      '  {"leadId": "jane@example.com", "converted": tru}\n',
    );

    const read = readOutcomes(file);

    await expect(read).rejects.toThrow(InputFileError);
    await expect(read).rejects.toThrow(
      `Line 1 of ${file} is not valid JSON (column 47: `,
    );
    await expect(read).rejects.not.toThrow('jane@example.com');
  });

  it.each([
    'leadId,converted',
    '\uFEFFleadId,converted',
    'LeadId, Converted',
    '"leadId","converted"',
  ])('skips the header %j', async (header) => {
    const { write } = await workspace();
    const file = await write('outcomes.csv', `${header}\r\na,1\r\n`);

    const labels = await readOutcomes(file);

    expect([...labels]).toEqual([['a', true]]);
  });

  it('reads quoted CSV fields', async () => {
    const { write } = await workspace();
    const file = await write(
      'outcomes.csv',
      '"leadId","converted"\n"a","1"\n"Smith, Jane",0\nb,"true"\n"say ""hi""",1\n',
    );

    const labels = await readOutcomes(file);

    expect([...labels]).toEqual([
      ['a', true],
      ['Smith, Jane', false],
      ['b', true],
      ['say "hi"', true],
    ]);
  });

  it.each(['"a,1', '"a","1","x"', '"a",'])(
    'rejects the quoted line %s',
    async (line) => {
      const { write } = await workspace();
      const file = await write('outcomes.csv', `${line}\n`);

      await expect(readOutcomes(file)).rejects.toThrow(
        `Line 1 of ${file} is not "leadId,converted"`,
      );
    },
  );

  it('reads an outcome on line 1', async () => {
    const { write } = await workspace();
    const file = await write('outcomes.csv', 'a,0\n');

    const labels = await readOutcomes(file);

    expect([...labels]).toEqual([['a', false]]);
  });

  it('accepts a lead repeated with its outcome', async () => {
    const { write } = await workspace();
    const file = await write('outcomes.csv', 'a,1\nb,0\na,true\n');

    const labels = await readOutcomes(file);

    expect(labels.get('a')).toBe(true);
    expect(labels.get('b')).toBe(false);
  });
});
