import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const FUNCTIONS_DIR = resolve(import.meta.dirname, '..', '..', 'functions');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('Lambda sources', () => {
  // A named import of zod keeps every message locale of zod in the
  // bundle (about 440 KB); the namespace import lets esbuild drop them.
  it('import zod only as a namespace', () => {
    const named = sourceFiles(FUNCTIONS_DIR)
      .filter((file) =>
        /import\s+\{[^}]*\}\s+from\s+'zod'/.test(readFileSync(file, 'utf8')),
      )
      .map((file) => relative(FUNCTIONS_DIR, file));

    expect(named).toEqual([]);
  });
});
