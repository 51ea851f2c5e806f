import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMAS_DIR } from '../../lib/definitions/event-schemas.js';
import { writeSchemaFiles } from '../../scripts/schema-files.js';

const COMMITTED = join(import.meta.dirname, '..', '..', SCHEMAS_DIR);

let folder: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'mql-engine-schemas-'));
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe('writeSchemaFiles', () => {
  it('writes the committed schemas', () => {
    const { written } = writeSchemaFiles(folder);

    expect(written.sort()).toEqual(readdirSync(COMMITTED).sort());
    for (const file of written) {
      expect(readFileSync(join(folder, file), 'utf8')).toBe(
        readFileSync(join(COMMITTED, file), 'utf8'),
      );
    }
  });

  it('replaces each schema file by rename', () => {
    const { written } = writeSchemaFiles(folder);
    const inodes = written.map((file) => statSync(join(folder, file)).ino);

    writeSchemaFiles(folder);

    // A file written in place keeps its inode, and a crash in the middle
    // of that write leaves it cut off. A renamed file is whole or absent.
    written.forEach((file, index) => {
      expect(statSync(join(folder, file)).ino, file).not.toBe(inodes[index]);
    });
    expect(readdirSync(folder).sort()).toEqual([...written].sort());
  });

  it('removes the schema of a detail type that no longer exists', () => {
    const old = readFileSync(join(COMMITTED, 'lead-recycled.json'), 'utf8');
    writeFileSync(
      join(folder, 'lead-parked.json'),
      old.replace('"Lead Recycled"', '"Lead Parked"'),
    );

    const { removed, kept } = writeSchemaFiles(folder);

    expect(removed).toEqual(['lead-parked.json']);
    expect(kept).toEqual([]);
    expect(existsSync(join(folder, 'lead-parked.json'))).toBe(false);
  });

  it.each([
    ['a schema of its own', '{"type": "object", "description": "CRM sync"}'],
    ['a file that is not JSON', '{ not json'],
    [
      'a schema of another source',
      '{"description": "The detail of \\"Order Placed\\" events with source shop."}',
    ],
  ])('keeps %s', (_case, text) => {
    writeFileSync(join(folder, 'my-own.json'), text);

    const { removed, kept } = writeSchemaFiles(folder);

    expect(removed).toEqual([]);
    expect(kept).toEqual(['my-own.json']);
    expect(readFileSync(join(folder, 'my-own.json'), 'utf8')).toBe(text);
  });

  it('keeps a directory named like a schema', () => {
    mkdirSync(join(folder, 'archive.json'));

    const { removed, kept } = writeSchemaFiles(folder);

    expect(removed).toEqual([]);
    expect(kept).toEqual(['archive.json']);
  });

  it('names a directory in place of a schema', () => {
    mkdirSync(join(folder, 'lead-qualified.json'));

    expect(() => writeSchemaFiles(folder)).toThrow(
      `${join(folder, 'lead-qualified.json')} is a directory, so the schema cannot be written there. Move or remove the directory.`,
    );
  });
});
