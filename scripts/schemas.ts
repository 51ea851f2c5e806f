import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  detailJsonSchemas,
  SCHEMAS_DIR,
  schemaFileText,
} from '../lib/definitions/event-schemas.js';
import { shouldRun } from './help-only.js';

/**
 * Writes the JSON Schema of every detail type into schemas/ and removes
 * files of detail types that no longer exist. Run it after changing a
 * detail schema: `npm run schemas`.
 */
const USAGE = `Usage: npm run schemas

Writes the JSON Schema of every event detail type into ${SCHEMAS_DIR}/ and
removes the files of detail types that no longer exist.
`;

function writeSchemas(): void {
  const projectRoot = resolve(import.meta.dirname, '..');
  const folder = join(projectRoot, SCHEMAS_DIR);
  mkdirSync(folder, { recursive: true });
  const schemas = detailJsonSchemas();
  const written = new Set(schemas.map((schema) => schema.fileName));
  for (const schema of schemas) {
    writeFileSync(join(folder, schema.fileName), schemaFileText(schema));
  }
  for (const file of readdirSync(folder)) {
    if (file.endsWith('.json') && !written.has(file)) {
      rmSync(join(folder, file));
    }
  }
  process.stdout.write(
    `Wrote ${schemas.length} schemas to ${SCHEMAS_DIR}/: ${[...written].join(', ')}\n`,
  );
}

if (shouldRun('schemas', USAGE, process.argv.slice(2))) writeSchemas();
