/**
 * The logging calls the use cases make. Messages are short and fixed; ids
 * and counts go in `fields`, never emails, names or payloads.
 */
export interface Log {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
