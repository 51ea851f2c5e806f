import { resolve } from 'node:path';
import { SCHEMAS_DIR } from '../lib/definitions/event-schemas.js';
import { shouldRun } from './help-only.js';
import { writeSchemaFiles } from './schema-files.js';

/**
 * Writes the JSON Schema of every detail type into schemas/ and removes
 * files of detail types that no longer exist. Run it after changing a
 * detail schema: `npm run schemas`.
 */
const USAGE = `Usage: npm run schemas

Writes the JSON Schema of every event detail type into ${SCHEMAS_DIR}/ and
removes the files of detail types that no longer exist. Other JSON files
in ${SCHEMAS_DIR}/ are listed and kept.
`;

function main(): void {
  const folder = resolve(import.meta.dirname, '..', SCHEMAS_DIR);
  const { written, removed, kept } = writeSchemaFiles(folder);
  process.stdout.write(
    `Wrote ${written.length} schemas to ${SCHEMAS_DIR}/: ${written.join(', ')}\n`,
  );
  if (removed.length > 0) {
    process.stdout.write(
      `Removed the schemas of detail types that no longer exist: ${removed.join(', ')}\n`,
    );
  }
  if (kept.length > 0) {
    process.stdout.write(
      `Kept files that npm run schemas did not write: ${kept.join(', ')}\n`,
    );
  }
}

if (shouldRun('schemas', USAGE, process.argv.slice(2))) {
  try {
    main();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`schemas: ${message}\n`);
    process.exitCode = 1;
  }
}
