import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  JsonFileError,
  MAX_JSON_FILE_DEPTH,
  parseJsonFile,
} from '../../functions/adapters/json-file.js';
import {
  DEFAULT_MODEL_DOCUMENT,
  loadModel,
} from '../../functions/adapters/model-source.js';
import { InvalidModelError } from '../../functions/domain/errors.js';

const encoder = new TextEncoder();

/** Returns the error that parseJsonFile raises for `bytes`. */
function errorOf(bytes: Uint8Array): JsonFileError {
  try {
    parseJsonFile(bytes);
  } catch (error) {
    if (error instanceof JsonFileError) return error;
    throw error;
  }
  throw new Error('expected a JsonFileError');
}

describe('parseJsonFile', () => {
  it('parses UTF-8 JSON with non-ASCII text', () => {
    const bytes = encoder.encode('{"name": "Einkäufer 😀"}');

    expect(parseJsonFile(bytes)).toEqual({ name: 'Einkäufer 😀' });
  });

  it('ignores a UTF-8 byte order mark', () => {
    const bytes = encoder.encode('\uFEFF{"a": 1}');

    expect(parseJsonFile(bytes)).toEqual({ a: 1 });
  });

  it('rejects Latin-1 with the line of the byte', () => {
    // "Einkäufer" in Latin-1: ä is the single byte 0xE4.
    const bytes = Uint8Array.from([
      ...encoder.encode('{\n  "name": "Eink'),
      0xe4,
      ...encoder.encode('ufer"\n}'),
    ]);

    const error = errorOf(bytes);

    expect(error.message).toContain('is not UTF-8');
    expect(error.message).toContain('0xE4 at line 2, byte 16');
    expect(error.message).toContain('Save the file as UTF-8');
  });

  it.each([
    ['an overlong slash', [0xc0, 0xaf]],
    ['a surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a cut sequence', [0xe2, 0x82]],
  ])('rejects %s', (_case, sequence) => {
    const bytes = Uint8Array.from([
      ...encoder.encode('"'),
      ...sequence,
      ...encoder.encode('"'),
    ]);

    expect(errorOf(bytes).message).toContain('at line 1, byte 2 ');
  });

  it.each([
    ['little-endian', [0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00], '0xFF 0xFE'],
    ['big-endian', [0xfe, 0xff, 0x00, 0x7b, 0x00, 0x7d], '0xFE 0xFF'],
  ])('names a %s UTF-16 file', (_case, sequence, mark) => {
    const message = errorOf(Uint8Array.from(sequence)).message;

    expect(message).toContain('is not UTF-8');
    expect(message).toContain(`UTF-16 byte order mark ${mark}`);
    expect(message).toContain('Save the file as UTF-8');
    expect(message).not.toContain('Latin-1');
  });

  it.each(['', '   \r\n', '\uFEFF\n'])(
    'names empty text %j as empty',
    (text) => {
      const message = errorOf(encoder.encode(text)).message;

      expect(message).toBe(
        'is empty; it must contain a JSON object, such as {}',
      );
    },
  );

  it('names a syntax error', () => {
    const error = errorOf(encoder.encode('{"a": }'));

    expect(error.message).toBe(
      'is not valid JSON (line 1, column 7: expected a value: a string, number, object, array, true, false or null)',
    );
  });

  it('rejects a duplicate key with its path and lines', () => {
    const text = [
      '{"qualification": {',
      '  "threshold": 100,',
      '  "recycleBelow": 90,',
      '  "threshold": 10',
      '}}',
    ].join('\n');

    const error = errorOf(encoder.encode(text));

    expect(error.message).toContain('sets a key twice');
    expect(error.issues).toEqual([
      {
        field: 'qualification.threshold',
        message: 'is set on line 2 and again on line 4; remove one of them',
      },
    ]);
  });

  it('finds duplicates inside arrays', () => {
    const text = '{"rules": [{"id": "a"}, {"id": "b", "id": "c"}]}';

    const error = errorOf(encoder.encode(text));

    expect(error.issues.map((issue) => issue.field)).toEqual(['rules[1].id']);
  });

  it('compares keys after unescaping', () => {
    const text = '{"a": 1, "\\u0061": 2}';

    expect(errorOf(encoder.encode(text)).issues).toHaveLength(1);
  });

  it('accepts equal keys in different objects', () => {
    const text =
      '{"a": {"id": 1, "s": "}{\\"id\\": ,"}, "b": {"id": 2}, "id": [{"id": 3}]}';

    expect(parseJsonFile(encoder.encode(text))).toEqual({
      a: { id: 1, s: '}{"id": ,' },
      b: { id: 2 },
      id: [{ id: 3 }],
    });
  });
});

describe('parseJsonFile nesting', () => {
  it.each([20_000, 200_000])('rejects %i nested arrays at once', (depth) => {
    const bytes = encoder.encode(`${'['.repeat(depth)}${']'.repeat(depth)}`);

    const startedAt = performance.now();
    const error = errorOf(bytes);

    expect(performance.now() - startedAt).toBeLessThan(1000);
    expect(error.message).toContain(
      `nests objects or arrays more than ${MAX_JSON_FILE_DEPTH} levels deep`,
    );
    expect(error.message).toContain(
      `line 1, column ${MAX_JSON_FILE_DEPTH + 1} opens level`,
    );
  });

  it('gives the line of the bracket too deep', () => {
    const text = `{\n"a":\n${'['.repeat(MAX_JSON_FILE_DEPTH)}\n`;

    expect(errorOf(encoder.encode(text)).message).toContain(
      `line 3, column ${MAX_JSON_FILE_DEPTH} opens level`,
    );
  });

  it('rejects nesting in a file that is not JSON', () => {
    const text = `{"a": ${'['.repeat(MAX_JSON_FILE_DEPTH)}`;

    expect(errorOf(encoder.encode(text)).message).toContain('levels deep');
  });

  it('accepts nesting at the limit', () => {
    const depth = MAX_JSON_FILE_DEPTH;
    const text = `${'['.repeat(depth)}${']'.repeat(depth)}`;

    expect(parseJsonFile(encoder.encode(text))).toBeInstanceOf(Array);
  });

  it('ignores brackets inside strings', () => {
    const text = JSON.stringify({ a: '['.repeat(100), b: '\\"[[' });

    expect(parseJsonFile(encoder.encode(text))).toEqual(JSON.parse(text));
  });
});

describe('loadModel', () => {
  it('rejects a model file that is not UTF-8', () => {
    const directory = mkdtempSync(join(tmpdir(), 'model-source-'));
    const file = join(directory, 'latin1.json');
    const text = JSON.stringify(DEFAULT_MODEL_DOCUMENT).replace(
      'Owns',
      'Ownés',
    );
    writeFileSync(file, Buffer.from(text, 'latin1'));

    expect(() => loadModel(file)).toThrow(InvalidModelError);
    expect(() => loadModel(file)).toThrow(
      `The model file ${file} is not UTF-8`,
    );
  });

  it('rejects a deeply nested model file', () => {
    const directory = mkdtempSync(join(tmpdir(), 'model-source-'));
    const file = join(directory, 'deep.json');
    writeFileSync(file, `${'['.repeat(20_000)}${']'.repeat(20_000)}`);

    expect(() => loadModel(file)).toThrow(InvalidModelError);
    expect(() => loadModel(file)).toThrow(
      `The model file ${file} nests objects or arrays more than`,
    );
  });

  it('rejects /dev/zero as a model file', () => {
    expect(() => loadModel('/dev/zero')).toThrow(InvalidModelError);
    expect(() => loadModel('/dev/zero')).toThrow(
      'The model file /dev/zero is not a regular file',
    );
  });
});
