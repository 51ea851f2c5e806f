import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  readBoundedFile,
  readBoundedFileSync,
  UnreadableFileError,
} from '../../functions/adapters/bounded-file.js';

async function directoryWith(content: string) {
  const directory = await mkdtemp(join(tmpdir(), 'bounded-file-'));
  const file = join(directory, 'file.txt');
  await writeFile(file, content);
  return { directory, file };
}

/** Creates a named pipe that no process writes to. */
async function namedPipe(): Promise<string> {
  const { directory } = await directoryWith('');
  const pipe = join(directory, 'pipe');
  execFileSync('mkfifo', [pipe]);
  return pipe;
}

describe.each([
  ['readBoundedFile', readBoundedFile],
  [
    'readBoundedFileSync',
    async (file: string, maxBytes: number) =>
      readBoundedFileSync(file, maxBytes),
  ],
] as const)('%s', (_name, read) => {
  it('reads a file at the limit', async () => {
    const { file } = await directoryWith('12345');

    const bytes = await read(file, 5);

    expect(bytes.toString()).toBe('12345');
  });

  it('rejects a file over the limit', async () => {
    const { file } = await directoryWith('123456');

    const failure = read(file, 5);

    await expect(failure).rejects.toThrow(UnreadableFileError);
    await expect(read(file, 5)).rejects.toThrow(
      'is 6 bytes, more than the limit of 5 bytes',
    );
  });

  it('rejects /dev/zero at once', async () => {
    await expect(read('/dev/zero', 1000)).rejects.toMatchObject({
      kind: 'not-regular',
      message: 'is not a regular file (it is a device, pipe or socket)',
    });
  });

  it('rejects a named pipe without waiting', async () => {
    const pipe = await namedPipe();

    await expect(read(pipe, 1000)).rejects.toMatchObject({
      kind: 'not-regular',
    });
  });

  it('rejects a directory', async () => {
    const { directory } = await directoryWith('');

    await expect(read(directory, 1000)).rejects.toMatchObject({
      kind: 'directory',
      message: 'is a directory',
    });
  });

  it('raises ENOENT for a missing file', async () => {
    const { directory } = await directoryWith('');

    await expect(read(join(directory, 'missing'), 10)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
