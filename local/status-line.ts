import { redactEmails } from '../functions/adapters/observability/redaction.js';

/**
 * Returns the stderr line of `npm start` for a status message and the
 * error behind it, if any. The error's message is redacted as handler
 * logs are: an error of a handler or of the sweep can quote a lead id,
 * and some tracking setups use the email address as the lead id.
 */
export function statusLine(message: string, error?: unknown): string {
  const detail =
    error === undefined ? '' : `: ${redactEmails(errorMessage(error))}`;
  return `[mql-engine] ${message}${detail}\n`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
