import { resolve } from 'node:path';
import { UsageError } from './replay/errors.js';

/** Absolute path of the package root, where npm runs every script. */
export const PACKAGE_ROOT = resolve(import.meta.dirname, '..');

/**
 * Resolves a path that the user gave, in an argument or a variable,
 * against the directory they ran npm in. npm runs scripts in the package
 * root and sets INIT_CWD to that directory, so that
 * `cd models && npm run model -- check x.json` reads models/x.json.
 * Without INIT_CWD, as when a script runs without npm, the current
 * directory is used. An absolute path is returned as it is, normalized.
 */
export function resolveUserPath(
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const initCwd = env.INIT_CWD;
  const base =
    initCwd === undefined || initCwd.trim() === '' ? process.cwd() : initCwd;
  return resolve(base, path);
}

/**
 * Resolves a path argument as resolveUserPath does. Raises UsageError
 * naming the argument when the path is empty or blank, because resolve()
 * would read it as the base directory itself.
 *
 * @param name the argument in messages, such as `--events` or `FILE`
 * @param expected what the path must name, such as `a model JSON file`
 */
export function resolvePathArgument(
  path: string,
  name: string,
  expected: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  if (path.trim() === '') {
    throw new UsageError(
      `Invalid ${name}: the path is empty. Give the path of ${expected}.`,
    );
  }
  return resolveUserPath(path, env);
}

/**
 * Returns the value of an optional variable, or undefined when it is
 * unset, empty or only white space, because `NAME= command` is the
 * shell's way to run a command without it.
 */
export function optionalVariable(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}
