import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomicSync } from '../scripts/atomic-file.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const BENCHMARKS_HEADER = `# Benchmarks

Each section below is written by \`npm run bench\` and names the command,
the machine and the date of its run. Every figure is measured beside its
baseline in the same run, and ratios are quoted, so figures from different
machines stay comparable. Run \`npm run bench -- SUITE\` to refresh one
section. A load average above the number of cores means other processes
shared the machine during the run, which lowers absolute figures more
than ratios.
`;

/**
 * Replaces the section between `<!-- KIND:NAME:start -->` and its end
 * marker in a Markdown file of the repository (`file` relative to its
 * root, or absolute), or appends it. A missing file is created with
 * `header`. The file is replaced by rename, so a crash leaves the old
 * text.
 */
export async function updateSection(options: {
  file: string;
  header: string;
  kind: string;
  name: string;
  section: string;
}): Promise<void> {
  const path = resolve(ROOT, options.file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    text = options.header;
  }
  const start = `<!-- ${options.kind}:${options.name}:start -->`;
  const end = `<!-- ${options.kind}:${options.name}:end -->`;
  const block = `${start}\n${options.section}${end}\n`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) {
    text = text.slice(0, from) + block + text.slice(to + end.length + 1);
  } else {
    text = `${text.trimEnd()}\n\n${block}`;
  }
  writeFileAtomicSync(path, text);
}

/** Replaces (or appends) the section of one suite in BENCHMARKS.md. */
export async function updateBenchmarksFile(
  suite: string,
  section: string,
): Promise<void> {
  await updateSection({
    file: 'BENCHMARKS.md',
    header: BENCHMARKS_HEADER,
    kind: 'bench',
    name: suite,
    section,
  });
}
