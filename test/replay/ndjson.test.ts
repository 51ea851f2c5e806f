import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputFileError } from '../../scripts/replay/errors.js';
import { detectFormat, openInput } from '../../scripts/replay/input.js';
import {
  MAX_NDJSON_LINE_BYTES,
  readNdjson,
} from '../../scripts/replay/ndjson.js';
import type { InputItem } from '../../scripts/replay/records.js';

async function readLines(
  text: string | Array<string | Buffer>,
): Promise<InputItem[]> {
  const items: InputItem[] = [];
  const chunks = typeof text === 'string' ? [text] : text;
  for await (const item of readNdjson(Readable.from(chunks))) {
    items.push(item);
  }
  return items;
}

const track = (id: string) =>
  JSON.stringify({ type: 'track', messageId: id, userId: 'u', event: 'E' });

describe('readNdjson', () => {
  it('yields one record per line with its line number', async () => {
    const items = await readLines(`${track('a')}\n${track('b')}\n`);

    const lineBytes = track('a').length + 1;
    expect(items).toEqual([
      {
        kind: 'record',
        origin: 'line 1',
        endOffset: lineBytes,
        messages: [JSON.parse(track('a'))],
        jsonTexts: [track('a')],
      },
      {
        kind: 'record',
        origin: 'line 2',
        endOffset: 2 * lineBytes,
        messages: [JSON.parse(track('b'))],
        jsonTexts: [track('b')],
      },
    ]);
  });

  it('reports a bad line and keeps reading', async () => {
    const items = await readLines(`${track('a')}\n{"type": \n${track('c')}\n`);

    expect(items).toHaveLength(3);
    expect(items[1]).toMatchObject({ kind: 'issue', line: 2 });
    expect((items[1] as { reason: string }).reason).toMatch(/^invalid JSON/);
    expect(items[2]).toMatchObject({ kind: 'record', origin: 'line 3' });
  });

  it('gives the column of a JSON error in the line', async () => {
    const items = await readLines('  {"type": "track",}\n');

    expect(items).toEqual([
      {
        kind: 'issue',
        line: 1,
        reason: "invalid JSON (column 20: trailing comma before '}')",
      },
    ]);
  });

  it('reports a line that is not an object', async () => {
    const items = await readLines('[1, 2]\n"text"\nnull\n');

    expect(items).toEqual([
      {
        kind: 'issue',
        line: 1,
        reason: 'expected a JSON object, got an array',
      },
      {
        kind: 'issue',
        line: 2,
        reason: 'expected a JSON object, got a string',
      },
      { kind: 'issue', line: 3, reason: 'expected a JSON object, got null' },
    ]);
  });

  it('reports a batch request on one line', async () => {
    const batch = JSON.stringify({ batch: [JSON.parse(track('a'))] });

    const items = await readLines(`${batch}\n${track('b')}\n`);

    expect(items[0]).toMatchObject({
      kind: 'issue',
      line: 1,
      reason: expect.stringContaining(
        'write each message of its batch on a line of its own',
      ),
    });
    expect(items[1]).toMatchObject({ kind: 'record', origin: 'line 2' });
  });

  it('skips a line over the limit and keeps reading', async () => {
    const chunk = 'x'.repeat(65_536);
    const longLine = Array.from(
      { length: (2 * MAX_NDJSON_LINE_BYTES) / chunk.length },
      () => chunk,
    );

    const items = await readLines([
      `${track('a')}\n`,
      ...longLine,
      `\n${track('c')}\n`,
    ]);

    expect(items).toHaveLength(3);
    expect(items[0]).toMatchObject({ kind: 'record', origin: 'line 1' });
    expect(items[1]).toEqual({
      kind: 'issue',
      line: 2,
      reason: `longer than the limit of ${MAX_NDJSON_LINE_BYTES} bytes for one line`,
    });
    expect(items[2]).toMatchObject({ kind: 'record', origin: 'line 3' });
  });

  it('decodes a character split across chunks', async () => {
    const line = Buffer.from(
      `${JSON.stringify({ type: 'track', messageId: 'm', userId: 'u', event: 'Müller' })}\n`,
    );
    const split = line.indexOf(Buffer.from('ü')) + 1;

    const items = await readLines([
      line.subarray(0, split),
      line.subarray(split),
    ]);

    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      kind: 'record',
      messages: [{ event: 'Müller' }],
    });
  });

  it('skips blank lines, CRLF endings and a byte order mark', async () => {
    const items = await readLines(
      `\uFEFF${track('a')}\r\n\r\n  \n${track('b')}`,
    );

    expect(items.map((item) => item.kind)).toEqual(['record', 'record']);
    expect(items[1]).toMatchObject({ origin: 'line 4' });
  });

  it('keeps the text of a line without its padding', async () => {
    const items = await readLines(`\uFEFF  {"n": 1e400}  \r\n`);

    expect(items[0]).toMatchObject({
      kind: 'record',
      jsonTexts: ['{"n": 1e400}'],
    });
  });
});

describe('detectFormat', () => {
  it('detects the X Education header', () => {
    const head = 'Prospect ID,Lead Number,Lead Origin,\nx,1,API,\n';

    expect(detectFormat('leads.csv', head)).toBe('x-education-csv');
  });

  it('detects NDJSON from the first line', () => {
    expect(detectFormat('events.txt', `\n${track('a')}\n`)).toBe('ndjson');
  });

  it('detects NDJSON from the extension', () => {
    expect(detectFormat('events.jsonl', 'not json\n')).toBe('ndjson');
  });

  it.each(['', '\n \r\n', '\uFEFF'])(
    'reads blank text %j as NDJSON',
    (head) => {
      expect(detectFormat('events.json', head)).toBe('ndjson');
    },
  );

  it('rejects pretty-printed JSON', () => {
    expect(() => detectFormat('a.json', '{\n  "a": 1\n}\n')).toThrow(
      InputFileError,
    );
  });

  it('rejects another CSV and names the accepted formats', () => {
    expect(() => detectFormat('other.csv', 'id,name\n1,a\n')).toThrow(
      /Accepted formats: Segment messages as NDJSON.*X Education leads CSV/,
    );
  });
});

describe('openInput', () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'replay-input-'));
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('streams an NDJSON file with byte offsets', async () => {
    const file = join(directory, 'events.ndjson');
    const text = `${track('a')}\nbroken\n${track('b')}\n`;
    await writeFile(file, text);

    const input = await openInput(file, { referenceTime: 0 });
    const items: InputItem[] = [];
    for await (const item of input.items) items.push(item);

    expect(input.format).toBe('ndjson');
    expect(items.map((item) => item.kind)).toEqual([
      'record',
      'issue',
      'record',
    ]);
    expect(input.sizeBytes).toBe(Buffer.byteLength(text));
    expect(items.at(-1)).toMatchObject({ endOffset: input.sizeBytes });
  });

  it('raises for a missing file', async () => {
    await expect(
      openInput(join(directory, 'missing.ndjson'), { referenceTime: 0 }),
    ).rejects.toThrow(/was not found/);
  });

  it('raises for a directory', async () => {
    await expect(openInput(directory, { referenceTime: 0 })).rejects.toThrow(
      `${directory} is a directory. Give the path of an NDJSON or CSV file`,
    );
  });

  it('raises for a device', async () => {
    await expect(openInput('/dev/null', { referenceTime: 0 })).rejects.toThrow(
      '/dev/null is not a regular file (it is a device, pipe or socket). ' +
        'Give the path of an NDJSON or CSV file',
    );
  });
});
