import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { updateSection } from '../../bench/report-file.js';

describe('updateSection', () => {
  it('replaces the file by rename', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'report-file-'));
    const file = join(directory, 'BENCHMARKS.md');
    writeFileSync(
      file,
      '# Benchmarks\n\n<!-- bench:core:start -->\nold\n<!-- bench:core:end -->\n',
    );
    const before = statSync(file).ino;

    await updateSection({
      file,
      header: '# Benchmarks\n',
      kind: 'bench',
      name: 'core',
      section: 'new\n',
    });

    // A file written in place keeps its inode, and a crash in the middle
    // of that write leaves it cut off. A renamed file is whole or absent.
    expect(statSync(file).ino).not.toBe(before);
    expect(readFileSync(file, 'utf8')).toBe(
      '# Benchmarks\n\n<!-- bench:core:start -->\nnew\n<!-- bench:core:end -->\n',
    );
    expect(readdirSync(directory)).toEqual(['BENCHMARKS.md']);
  });
});
