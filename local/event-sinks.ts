import { statSync, unlinkSync } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';
import { blockedPortReason } from './fetch-failure.js';

/** Destinations of each event that `npm start` receives from the sales queue. */
export interface EventSinkOptions {
  /** Writes one line of output, such as stdout. */
  write: (line: string) => void;
  /** File that gets each event appended as one JSON line. */
  eventsFile?: string;
  /** URL that gets each event in a JSON POST request. */
  webhookUrl?: string;
  /** Time in ms a webhook has to respond before the delivery fails. */
  webhookTimeoutMs?: number;
}

/** A webhook that did not accept an event. */
export class WebhookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookError';
  }
}

const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * Opens the events file for appending, so that a path that cannot be
 * written stops `npm start` at once instead of failing on every event.
 * Returns true when the file did not exist and this call created it.
 */
export async function checkEventsFile(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'ax');
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const handle = await open(path, 'a');
  await handle.close();
  return false;
}

/**
 * Removes an events file that checkEventsFile created when it is still
 * empty, so that a start that failed leaves no file behind. Runs in a
 * process `exit` listener, so it is synchronous and ignores errors.
 */
export function removeEmptyEventsFile(path: string): void {
  try {
    if (statSync(path).size === 0) unlinkSync(path);
  } catch {
    // A file that is gone or cannot be checked is left as it is.
  }
}

/**
 * Returns the function that delivers one routed event: first to the
 * webhook, then to the events file, then to `write`. It rejects when the
 * webhook or the file fails, before anything is written, so the caller can
 * keep the message on the queue and deliver it again later.
 */
export function eventDelivery(
  options: EventSinkOptions,
): (event: unknown) => Promise<void> {
  const timeoutMs = options.webhookTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  return async (event) => {
    const line = `${JSON.stringify(event)}\n`;
    if (options.webhookUrl !== undefined) {
      await postEvent(options.webhookUrl, line, timeoutMs);
    }
    if (options.eventsFile !== undefined) {
      await appendFile(options.eventsFile, line);
    }
    options.write(line);
  };
}

async function postEvent(
  url: string,
  body: string,
  timeoutMs: number,
): Promise<void> {
  const request = webhookRequest(url);
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const target = `MQL_WEBHOOK_URL (${originOf(url)})`;
    if (error instanceof Error && error.name === 'TimeoutError') {
      throw new WebhookError(
        `The webhook POST to ${target} timed out after ${timeoutMs} ms, the limit for a response. Check that the webhook is running and responds within ${timeoutMs} ms.`,
      );
    }
    const blocked = blockedPortReason(error, url);
    if (blocked !== undefined) {
      throw new WebhookError(
        `The webhook POST to ${target} failed: ${blocked}. Serve the webhook on another port and set MQL_WEBHOOK_URL to it.`,
      );
    }
    throw new WebhookError(
      `The webhook POST to ${target} failed: ${failureReason(error)}.`,
    );
  }
  // The body is drained so that the connection can be reused.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) {
    throw new WebhookError(
      `The webhook at MQL_WEBHOOK_URL (${originOf(url)}) responded with status ${response.status}; it must respond with 2xx.`,
    );
  }
}

/**
 * Moves the user info of a webhook URL into an HTTP Basic Authorization
 * header, as curl does. fetch rejects a URL with credentials, and its
 * error message would quote the whole URL with the password and query.
 */
function webhookRequest(url: string): {
  url: string;
  headers: Record<string, string>;
} {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
  };
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') {
    return { url, headers };
  }
  const credentials = `${decodeUserInfo(parsed.username)}:${decodeUserInfo(parsed.password)}`;
  headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.href, headers };
}

/**
 * Decodes the percent escapes of a URL's user name or password. Text with
 * a malformed escape such as `%zz` is kept whole as typed, so its valid
 * escapes stay encoded too.
 */
function decodeUserInfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Returns the reason a request failed. fetch rejects with "fetch failed"
 * and keeps the reason, such as a refused or closed connection, in `cause`.
 */
function failureReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { cause } = error;
  return cause instanceof Error ? cause.message : error.message;
}

/**
 * Returns the scheme, host and port of a URL. The path, query and user
 * info are left out because webhook URLs often carry a token there.
 */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
}
