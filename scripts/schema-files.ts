import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  detailJsonSchemas,
  isDetailSchemaFile,
  schemaFileText,
} from '../lib/definitions/event-schemas.js';
import { writeFileAtomicSync } from './atomic-file.js';

/** File names that writeSchemaFiles wrote, removed and left alone. */
export interface SchemaFiles {
  written: string[];
  removed: string[];
  kept: string[];
}

/**
 * Writes the JSON Schema of every detail type into `folder`, and removes
 * a JSON file there only when it is a detail schema this command wrote
 * for a detail type that no longer exists. Any other file is kept.
 */
export function writeSchemaFiles(folder: string): SchemaFiles {
  mkdirSync(folder, { recursive: true });
  const schemas = detailJsonSchemas();
  const written = schemas.map((schema) => schema.fileName);
  for (const schema of schemas) {
    writeSchemaFile(join(folder, schema.fileName), schemaFileText(schema));
  }
  const removed: string[] = [];
  const kept: string[] = [];
  const entries = readdirSync(folder, { withFileTypes: true });
  for (const entry of entries.sort(byName)) {
    const file = entry.name;
    if (!file.endsWith('.json') || written.includes(file)) continue;
    if (!entry.isFile()) {
      kept.push(file);
    } else if (isDetailSchemaFile(readFileSync(join(folder, file), 'utf8'))) {
      rmSync(join(folder, file));
      removed.push(file);
    } else {
      kept.push(file);
    }
  }
  return { written, removed, kept };
}

function byName(a: { name: string }, b: { name: string }): number {
  if (a.name < b.name) return -1;
  if (a.name > b.name) return 1;
  return 0;
}

function writeSchemaFile(path: string, text: string): void {
  try {
    writeFileAtomicSync(path, text);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EISDIR') throw error;
    throw new Error(
      `${path} is a directory, so the schema cannot be written there. Move or remove the directory.`,
    );
  }
}
