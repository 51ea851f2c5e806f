/** Access a command needs to a file: reading it, or appending to it. */
export type FileAccess = 'read' | 'append';

/**
 * Returns why a file system call on a user's path failed, as a clause to
 * follow the file's description, such as `cannot be read: permission
 * denied. …`. The clause ends in a full stop. Node.js messages such as
 * `EACCES: permission denied, open '/x'` repeat the path and name the
 * system call instead of what to do.
 */
export function describeFileError(
  error: unknown,
  access: FileAccess = 'read',
): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const failed =
    access === 'read' ? 'cannot be read' : 'cannot be opened for appending';
  switch (code) {
    case 'ENOENT':
      return access === 'read'
        ? 'was not found.'
        : `${failed}: its directory was not found.`;
    case 'EACCES':
    case 'EPERM':
      return `${failed}: permission denied. ${permissionAdvice(access)}`;
    case 'EISDIR':
      return 'is a directory. Name a file.';
    case 'ENOTDIR':
      return access === 'read'
        ? 'was not found: a part of its path is a file, not a directory.'
        : `${failed}: a part of its path is a file, not a directory.`;
    case 'ELOOP':
      return `${failed}: its path is a loop of symbolic links.`;
    case 'ENAMETOOLONG':
      return `${failed}: its path or a name in it is too long.`;
    case 'EROFS':
      return `${failed}: the file system is read-only.`;
    default: {
      const reason = error instanceof Error ? error.message : String(error);
      return `${failed}: ${reason.replace(/\.$/, '')}.`;
    }
  }
}

function permissionAdvice(access: FileAccess): string {
  const permission =
    access === 'read'
      ? 'read permission on the file'
      : 'write permission on the file, or on its directory to create it,';
  return (
    `Give the user that runs this command ${permission} and search (x) ` +
    'permission on every directory above it.'
  );
}
