import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'BENCHMARKS.md',
);

const HEADER = `# Benchmarks

Each section below is written by \`npm run bench\` and names the command,
the machine and the date of its run. Every figure is measured beside its
baseline in the same run, and ratios are quoted, so figures from different
machines stay comparable. Run \`npm run bench -- SUITE\` to refresh one
section.
`;

function markers(suite: string): [string, string] {
  return [`<!-- bench:${suite}:start -->`, `<!-- bench:${suite}:end -->`];
}

/** Replaces (or appends) the section of one suite in BENCHMARKS.md. */
export async function updateBenchmarksFile(
  suite: string,
  section: string,
): Promise<void> {
  let text: string;
  try {
    text = await readFile(FILE, 'utf8');
  } catch {
    text = HEADER;
  }
  const [start, end] = markers(suite);
  const block = `${start}\n${section}${end}\n`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) {
    text = text.slice(0, from) + block + text.slice(to + end.length + 1);
  } else {
    text = `${text.trimEnd()}\n\n${block}`;
  }
  await writeFile(FILE, text);
}
