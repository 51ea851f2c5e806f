import { chmod, writeFile } from 'node:fs/promises';

/**
 * User and group id of `nobody` on Debian and most Linux distributions,
 * for child processes of tests that run as root.
 */
const NOBODY = 65_534;

/**
 * Writes `text` to `file` with mode 000, so that a process without root
 * privileges gets EACCES when it opens the file.
 */
export async function writeUnreadableFile(
  file: string,
  text: string,
): Promise<void> {
  await writeFile(file, text);
  await chmod(file, 0o000);
}

/**
 * Returns the spawn options that make a child process subject to file
 * permissions: `nobody`'s ids when the tests run as root, which reads
 * any file, else none. The child must be able to read the repository.
 */
export function unprivilegedSpawnOptions(): { uid?: number; gid?: number } {
  return process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
}
