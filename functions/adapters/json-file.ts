/**
 * Parses the text of a JSON file. A leading UTF-8 byte order mark is
 * ignored, as RFC 8259 section 8.1 allows, because Windows tools such as
 * PowerShell 5's `Set-Content -Encoding UTF8` write one and JSON.parse
 * rejects it as an invisible unexpected token.
 */
export function parseJsonFileText(text: string): unknown {
  return JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
}
