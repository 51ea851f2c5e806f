import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InputFileError } from '../../scripts/replay/errors.js';
import type {
  InputItem,
  OutgoingMessage,
  ReplayRecord,
} from '../../scripts/replay/records.js';
import {
  ASSIGNED_COLUMNS,
  LEAKING_COLUMNS,
  SYNTHETIC_WINDOW_MS,
  type XEducationOptions,
} from '../../scripts/replay/x-education.js';
import { readXEducationCsv } from '../../scripts/replay/x-education-reader.js';
import {
  leadRow,
  type XEducationRow,
  xEducationCsv,
} from './fixtures/x-education-csv.js';

const REFERENCE_TIME = Date.parse('2026-06-01T00:00:00Z');

async function readCsv(
  text: string,
  options: XEducationOptions = { referenceTime: REFERENCE_TIME },
): Promise<InputItem[]> {
  const items: InputItem[] = [];
  for await (const item of readXEducationCsv(Readable.from([text]), options)) {
    items.push(item);
  }
  return items;
}

async function convert(rows: XEducationRow[]): Promise<ReplayRecord[]> {
  const items = await readCsv(xEducationCsv(rows));
  return items.filter((item): item is ReplayRecord => item.kind === 'record');
}

async function convertOne(row: XEducationRow): Promise<ReplayRecord> {
  const [record] = await convert([row]);
  if (record === undefined) throw new Error('no record was converted');
  return record;
}

function identifyOf(record: ReplayRecord): OutgoingMessage {
  const identify = record.messages.find((m) => m.type === 'identify');
  if (identify === undefined) throw new Error('no identify message');
  return identify;
}

describe('readXEducationCsv', () => {
  it('converts a row into identify, page and track messages', async () => {
    const record = await convertOne(leadRow('p-1', { TotalVisits: '2' }));

    expect(record.leadId).toBe('p-1');
    expect(record.origin).toBe('line 2');
    expect(record.messages.map((m) => m.type)).toEqual([
      'identify',
      'page',
      'page',
      'track',
    ]);
    expect(record.messages.at(-1)?.event).toBe('Email Opened');
    for (const message of record.messages) {
      expect(message.userId).toBe('p-1');
    }
  });

  it('maps attribute columns to traits', async () => {
    const record = await convertOne(leadRow('p-1'));

    expect(identifyOf(record).traits).toMatchObject({
      lead_origin: 'Landing Page Submission',
      lead_source: 'google',
      do_not_email: false,
      address: { country: 'India', city: 'Mumbai' },
      specialization: 'Finance Management',
      occupation: 'Working Professional',
      mastering_the_interview_copy: true,
    });
  });

  it('drops Select and blank answers', async () => {
    const record = await convertOne(
      leadRow('p-1', { City: 'Select', Specialization: 'Select', Country: '' }),
    );

    const traits = identifyOf(record).traits as Record<string, unknown>;
    expect(traits).not.toHaveProperty('specialization');
    expect(traits).not.toHaveProperty('address');
    expect(JSON.stringify(record.messages)).not.toContain('Select');
  });

  it('normalizes Google and google to one lead source', async () => {
    const [upper, lower] = await convert([
      leadRow('p-1', { 'Lead Source': 'Google' }),
      leadRow('p-2', { 'Lead Source': 'google' }),
    ]);

    const sourceOf = (record: ReplayRecord | undefined) =>
      (record && (identifyOf(record).traits as Record<string, unknown>))
        ?.lead_source;
    expect(sourceOf(upper)).toBe('google');
    expect(sourceOf(lower)).toBe('google');
  });

  it('keeps leaking and assigned columns out of every message', async () => {
    const record = await convertOne(
      leadRow('p-1', {
        Tags: 'Closed by Horizzon',
        'Lead Quality': 'High in Relevance',
        'Last Notable Activity': 'Had a Phone Conversation',
        'Lead Profile': 'Dual Specialization Student',
        'Asymmetrique Activity Index': '01.High',
        'Lead Number': '999111',
      }),
    );

    const text = JSON.stringify(record.messages);
    for (const value of [
      'Closed by Horizzon',
      'High in Relevance',
      'Had a Phone Conversation',
      'Dual Specialization Student',
      '01.High',
      '999111',
    ]) {
      expect(text).not.toContain(value);
    }
    for (const column of [...LEAKING_COLUMNS, ...ASSIGNED_COLUMNS]) {
      expect(text).not.toContain(column);
    }
  });

  it('keeps the Converted label out of every message', async () => {
    const record = await convertOne(leadRow('p-1', { Converted: '1' }));

    expect(record.converted).toBe(true);
    const text = JSON.stringify(record.messages).toLowerCase();
    expect(text).not.toContain('converted');
  });

  it.each(['SMS Sent', 'Had a Phone Conversation', 'Approached upfront'])(
    'drops the sales activity %s',
    async (activity) => {
      const record = await convertOne(
        leadRow('p-1', { 'Last Activity': activity }),
      );

      expect(record.messages.some((m) => m.type === 'track')).toBe(false);
      expect(JSON.stringify(record.messages)).not.toContain(activity);
    },
  );

  it('caps page views at 50 by default', async () => {
    const record = await convertOne(leadRow('p-1', { TotalVisits: '251' }));

    const pages = record.messages.filter((m) => m.type === 'page');
    expect(pages).toHaveLength(50);
    expect(pages[0]?.properties).toMatchObject({ visits_total: 251 });
  });

  it('caps page views at the maxVisits option', async () => {
    const items = await readCsv(
      xEducationCsv([leadRow('p-1', { TotalVisits: '9' })]),
      { referenceTime: REFERENCE_TIME, maxVisits: 4 },
    );

    const record = items[0] as ReplayRecord;
    expect(record.messages.filter((m) => m.type === 'page')).toHaveLength(4);
  });

  it('sends no page view for blank visits', async () => {
    const record = await convertOne(leadRow('p-1', { TotalVisits: '' }));

    expect(record.messages.some((m) => m.type === 'page')).toBe(false);
  });

  it('puts time on site and pages per visit on page views', async () => {
    const record = await convertOne(leadRow('p-1', { TotalVisits: '1' }));

    expect(record.messages[1]?.properties).toEqual({
      visit: 1,
      visits_total: 1,
      total_time_on_site_seconds: 674,
      page_views_per_visit: 2.5,
    });
  });

  it('derives the same message ids and times on every run', async () => {
    const rows = [leadRow('p-1'), leadRow('p-2')];

    const first = await convert(rows);
    const second = await convert(rows);

    expect(second).toEqual(first);
    expect(first[0]?.messages.map((m) => m.messageId)).toEqual([
      'xed-p-1-identify',
      'xed-p-1-visit-1',
      'xed-p-1-visit-2',
      'xed-p-1-visit-3',
      'xed-p-1-activity',
    ]);
  });

  it('spreads timestamps in order within the window', async () => {
    const record = await convertOne(leadRow('p-1', { TotalVisits: '20' }));

    const times = record.messages.map((m) => Date.parse(String(m.timestamp)));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(
      REFERENCE_TIME - SYNTHETIC_WINDOW_MS,
    );
    expect(Math.max(...times)).toBeLessThan(REFERENCE_TIME);
  });

  it('records the byte offset of each row end', async () => {
    const text = xEducationCsv([leadRow('p-1'), leadRow('p-2')]);

    const [first, second] = await readCsv(text);

    expect(first).toMatchObject({ endOffset: text.indexOf('\np-2,') + 1 });
    expect(second).toMatchObject({ endOffset: Buffer.byteLength(text) });
  });

  it('reports a row with a wrong field count and goes on', async () => {
    const text = xEducationCsv([leadRow('p-1'), leadRow('p-2')]);
    const lines = text.split('\n');
    lines[1] = 'p-1,660737,API,';

    const items = await readCsv(lines.join('\n'));

    expect(items[0]).toEqual({
      kind: 'issue',
      line: 2,
      reason: 'the row has 4 fields, the header has 38',
    });
    expect(items[1]).toMatchObject({ kind: 'record', leadId: 'p-2' });
  });

  it('reports a row without a Prospect ID', async () => {
    const items = await readCsv(xEducationCsv([leadRow('')]));

    expect(items).toEqual([
      { kind: 'issue', line: 2, reason: 'the Prospect ID is empty' },
    ]);
  });

  it('raises at an invalid Converted value', async () => {
    const text = xEducationCsv([
      leadRow('p-1', { Converted: '1' }),
      leadRow('p-2', { Converted: 'maybe' }),
    ]);

    await expect(readCsv(text)).rejects.toThrow(InputFileError);
    await expect(readCsv(text)).rejects.toThrow(
      'Line 3 of the X Education CSV has the Converted value "maybe"',
    );
  });

  it('reads a blank Converted as unknown', async () => {
    const record = await convertOne(leadRow('p-1', { Converted: '' }));

    expect(record.converted).toBeUndefined();
  });

  it('raises when a required column is missing', async () => {
    const text = 'Prospect ID,Lead Number,Converted\np-1,1,0\n';

    await expect(readCsv(text)).rejects.toThrow(InputFileError);
    await expect(readCsv(text)).rejects.toThrow(/TotalVisits/);
  });
});
