/**
 * Returns why a file system call on a user's path failed, as a clause to
 * follow the file's description, such as `cannot be read: permission
 * denied. …`. The clause ends in a full stop. Node.js messages such as
 * `EACCES: permission denied, open '/x'` repeat the path and name the
 * system call instead of what to do.
 */
export function describeFileError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'was not found.';
    case 'EACCES':
    case 'EPERM':
      return (
        'cannot be read: permission denied. Give the user that runs ' +
        'this command read permission on the file and search (x) ' +
        'permission on every directory above it.'
      );
    case 'ENOTDIR':
      return 'was not found: a part of its path is a file, not a directory.';
    case 'ELOOP':
      return 'cannot be read: its path is a loop of symbolic links.';
    case 'ENAMETOOLONG':
      return 'cannot be read: its path or a name in it is too long.';
    default: {
      const reason = error instanceof Error ? error.message : String(error);
      return `cannot be read: ${reason.replace(/\.$/, '')}.`;
    }
  }
}
