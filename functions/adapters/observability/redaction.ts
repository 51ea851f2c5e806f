import { sha256Hex } from '../../domain/canonical-json.js';

/**
 * Scoped npm package folders in a path, such as `node_modules/@aws-sdk/`
 * in a stack frame. Their `@` is the only one a logged text may keep.
 */
const SCOPED_PACKAGE_FOLDER = /node_modules\/@[a-z0-9][a-z0-9._~-]*\//g;

/**
 * Replaces a text with an `@` outside a scoped package folder whole, by
 * `[email sha256:<hex>]`: the SHA-256 of the text in UTF-8, as
 * `leadIdSha256` in "Lead Erased" is for a lead id. A pattern would miss
 * valid addresses such as `"Jane Doe"@acme.example`, `a@b` and
 * `jane@[10.0.0.1]`. Support finds the lines of a known lead id by
 * hashing it: `printf %s ID | sha256sum`.
 */
export function redactEmails(text: string): string {
  if (!text.replaceAll(SCOPED_PACKAGE_FOLDER, '').includes('@')) return text;
  return `[email sha256:${sha256Hex(text)}]`;
}

/**
 * JSON replacer for the Powertools Logger: applies redactEmails to every
 * string of a log line, error messages and stacks included. Lead ids are
 * Segment user ids, and some tracking setups use the email address.
 */
export function redactLogValue(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? redactEmails(value) : value;
}
